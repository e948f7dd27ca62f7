package envoy

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

func listenerFilterNames(l *listenerv3.Listener) []string {
	var names []string
	for _, f := range l.ListenerFilters {
		names = append(names, f.Name)
	}
	return names
}

// TestProxyProtocolListeners: the PROXY protocol filter comes first on the
// TCP listeners that take it (before tls_inspector on https), and nowhere
// without it.
func TestProxyProtocolListeners(t *testing.T) {
	on, off := ClientAddress{ProxyProtocol: true}, ClientAddress{}
	for _, c := range []struct {
		l    *listenerv3.Listener
		want []string
	}{
		{HTTPListener(HTTPListenerName, DefaultListenAddress, 80, HTTPRouteConfig, nil, on), []string{proxyProtocolFilter}},
		{HTTPSListener(HTTPSListenerName, DefaultListenAddress, 443, []TLSChain{{Secret: "a/b", RouteConfig: HTTPSRouteConfig}}, nil, on), []string{proxyProtocolFilter, tlsInspectorFilter}},
		{TCPProxyListener(L4Listener{Name: "tcp-5432", Address: DefaultListenAddress, Port: 5432, Cluster: "db/pg/5432", ClientAddress: on}), []string{proxyProtocolFilter}},
		{HTTPListener(HTTPListenerName, DefaultListenAddress, 80, HTTPRouteConfig, nil, off), nil},
		{HTTPSListener(HTTPSListenerName, DefaultListenAddress, 443, []TLSChain{{Secret: "a/b", RouteConfig: HTTPSRouteConfig}}, nil, off), []string{tlsInspectorFilter}},
		{TCPProxyListener(L4Listener{Name: "tcp-5432", Address: DefaultListenAddress, Port: 5432, Cluster: "db/pg/5432", ClientAddress: off}), nil},
	} {
		got := listenerFilterNames(c.l)
		if len(got) != len(c.want) {
			t.Errorf("%s: listener filters %v, want %v", c.l.Name, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: listener filters %v, want %v", c.l.Name, got, c.want)
			}
		}
	}
}

// TestXFFTrustedHops: both HTTP listeners' connection managers trust the
// given number of X-Forwarded-For hops, on top of use_remote_address.
func TestXFFTrustedHops(t *testing.T) {
	ca := ClientAddress{XFFTrustedHops: 2}
	for _, l := range []*listenerv3.Listener{
		HTTPListener(HTTPListenerName, DefaultListenAddress, 80, HTTPRouteConfig, nil, ca),
		HTTPSListener(HTTPSListenerName, DefaultListenAddress, 443, []TLSChain{{Secret: "a/b", RouteConfig: HTTPSRouteConfig}, {Secret: "a/c", ServerNames: []string{"c"}, RouteConfig: HTTPSHostRouteConfig("c")}}, nil, ca),
	} {
		for _, fc := range l.FilterChains {
			hcm := unpack(t, fc.Filters[0].GetTypedConfig(), &hcmv3.HttpConnectionManager{})
			if hcm.XffNumTrustedHops != 2 || !hcm.UseRemoteAddress.GetValue() {
				t.Errorf("%s: xff_num_trusted_hops %d, use_remote_address %v", l.Name, hcm.XffNumTrustedHops, hcm.UseRemoteAddress.GetValue())
			}
		}
	}
}

// TestRouteConfigurationSetsRealIP: the fleet's route tables overwrite
// X-Real-IP with the trusted client address, once per table.
func TestRouteConfigurationSetsRealIP(t *testing.T) {
	rc := RouteConfiguration(HTTPRouteConfig, nil)
	if len(rc.RequestHeadersToAdd) != 1 {
		t.Fatalf("request_headers_to_add %v", rc.RequestHeadersToAdd)
	}
	h := rc.RequestHeadersToAdd[0]
	if h.Header.Key != "x-real-ip" || h.Header.Value != "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%" || h.AppendAction != corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD {
		t.Errorf("X-Real-IP header option %v", h)
	}
	if err := rc.Validate(); err != nil {
		t.Error(err)
	}
}
