package translator

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/translator/gatewayapi"
)

// A Gateway without an address of its own serves its HTTPS and TLS
// listeners on the fleet's https port from the Ingress https listener
// itself: each server name of such a listener is one more SNI filter
// chain there, beside the Ingress TLS hosts' and passthrough hosts'
// chains. An HTTPS listener's chain ends TLS with its certificate and
// routes with its own route configuration; a TLS listener's TLSRoutes get
// a chain per name that passes the connection through (Passthrough) or
// ends TLS with the listener's certificate and proxies the bytes
// (Terminate). Who gets a name that several ask for is settled by age in
// tlsnames.go.

// sharesTLSPort reports whether a listener is served by the Ingress https
// listener: an HTTPS listener, or a TLS listener (Passthrough, or
// Terminate with its certificate), on the fleet's https port.
func (e *Engine) sharesTLSPort(l *gatewayapi.Listener) bool {
	if l.Dedicated || l.Port != e.opts.HTTPSPort || l.TLS == nil {
		return false
	}
	switch l.Protocol {
	case gatewayv1.HTTPSProtocolType:
		return len(l.TLS.Certificates) > 0
	case gatewayv1.TLSProtocolType:
		return l.TLS.Mode == gatewayv1.TLSModePassthrough || len(l.TLS.Certificates) > 0
	}
	return false
}

// sharedListener is a shared listener's part of the https listener: its
// chains, and what they name that only the Gateways publish (an HTTPS
// listener's route configuration, the certificate, the clusters of a TLS
// listener's routes), published while the listener keeps a chain.
type sharedListener struct {
	gw *gatewayv1.Gateway
	l  *gatewayapi.Listener
	// https is an HTTPS listener's chain; pass are a TLS listener's.
	https         *envoy.TLSChain
	pass          []envoy.PassthroughChain
	route, secret *Resource
	clusters      []clusterUse
	apis          []gatewayAPI // an HTTPS listener's names for proxyless clients
}

// names are the server names the listener's chains ask for ("" is the
// default chain), in chain order.
func (s *sharedListener) names() []string {
	if s.https != nil {
		return []string{chainHost(*s.https)}
	}
	out := make([]string, len(s.pass))
	for i, p := range s.pass {
		out[i] = p.ServerName
	}
	return out
}

