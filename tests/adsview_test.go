package tests

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// adsView is what an Envoy holds: one delta ADS stream, subscribed to
// every type, applying and ACKing each response as it comes. Tests wait
// on it for the config they expect, and read which types were pushed.
type adsView struct {
	t      *testing.T
	mu     sync.Mutex
	res    map[string]map[string]*anypb.Any // type URL → name → resource
	pushes []string                         // type URLs, in order of arrival
	err    error                            // why the stream ended
}

var viewTypes = []string{resourcev3.ClusterType, resourcev3.EndpointType, resourcev3.ListenerType, resourcev3.RouteType, resourcev3.SecretType}

func watchADS(t *testing.T, addr, nodeID string) *adsView {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(dial(t, addr)).DeltaAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v := &adsView{t: t, res: map[string]map[string]*anypb.Any{}}
	node := &corev3.Node{Id: nodeID, Cluster: "fleet-test"}
	var sendMu sync.Mutex
	send := func(req *discoveryv3.DeltaDiscoveryRequest) error {
		sendMu.Lock()
		defer sendMu.Unlock()
		req.Node = node
		return stream.Send(req)
	}
	for _, typ := range viewTypes {
		if err := send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: typ}); err != nil {
			t.Fatal(err)
		}
	}
	go func() {
		for {
			resp, err := stream.Recv()
			if err != nil {
				v.mu.Lock()
				v.err = err
				v.mu.Unlock()
				return
			}
			v.apply(resp)
			if send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resp.GetTypeUrl(), ResponseNonce: resp.GetNonce()}) != nil {
				return
			}
		}
	}()
	return v
}

func (v *adsView) apply(resp *discoveryv3.DeltaDiscoveryResponse) {
	v.mu.Lock()
	defer v.mu.Unlock()
	typ := resp.GetTypeUrl()
	if v.res[typ] == nil {
		v.res[typ] = map[string]*anypb.Any{}
	}
	for _, r := range resp.GetResources() {
		v.res[typ][r.GetName()] = r.GetResource()
	}
	for _, name := range resp.GetRemovedResources() {
		delete(v.res[typ], name)
	}
	v.pushes = append(v.pushes, typ)
}

// names of a type the view holds now, sorted.
func (v *adsView) names(typ string) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []string
	for name := range v.res[typ] {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

func (v *adsView) has(typ, name string) bool { return slices.Contains(v.names(typ), name) }

// get unpacks one resource, or returns nil.
func getAs[M proto.Message](v *adsView, typ, name string, m M) M {
	v.mu.Lock()
	a := v.res[typ][name]
	v.mu.Unlock()
	if a == nil || a.UnmarshalTo(m) != nil {
		var zero M
		return zero
	}
	return m
}

func (v *adsView) listener(name string) *listenerv3.Listener {
	return getAs(v, resourcev3.ListenerType, name, &listenerv3.Listener{})
}

func (v *adsView) cluster(name string) *clusterv3.Cluster {
	return getAs(v, resourcev3.ClusterType, name, &clusterv3.Cluster{})
}

func (v *adsView) routes(name string) *routev3.RouteConfiguration {
	return getAs(v, resourcev3.RouteType, name, &routev3.RouteConfiguration{})
}

// endpoints are the addresses of an EDS resource, sorted.
func (v *adsView) endpoints(name string) []string {
	cla := getAs(v, resourcev3.EndpointType, name, &endpointv3.ClusterLoadAssignment{})
	var out []string
	for _, lle := range cla.GetEndpoints() {
		for _, lb := range lle.GetLbEndpoints() {
			out = append(out, lb.GetEndpoint().GetAddress().GetSocketAddress().GetAddress())
		}
	}
	slices.Sort(out)
	return out
}

// virtualHosts are the domains of a route configuration's virtual hosts.
func (v *adsView) virtualHosts(route string) []string {
	var out []string
	for _, vh := range v.routes(route).GetVirtualHosts() {
		out = append(out, vh.GetDomains()...)
	}
	slices.Sort(out)
	return out
}

// mark is the number of pushes so far; pushesSince lists the types pushed
// after it.
func (v *adsView) mark() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.pushes)
}

func (v *adsView) pushesSince(mark int) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.pushes[mark:])
}

// alive fails the test if the stream has ended.
func (v *adsView) alive() {
	v.t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.err != nil {
		v.t.Fatalf("the ADS stream ended: %v", v.err)
	}
}

// waitFor waits until cond holds on the view.
func (v *adsView) waitFor(d time.Duration, what string, cond func() bool) {
	v.t.Helper()
	eventually(v.t, d, what, cond)
}
