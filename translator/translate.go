package translator

import (
	"cmp"
	"slices"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/fairwayhq/fairway/envoy"
)

// translation is the state of one Translate call.
type translation struct {
	opts     Options
	idx      *index
	problems problems
	// clusters are the Service ports that something routes to, by name.
	clusters map[clusterKey]string
}

// Translate computes the fleet's Envoy resources from in. It never fails:
// whatever is wrong with an object becomes a Problem on that object, and the
// rest of the config is built as if the object were not there. Options
// should pass Validate; zero fields take their defaults.
func Translate(in Input, opts Options) Result {
	t := &translation{
		opts:     opts.WithDefaults(),
		idx:      newIndex(in),
		clusters: map[clusterKey]string{},
	}
	served := servedIngresses(in, t.opts.IngressController)
	lbPorts := t.loadBalancerPorts()
	httpClaim, httpsClaim := ingressClaims(served, t.opts)
	claims := make([]*portClaim, 0, len(lbPorts)+2)
	for _, p := range lbPorts {
		if p.claim != nil {
			claims = append(claims, p.claim)
		}
	}
	for _, c := range []*portClaim{httpClaim, httpsClaim} {
		if c != nil {
			claims = append(claims, c)
		}
	}
	settleClaims(claims)

	var res Result
	res.Listeners, res.Admitted.Services = t.layer4(lbPorts)
	t.layer7(served, httpClaim, httpsClaim, &res)
	t.clusterResources(&res)
	if t.opts.Proxyless {
		t.proxyless(&res)
	}
	slices.SortFunc(res.Listeners, func(a, b *listenerv3.Listener) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(res.Routes, func(a, b *routev3.RouteConfiguration) int { return cmp.Compare(a.Name, b.Name) })
	res.Problems = t.problems.sorted()
	res.Admitted.sort()
	return res
}

// ingressClaims dates the Ingress listeners' port claims: http by the oldest
// served Ingress, https by the oldest served Ingress with TLS. No such
// Ingress, no claim, so an unused Ingress port is free for a Service.
func ingressClaims(served []*networkingv1.Ingress, opts Options) (http, https *portClaim) {
	if len(served) == 0 {
		return nil, nil
	}
	claim := func(ing *networkingv1.Ingress, port int32, listener string) *portClaim {
		return &portClaim{
			port: port, protocol: corev1.ProtocolTCP, since: &ing.ObjectMeta,
			ref:  ObjectRef{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name},
			what: "the Ingress " + listener + " listener",
		}
	}
	http = claim(served[0], opts.HTTPPort, envoy.HTTPListenerName)
	for _, ing := range served {
		if len(ing.Spec.TLS) > 0 {
			https = claim(ing, opts.HTTPSPort, envoy.HTTPSListenerName)
			break
		}
	}
	return http, https
}

// layer7 builds the Ingress listeners and route tables for the listener
// claims that won, and admits the Ingresses that got a listener.
func (t *translation) layer7(served []*networkingv1.Ingress, httpClaim, httpsClaim *portClaim, res *Result) {
	httpWon := httpClaim != nil && httpClaim.won()
	httpsWon := httpsClaim != nil && httpsClaim.won()
	for _, ing := range served {
		ref := ObjectRef{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name}
		hasTLS := len(ing.Spec.TLS) > 0
		if !httpWon {
			t.problems.add(ref, PortConflict, "%s", httpClaim.conflictMessage())
		}
		if hasTLS && !httpsWon {
			t.problems.add(ref, PortConflict, "%s", httpsClaim.conflictMessage())
		}
		if httpWon || (hasTLS && httpsWon) {
			res.Admitted.Ingresses = append(res.Admitted.Ingresses, ref)
		}
	}
	if !httpWon && !httpsWon {
		return
	}
	vhosts := virtualHosts(t.ingressRoutes(served))
	if httpWon {
		table := make([]*routev3.VirtualHost, len(vhosts))
		for i, v := range vhosts {
			table[i] = v.vh
		}
		res.Routes = append(res.Routes, envoy.RouteConfiguration(envoy.HTTPRouteConfig, table))
		res.Listeners = append(res.Listeners, envoy.HTTPListener(envoy.HTTPListenerName, uint32(t.opts.HTTPPort), envoy.HTTPRouteConfig))
	}
	if httpsWon {
		t.https(served, vhosts, res)
	}
}

// https adds the TLS listener, its route table and secrets. A listener
// needs a filter chain, so without one usable certificate there is none.
func (t *translation) https(served []*networkingv1.Ingress, vhosts []virtualHost, res *Result) {
	tlsc := t.tlsHosts(served)
	chains := tlsc.chains()
	if len(chains) == 0 {
		return
	}
	var table []*routev3.VirtualHost
	for _, v := range vhosts {
		if tlsc.covers(v.host) {
			table = append(table, v.vh)
		}
	}
	res.Routes = append(res.Routes, envoy.RouteConfiguration(envoy.HTTPSRouteConfig, table))
	res.Listeners = append(res.Listeners, envoy.HTTPSListener(envoy.HTTPSListenerName, uint32(t.opts.HTTPSPort), envoy.HTTPSRouteConfig, chains))
	res.Secrets = tlsc.sortedSecrets()
}

// clusterResources emits a cluster and its endpoints for every Service port
// that a listener or route uses, and nothing for unused ones.
func (t *translation) clusterResources(res *Result) {
	type named struct {
		name string
		key  clusterKey
	}
	all := make([]named, 0, len(t.clusters))
	for k, name := range t.clusters {
		all = append(all, named{name, k})
	}
	slices.SortFunc(all, func(a, b named) int { return cmp.Compare(a.name, b.name) })
	res.Clusters = make([]*clusterv3.Cluster, 0, len(all))
	res.Endpoints = make([]*endpointv3.ClusterLoadAssignment, 0, len(all))
	for _, c := range all {
		res.Clusters = append(res.Clusters, envoy.EDSCluster(c.name))
		res.Endpoints = append(res.Endpoints, t.loadAssignment(c.key, c.name))
	}
}
