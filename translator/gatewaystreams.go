package translator

import (
	"slices"
	"strings"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/translator/gatewayapi"
	"github.com/fairwayhq/fairway/translator/policy"
)

// tlsPort is a Gateway's HTTPS and TLS listeners on one port: one Envoy
// listener that picks a filter chain by SNI. An HTTPS listener's chain
// ends TLS with its certificate and routes with its own route
// configuration; a TLS listener's TLSRoutes get a chain per name that
// passes the connection through (Passthrough) or ends TLS with the
// listener's certificate and proxies the bytes (Terminate).
func (b *gatewayBuild) tlsPort(gp *gatewayPort, name, address string) error {
	var chains []envoy.TLSChain
	var pass []envoy.PassthroughChain
	var refs []Ref
	for _, l := range gp.listeners {
		if l.TLS == nil {
			continue
		}
		if l.TLS.Mode == gatewayv1.TLSModePassthrough {
			pass = append(pass, b.passChains(l, gp.listeners, "")...)
			continue
		}
		if len(l.TLS.Certificates) == 0 {
			continue
		}
		cert := l.TLS.Certificates[0]
		secret := envoy.GatewaySecretName(cert.Namespace, cert.Name)
		if !b.secret(secret, cert) {
			continue
		}
		if l.Protocol == gatewayv1.TLSProtocolType { // Terminate: TLS ends here, the TLSRoutes get the bytes
			pass = append(pass, b.passChains(l, gp.listeners, secret)...)
			refs = append(refs, Ref{KindSecret, secret})
			continue
		}
		rc := envoy.GatewayRouteConfigName(gp.gw.Namespace, gp.gw.Name, gp.port, l.Name)
		b.put(KindRoute, composeRouteConfig(rc, withMisdirected(b.virtualHosts(gp.port, []*gatewayapi.Listener{l}, gp.listeners), l, gp.listeners)))
		ch := envoy.TLSChain{Secret: secret, RouteConfig: rc}
		if l.Hostname != "" {
			ch.ServerNames = []string{l.Hostname}
		}
		chains = append(chains, ch)
		refs = append(refs, Ref{KindRoute, rc}, Ref{KindSecret, secret})
	}
	for _, p := range pass {
		refs = append(refs, l4Refs(p.Cluster, p.Weighted)...)
	}
	if len(chains) == 0 && len(pass) == 0 {
		return nil
	}
	l := envoy.WithPassthrough(envoy.HTTPSListener(name, address, uint32(gp.port), chains, b.e.logs.HTTP, b.e.opts.clientAddress()), pass, b.e.logs.TCP)
	if gp.address != "" {
		envoy.Freebind(l)
	}
	r, err := encode(name, l, refs)
	if err != nil {
		return err
	}
	b.put(KindListener, r)
	return nil
}

// secret publishes a listener certificate under its Gateway name; false
// when the Secret is gone or unusable (the front end said so already).
func (b *gatewayBuild) secret(name string, ref gatewayapi.SecretRef) bool {
	r := b.secretResource(name, ref)
	if r == nil {
		return false
	}
	b.put(KindSecret, r)
	return true
}

// secretResource is a listener certificate under its Gateway name; nil
// when the Secret is gone or unusable.
func (b *gatewayBuild) secretResource(name string, ref gatewayapi.SecretRef) *Resource {
	s := b.e.idx.secrets[nsName{ref.Namespace, ref.Name}]
	if s == nil {
		return nil
	}
	c := checkSecret(s, ref.Namespace, ref.Name)
	if c.err != nil || c.secret == nil {
		return nil
	}
	r, err := encode(name, envoy.TLSSecret(name, s.Data["tls.crt"], s.Data["tls.key"]), nil)
	if err != nil {
		return nil
	}
	return r
}

// passChains are a TLS listener's chains: one per SNI name of its
// TLSRoutes, the oldest route winning a name. A name is the listener's
// only when it is the most specific of its port's listeners (peers) to
// take it, as the Gateway API's listener isolation says: a TLSRoute on a
// *.example.com listener never gets a.example.com from a listener that
// names it, and no name gets two chains, which Envoy would refuse with
// the whole listener. With secret (a Terminate listener's certificate)
// each chain ends TLS first; without, the client's TLS reaches the
// backend as it was sent.
func (b *gatewayBuild) passChains(l *gatewayapi.Listener, peers []*gatewayapi.Listener, secret string) []envoy.PassthroughChain {
	var out []envoy.PassthroughChain
	seen := map[string]bool{}
	for _, sr := range l.Streams {
		hosts := sr.Hostnames
		if len(hosts) == 0 {
			hosts = []string{l.Hostname}
		}
		hosts = slices.DeleteFunc(slices.Clone(hosts), func(h string) bool { return seen[h] || mostSpecific(h, peers) != l })
		if len(hosts) == 0 {
			continue // an older route has every name: no cluster of this one is used
		}
		cluster, weighted := b.streamClusters(sr, false)
		for _, h := range hosts {
			if seen[h] {
				continue
			}
			seen[h] = true
			out = append(out, envoy.PassthroughChain{ServerName: h, Cluster: cluster, Weighted: weighted, Secret: secret})
		}
	}
	return out
}