// sharedTLSListeners builds the chains, route configurations and
// certificates of the shared listeners while the https listener's claim
// holds, in the Model's order (oldest Gateway first). Nothing of theirs is
// published here: publishGatewayBuild does, for the listeners whose chains
// the https listener takes.
func (b *gatewayBuild) sharedTLSListeners() []*sharedListener {
	e := b.e
	if !e.claims.httpsWon {
		return nil
	}
	var out []*sharedListener
	for _, l := range e.gw.model.Listeners {
		gw := e.gw.objs.gateways[nsName{l.Gateway.Namespace, l.Gateway.Name}]
		if gw == nil || !e.sharesTLSPort(l) {
			continue
		}
		s := &sharedListener{gw: gw, l: l}
		start := len(b.t.clusters)
		b.sharedChains(s, sharedTLSPeers(e, gw))
		// The clusters go with the listener, not with the Gateway build.
		s.clusters = slices.Clone(b.t.clusters[start:])
		b.t.clusters = b.t.clusters[:start]
		if s.https != nil || len(s.pass) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// sharedChains fills in a shared listener's chains and resources; none
// when its certificate is unusable or no route of a TLS listener has a
// backend.
func (b *gatewayBuild) sharedChains(s *sharedListener, peers []*gatewayapi.Listener) {
	l := s.l
	secret := ""
	if len(l.TLS.Certificates) > 0 && l.TLS.Mode != gatewayv1.TLSModePassthrough {
		cert := l.TLS.Certificates[0]
		secret = envoy.GatewaySecretName(cert.Namespace, cert.Name)
		if s.secret = b.secretResource(secret, cert); s.secret == nil {
			return
		}
	}
	if l.Protocol == gatewayv1.TLSProtocolType {
		s.pass = b.passChains(l, peers, secret)
		return
	}
	rc := envoy.GatewayRouteConfigName(s.gw.Namespace, s.gw.Name, l.Port, l.Name)
	start := len(b.apis) // its proxyless names go with the listener, as its clusters do
	s.route = composeRouteConfig(rc, withMisdirected(b.virtualHosts(l.Port, []*gatewayapi.Listener{l}, peers), l, peers))
	s.apis = slices.Clone(b.apis[start:])
	b.apis = b.apis[:start]
	s.https = &envoy.TLSChain{Secret: secret, RouteConfig: rc}
	if l.Hostname != "" {
		s.https.ServerNames = []string{l.Hostname}
	}
}

// sharedTLSPeers are a Gateway's shared listeners: the listeners beside
// one another on the https port.
func sharedTLSPeers(e *Engine, gw *gatewayv1.Gateway) []*gatewayapi.Listener {
	var out []*gatewayapi.Listener
	for _, l := range e.gw.model.Listeners {
		if l.Gateway.Namespace == gw.Namespace && l.Gateway.Name == gw.Name && e.sharesTLSPort(l) {
			out = append(out, l)
		}
	}
	return out
}

// setSharedTLS keeps the shared listeners; a change of their chains or
// of the age of their Gateways makes the https listener be built again,
// and the names be settled anew. Else the last settling stands: it is
// kept by the listeners' order, which is then the same.
func (e *Engine) setSharedTLS(next []*sharedListener) {
	if !slices.EqualFunc(e.gw.sharedTLS, next, sameSharedListener) {
		e.dirty.tls = true
	}
	e.gw.sharedTLS = next
}

func sameSharedListener(a, b *sharedListener) bool {
	if a.gw.Namespace != b.gw.Namespace || a.gw.Name != b.gw.Name || compareAge(&a.gw.ObjectMeta, &b.gw.ObjectMeta) != 0 || a.l.Name != b.l.Name {
		return false
	}
	if (a.https == nil) != (b.https == nil) || a.https != nil && !sameChain(*a.https, *b.https) {
		return false
	}
	return slices.EqualFunc(a.pass, b.pass, sameGatewayPass)
}

// publishGatewayBuild publishes what the Gateway build made: its own
// ports' resources, and those of the shared listeners that keep a chain
// on the https listener.
func (e *Engine) publishGatewayBuild() {
	var next [NumKinds]map[string]*Resource
	for k := range next {
		next[k] = make(map[string]*Resource, len(e.gw.own[k]))
		for name, r := range e.gw.own[k] {
			next[k][name] = r
		}
	}
	clusters := slices.Clip(e.gw.ownClusters)
	apis := slices.Clip(e.gw.ownAPIs)
	for i, s := range e.gw.sharedTLS {
		if i >= len(e.gw.sharedTaken) || !e.gw.sharedTaken[i] {
			continue
		}
		apis = append(apis, s.apis...)
		if s.route != nil {
			next[KindRoute][s.route.Name] = s.route
		}
		if s.secret != nil {
			next[KindSecret][s.secret.Name] = s.secret
		}
		clusters = append(clusters, s.clusters...)
	}
	e.publishGateway(next, clusters)
	var ps problems
	e.setGatewayAPIs(apis, &ps)
	e.setProblems(slot{piece: slotGateway, name: "proxyless"}, ps)
}

// lostListener is a shared listener some of whose names the https
// listener gives to an older object.
type lostListener struct {
	gw  *gatewayv1.Gateway
	l   *gatewayapi.Listener
	msg string
}

// finishGatewayStatus completes the status after the https listener was
// built: the shared listeners that lost a name, or all of them while its
// claim is lost.
func (e *Engine) finishGatewayStatus() {
	st := newGatewayStatus(e.gw.base)
	for _, lost := range e.gw.httpsLost {
		st.portNotProgrammed(&gatewayPort{gw: lost.gw, listeners: []*gatewayapi.Listener{lost.l}}, gatewayv1.ListenerReasonInvalid, lost.msg)
	}
	if !e.claims.httpsWon && e.gw.sharedTLSSince != nil {
		msg := "the fleet's https listener is not served"
		if c := e.claims.httpsClaim; c != nil && c.heldBy != nil {
			msg = c.conflictMessage()
		}
		for _, l := range e.gw.model.Listeners {
			if gw := e.gw.objs.gateways[nsName{l.Gateway.Namespace, l.Gateway.Name}]; gw != nil && e.sharesTLSPort(l) {
				st.portNotProgrammed(&gatewayPort{gw: gw, listeners: []*gatewayapi.Listener{l}}, gatewayv1.ListenerReasonPortUnavailable, msg)
			}
		}
	}
	e.gw.status = st.done()
}

// httpsClaim is the https listener's claim: dated by the oldest Ingress
// with TLS, or by the oldest Gateway whose HTTPS or TLS listeners it
// serves when that one is older; no such object, no claim.
func (e *Engine) httpsClaim(oldestTLS *networkingv1.Ingress) *portClaim {
	gw := e.gw.sharedTLSSince
	if gw == nil || (oldestTLS != nil && compareAge(&oldestTLS.ObjectMeta, &gw.ObjectMeta) <= 0) {
		return ingressClaim(oldestTLS, e.opts.HTTPSPort, envoy.HTTPSListenerName)
	}
	return &portClaim{
		port: e.opts.HTTPSPort, protocol: corev1.ProtocolTCP, since: &gw.ObjectMeta,
		ref:  gatewayRef(gw.Namespace, gw.Name),
		what: "the Ingress " + envoy.HTTPSListenerName + " listener",
	}
}

// describeName is a server name of the https port, for messages.
func describeName(name string) string {
	if name == "" {
		return "the default chain (no server name)"
	}
	return "server name " + name
}
