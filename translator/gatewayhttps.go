package translator

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/translator/gatewayapi"
)

// A Gateway without an address of its own serves its HTTPS listeners on
// the fleet's https port from the Ingress https listener itself: each
// listener is one more SNI filter chain there, with its certificate and
// its own route configuration, beside the Ingress TLS hosts' chains. A
// server name (or the default chain, for a listener without a hostname)
// that an Ingress TLS host already has stays the Ingress's: the Gateway's
// listener is not programmed and gets a Problem naming the name.

// sharesHTTPS reports whether a listener is served by the Ingress https
// listener.
func (e *Engine) sharesHTTPS(l *gatewayapi.Listener) bool {
	return !l.Dedicated && l.Protocol == gatewayv1.HTTPSProtocolType && l.Port == e.opts.HTTPSPort &&
		l.TLS != nil && len(l.TLS.Certificates) > 0
}

// httpsChain is a shared HTTPS listener's chain on the https listener.
type httpsChain struct {
	chain envoy.TLSChain
	gw    *gatewayv1.Gateway
	l     *gatewayapi.Listener
}

// sharedHTTPSChains builds the route configurations and certificates of
// the shared HTTPS listeners while the https listener's claim holds, and
// returns their chains in the Model's order.
func (b *gatewayBuild) sharedHTTPSChains() []httpsChain {
	e := b.e
	if !e.claims.httpsWon {
		return nil
	}
	var out []httpsChain
	for _, l := range e.gw.model.Listeners {
		gw := e.gw.objs.gateways[nsName{l.Gateway.Namespace, l.Gateway.Name}]
		if gw == nil || !e.sharesHTTPS(l) {
			continue
		}
		cert := l.TLS.Certificates[0]
		secret := envoy.GatewaySecretName(cert.Namespace, cert.Name)
		if !b.secret(secret, cert) {
			continue
		}
		peers := sharedHTTPSPeers(e, gw)
		rc := envoy.GatewayRouteConfigName(gw.Namespace, gw.Name, l.Port, l.Name)
		b.put(KindRoute, composeRouteConfig(rc, withMisdirected(b.virtualHosts(0, []*gatewayapi.Listener{l}, peers), l, peers)))
		ch := envoy.TLSChain{Secret: secret, RouteConfig: rc}
		if l.Hostname != "" {
			ch.ServerNames = []string{l.Hostname}
		}
		out = append(out, httpsChain{chain: ch, gw: gw, l: l})
	}
	return out
}

// sharedHTTPSPeers are a Gateway's shared HTTPS listeners: the listeners
// beside one another on the https port.
func sharedHTTPSPeers(e *Engine, gw *gatewayv1.Gateway) []*gatewayapi.Listener {
	var out []*gatewayapi.Listener
	for _, l := range e.gw.model.Listeners {
		if l.Gateway.Namespace == gw.Namespace && l.Gateway.Name == gw.Name && e.sharesHTTPS(l) {
			out = append(out, l)
		}
	}
	return out
}

// setSharedHTTPS keeps the shared HTTPS chains; a change makes the https
// listener be built again.
func (e *Engine) setSharedHTTPS(next []httpsChain) {
	if !slices.EqualFunc(e.gw.httpsChains, next, func(a, b httpsChain) bool { return sameChain(a.chain, b.chain) }) {
		e.dirty.tls = true
	}
	e.gw.httpsChains = next
}

// gatewayTLSChains are the shared HTTPS chains the https listener takes:
// those whose server name no Ingress chain has. The others' listeners are
// noted as lost, with a Problem.
func (e *Engine) gatewayTLSChains(t *translation, ingress []envoy.TLSChain) []envoy.TLSChain {
	taken := map[string]bool{}
	hasDefault := false
	for _, c := range ingress {
		if len(c.ServerNames) == 0 {
			hasDefault = true
		}
		for _, n := range c.ServerNames {
			taken[n] = true
		}
	}
	e.gw.httpsLost = nil
	var out []envoy.TLSChain
	for _, gc := range e.gw.httpsChains {
		name := gc.l.Hostname
		if (name == "" && hasDefault) || (name != "" && taken[name]) {
			what := fmt.Sprintf("server name %s", name)
			if name == "" {
				what = "the default chain (no server name)"
			}
			msg := fmt.Sprintf("listener %s: %s of the https port is an Ingress TLS host's already", gc.l.Name, what)
			t.problems.add(ObjectRef{Kind: "Gateway", Namespace: gc.gw.Namespace, Name: gc.gw.Name}, TLSConflict, "%s", msg)
			e.gw.httpsLost = append(e.gw.httpsLost, lostListener{gw: gc.gw, l: gc.l, msg: msg})
			continue
		}
		out = append(out, gc.chain)
	}
	return out
}

// lostListener is a shared listener the https listener does not serve.
type lostListener struct {
	gw  *gatewayv1.Gateway
	l   *gatewayapi.Listener
	msg string
}

// finishGatewayStatus completes the status after the https listener was
// built: the shared HTTPS listeners it could not take, or all of them
// while its claim is lost.
func (e *Engine) finishGatewayStatus() {
	st := newGatewayStatus(e.gw.base)
	for _, lost := range e.gw.httpsLost {
		st.portNotProgrammed(&gatewayPort{gw: lost.gw, listeners: []*gatewayapi.Listener{lost.l}}, gatewayv1.ListenerReasonInvalid, lost.msg)
	}
	if !e.claims.httpsWon && e.gw.sharedHTTPSSince != nil {
		msg := "the fleet's https listener is not served"
		if c := e.claims.httpsClaim; c != nil && c.heldBy != nil {
			msg = c.conflictMessage()
		}
		for _, l := range e.gw.model.Listeners {
			if gw := e.gw.objs.gateways[nsName{l.Gateway.Namespace, l.Gateway.Name}]; gw != nil && e.sharesHTTPS(l) {
				st.portNotProgrammed(&gatewayPort{gw: gw, listeners: []*gatewayapi.Listener{l}}, gatewayv1.ListenerReasonPortUnavailable, msg)
			}
		}
	}
	e.gw.status = st.done()
}

// httpsClaim is the https listener's claim: dated by the oldest Ingress
// with TLS, or by the oldest Gateway whose HTTPS listeners it serves when
// that one is older; no such object, no claim.
func (e *Engine) httpsClaim(oldestTLS *networkingv1.Ingress) *portClaim {
	gw := e.gw.sharedHTTPSSince
	if gw == nil || (oldestTLS != nil && compareAge(&oldestTLS.ObjectMeta, &gw.ObjectMeta) <= 0) {
		return ingressClaim(oldestTLS, e.opts.HTTPSPort, envoy.HTTPSListenerName)
	}
	return &portClaim{
		port: e.opts.HTTPSPort, protocol: corev1.ProtocolTCP, since: &gw.ObjectMeta,
		ref:  ObjectRef{Kind: "Gateway", Namespace: gw.Namespace, Name: gw.Name},
		what: "the Ingress " + envoy.HTTPSListenerName + " listener",
	}
}