// streamPort is a Gateway's TCP or UDP listener on one port: its oldest
// attached route's backends take the connections (the Gateway API lets
// an implementation pick; a second route on one TCP listener has nothing
// to tell connections apart by).
func (b *gatewayBuild) streamPort(gp *gatewayPort, name, address string) error {
	l := gp.listeners[0]
	if len(l.Streams) == 0 {
		return nil
	}
	cluster, weighted := b.streamClusters(l.Streams[0], gp.udp)
	if cluster == "" {
		return nil
	}
	spec := envoy.L4Listener{Name: name, Address: address, Port: uint32(gp.port), Cluster: cluster, Weighted: weighted,
		Freebind: gp.address != "", ClientAddress: b.e.opts.clientAddress()}
	var r *Resource
	var err error
	if gp.udp {
		spec.Log, spec.ClientAddress = b.e.logs.UDP, envoy.ClientAddress{}
		r, err = encode(name, envoy.UDPProxyListener(spec), l4Refs(cluster, nil))
	} else {
		spec.Log = b.e.logs.TCP
		r, err = encode(name, envoy.TCPProxyListener(spec), l4Refs(cluster, weighted))
	}
	if err != nil {
		return err
	}
	b.put(KindListener, r)
	return nil
}

// streamClusters are a stream route's clusters: the one cluster, or a
// weighted split of two or more. The share of backendRefs that do not
// resolve goes to envoy.UnresolvedBackendCluster, which the fleet does
// not have: tcp_proxy picks a cluster per connection and closes one whose
// cluster is not there, so that share of connections is refused, as the
// spec asks, and a route with no valid backend refuses them all. UDP's
// proxy has no weighted split, so two or more UDP backends are one split
// cluster (udpsplit.go), and a UDP route's invalid share goes to its
// valid backends ("" when none).
func (b *gatewayBuild) streamClusters(sr *gatewayapi.StreamRoute, udp bool) (string, []envoy.L4Weight) {
	if udp {
		return b.udpCluster(sr), nil
	}
	var weighted []envoy.L4Weight
	add := func(name string, weight uint32) {
		if i := slices.IndexFunc(weighted, func(w envoy.L4Weight) bool { return w.Cluster == name }); i >= 0 {
			weighted[i].Weight += weight // one Service port named twice: one entry
			return
		}
		weighted = append(weighted, envoy.L4Weight{Cluster: name, Weight: weight})
	}
	for _, be := range sr.Backends {
		if be.Weight > 0 {
			add(b.streamCluster(be, false), uint32(be.Weight))
		}
	}
	if sr.Invalid > 0 {
		add(envoy.UnresolvedBackendCluster, uint32(sr.Invalid))
	}
	switch len(weighted) {
	case 0: // every weight 0: nothing takes a connection
		return envoy.UnresolvedBackendCluster, nil
	case 1:
		return weighted[0].Cluster, nil
	}
	return weighted[0].Cluster, weighted
}

// udpCluster is a UDP route's cluster: its one backend's plain cluster,
// or the split of its weighted backends; "" when none takes a share.
func (b *gatewayBuild) udpCluster(sr *gatewayapi.StreamRoute) string {
	split := newUDPSplit(nsName{sr.Route.Namespace, sr.Route.Name}, sr.Backends)
	if split == nil {
		for _, be := range sr.Backends {
			if be.Weight > 0 {
				return b.streamCluster(be, true)
			}
		}
		return ""
	}
	for _, svc := range split.services() {
		b.t.referenced = append(b.t.referenced, svc)
	}
	return b.t.useCluster(clusterKey{split: split})
}

// streamCluster is the plain cluster of a backend's Service port.
func (b *gatewayBuild) streamCluster(be policy.Backend, udp bool) string {
	b.t.referenced = append(b.t.referenced, nsName{be.Namespace, be.Name})
	return b.t.useCluster(clusterKey{namespace: be.Namespace, service: be.Name, port: be.Port, udp: udp})
}

// l4Refs are the clusters a tcp_proxy or udp_proxy names, less the
// unresolved share's, which is missing by design.
func l4Refs(cluster string, weighted []envoy.L4Weight) []Ref {
	names := []string{cluster}
	if len(weighted) > 0 {
		names = names[:0]
		for _, w := range weighted {
			names = append(names, w.Cluster)
		}
	}
	var refs []Ref
	for _, name := range names {
		if name != envoy.UnresolvedBackendCluster {
			refs = append(refs, Ref{KindCluster, name})
		}
	}
	return refs
}

// withMisdirected adds to an HTTPS listener's virtual hosts the answer for
// a Host its chain does not serve, as the Gateway API asks: a client that
// reused a connection (HTTP/2 coalescing) for a name another listener of
// the port serves gets 421 and retries on a connection of its own. A
// listener with a hostname answers 421 for any other name (and 404 for a
// name of its own without a route); a listener without one answers 421
// for the other listeners' names and 404 for names nobody serves.
func withMisdirected(vhosts []*Resource, l *gatewayapi.Listener, peers []*gatewayapi.Listener) []*Resource {
	have := map[string]bool{}
	for _, vh := range vhosts {
		have[vh.Name] = true
	}
	var misdirected []string
	if l.Hostname != "" {
		if !have[l.Hostname] {
			vhosts = append(vhosts, newResource(l.Hostname, envoy.AppendVirtualHost(nil, l.Hostname, []string{l.Hostname}, nil), nil))
			have[l.Hostname] = true
		}
		if !have["*"] {
			misdirected = []string{"*"}
		}
	}
	// The other listeners' names, which a wildcard or hostname-less
	// listener's own virtual hosts would otherwise take.
	for _, p := range peers {
		if p != l && p.Hostname != "" && p.Protocol == gatewayv1.HTTPSProtocolType && !have[p.Hostname] && !slices.Contains(misdirected, p.Hostname) {
			misdirected = append(misdirected, p.Hostname)
		}
	}
	if len(misdirected) == 0 {
		return vhosts
	}
	slices.Sort(misdirected)
	out := append(vhosts, newResource(envoy.MisdirectedVirtualHost, envoy.AppendMisdirectedVirtualHost(nil, misdirected), nil))
	slices.SortFunc(out, func(a, b *Resource) int { return strings.Compare(a.Name, b.Name) })
	return out
}
