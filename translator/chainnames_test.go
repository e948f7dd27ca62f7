package translator

import (
	"strings"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/fairwayhq/fairway/envoy"
)

// TestValidateFlagsRepeatedChainNames: a listener whose filter chains
// share a name (Envoy rejects it whole) fails validation, and the chains
// the translator builds for one Secret that is both the default
// certificate and two hosts' do not.
func TestValidateFlagsRepeatedChainNames(t *testing.T) {
	c := &tlsConfig{hostSecret: map[string]string{"a.example.com": "ns/cert", "b.example.com": "ns/cert"}, defaultSecret: "ns/cert"}
	chains := c.chains()
	bad := envoy.HTTPSListener(envoy.HTTPSListenerName, "0.0.0.0", 443, chains, nil, envoy.ClientAddress{})
	for _, fc := range bad.GetFilterChains() {
		fc.Name = "ns/cert"
	}
	errs := uniqueChainNames(bad)
	if len(errs) != 2 || !strings.Contains(errs[0].Error(), `filter_chains[1]: name "ns/cert" is not unique`) {
		t.Errorf("repeated chain names: errors = %v", errs)
	}
	res := Result{Listeners: []*listenerv3.Listener{bad}}
	if err := res.Validate(); err == nil || !strings.Contains(err.Error(), "not unique within the listener") {
		t.Errorf("Validate = %v, want the repeated chain name flagged", err)
	}
	if errs := uniqueChainNames(envoy.HTTPSListener(envoy.HTTPSListenerName, "0.0.0.0", 443, chains, nil, envoy.ClientAddress{})); len(errs) != 0 {
		t.Errorf("the translator's chains: %v", errs)
	}
}

// TestValidateFlagsRepeatedDomains: a route configuration with two virtual
// hosts of one domain or one name (Envoy rejects it whole) fails
// validation, naming the table and the domain.
func TestValidateFlagsRepeatedDomains(t *testing.T) {
	rc := &routev3.RouteConfiguration{Name: "https/a.example.com", VirtualHosts: []*routev3.VirtualHost{
		{Name: "a.example.com", Domains: []string{"a.example.com"}},
		{Name: envoy.MisdirectedVirtualHost, Domains: []string{"A.example.com", "*"}},
		{Name: envoy.MisdirectedVirtualHost, Domains: []string{"b.example.com"}},
	}}
	errs := uniqueVirtualHosts(rc)
	if len(errs) != 2 || !strings.Contains(errs[0].Error(), `domain "A.example.com" is not unique`) || !strings.Contains(errs[1].Error(), `name "*misdirected" is not unique`) {
		t.Errorf("errors = %v", errs)
	}
	res := Result{Routes: []*routev3.RouteConfiguration{rc}}
	if err := res.Validate(); err == nil || !strings.Contains(err.Error(), "is not unique") {
		t.Errorf("Validate = %v, want the repeated domain flagged", err)
	}
}
