package load

import (
	"slices"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/tests/workload"
	"github.com/fairwayhq/fairway/translator"
)

func rdsFilter(t *testing.T, route string) *listenerv3.Filter {
	t.Helper()
	hcm, err := anypb.New(&hcmv3.HttpConnectionManager{StatPrefix: route, RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{
		Rds: &hcmv3.Rds{RouteConfigName: route},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return &listenerv3.Filter{Name: "envoy.filters.network.http_connection_manager", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: hcm}}
}

func anyOf(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// testListeners: an https listener with a chain per host and a default
// chain, an http one, and a TCP passthrough whose filter names no table.
func testListeners(t *testing.T) []*listenerv3.Listener {
	tcp := anyOf(t, &tcpv3.TcpProxy{StatPrefix: "tcp-5432", ClusterSpecifier: &tcpv3.TcpProxy_Cluster{Cluster: "db/pg/5432"}})
	return []*listenerv3.Listener{
		{Name: "http", FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{rdsFilter(t, "http")}}}},
		{Name: "https", FilterChains: []*listenerv3.FilterChain{
			{Filters: []*listenerv3.Filter{rdsFilter(t, "https/b.example.com")}},
			{Filters: []*listenerv3.Filter{rdsFilter(t, "https/a.example.com")}},
		}, DefaultFilterChain: &listenerv3.FilterChain{Filters: []*listenerv3.Filter{rdsFilter(t, "https")}}},
		{Name: "tcp-5432", FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{Name: "tcp", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: tcp}}}}}},
	}
}

// TestListenerRoutes: the load clients follow route tables as Envoy does,
// so they must read every table a listener's connection managers name,
// from SotW and delta responses alike.
func TestListenerRoutes(t *testing.T) {
	ls := testListeners(t)
	sotw := &discoveryv3.DiscoveryResponse{TypeUrl: resourcev3.ListenerType}
	delta := &discoveryv3.DeltaDiscoveryResponse{TypeUrl: resourcev3.ListenerType}
	for _, l := range ls {
		sotw.Resources = append(sotw.Resources, anyOf(t, l))
		delta.Resources = append(delta.Resources, &discoveryv3.Resource{Name: l.Name, Resource: anyOf(t, l)})
	}
	want := map[string][]string{"http": {"http"}, "https": {"https/b.example.com", "https/a.example.com", "https"}, "tcp-5432": nil}
	for name, m := range map[string]proto.Message{"sotw": sotw, "delta": delta} {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := listenerRoutes(b, name == "delta")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) != len(want) {
			t.Errorf("%s: listeners %v, want %v", name, got, want)
		}
		for l, routes := range want {
			if !slices.Equal(got[l], routes) {
				t.Errorf("%s: listener %s names %v, want %v", name, l, got[l], routes)
			}
		}
	}
}

// TestTrackListenersFollowsRemovals: a delta client forgets the tables of
// a removed listener; a SotW response replaces the whole set.
func TestTrackListenersFollowsRemovals(t *testing.T) {
	s := &adsState{client: &client{delta: true}, listenerRoutes: map[string][]string{"https": {"https/gone.example.com"}, "http": {"http"}}}
	b, err := proto.Marshal(&discoveryv3.DeltaDiscoveryResponse{TypeUrl: resourcev3.ListenerType, RemovedResources: []string{"https"}})
	if err != nil {
		t.Fatal(err)
	}
	names, err := s.trackListeners(response{removed: []string{"https"}}, b)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"http"}) {
		t.Errorf("after removing https: %v, want [http]", names)
	}
	sotw := &adsState{client: &client{}, listenerRoutes: map[string][]string{"old": {"old"}}}
	b, err = proto.Marshal(&discoveryv3.DiscoveryResponse{TypeUrl: resourcev3.ListenerType, Resources: []*anypb.Any{anyOf(t, testListeners(t)[0])}})
	if err != nil {
		t.Fatal(err)
	}
	if names, err = sotw.trackListeners(response{}, b); err != nil || !slices.Equal(names, []string{"http"}) {
		t.Errorf("SotW: %v, %v, want [http]", names, err)
	}
}

// TestListenerRoutesOfSplitHTTPS: the https listener fairway builds for a
// TLS workload has a chain per host, and the load clients must read from
// it every https/<host> table, or a path change on a TLS host would never
// reach them. (The workload has no default certificate, so there is no
// default chain and no https table to follow.)
func TestListenerRoutesOfSplitHTTPS(t *testing.T) {
	scale := workload.Small.WithTLS()
	in := workload.Generate(scale)
	e := translator.NewEngine(translator.Options{SSLRedirect: scale.SSLRedirect})
	e.Sync(in)
	out := e.Output()
	if out.Err != nil {
		t.Fatal(out.Err)
	}
	l := out.Envoy.Get(translator.KindListener, envoy.HTTPSListenerName)
	if l == nil {
		t.Fatal("no https listener")
	}
	resp, err := proto.Marshal(&discoveryv3.DiscoveryResponse{TypeUrl: resourcev3.ListenerType, Resources: []*anypb.Any{{TypeUrl: resourcev3.ListenerType, Value: l.Bytes}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := listenerRoutes(resp, false)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, ing := range in.Ingresses {
		want = append(want, envoy.HTTPSHostRouteConfig(ing.Spec.Rules[0].Host))
	}
	slices.Sort(want)
	names := slices.Sorted(slices.Values(got[envoy.HTTPSListenerName]))
	if !slices.Equal(names, want) {
		t.Errorf("the https listener names %d tables, want %d (https/<host> per TLS host); first: %v", len(names), len(want), names[:min(3, len(names))])
	}
}
