package translator

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/fairwayhq/fairway/translator/gatewayapi"
)

// gatewayPort is a Gateway's listeners on one port and transport: what
// one Envoy listener serves, and what claims the port. Listeners of one
// Gateway that share a port are told apart inside it, by Host header
// (HTTP) or by SNI (HTTPS, TLS).
type gatewayPort struct {
	gw        *gatewayv1.Gateway
	ref       ObjectRef
	port      int32
	udp       bool
	listeners []*gatewayapi.Listener
	// address is the Gateway's own address from a pool; "" when it
	// listens on the fleet's addresses (no pool).
	address string
	// claim is its claim on (address, port, protocol); nil when it could
	// not claim (the Gateway got no address).
	claim *portClaim
}

// gatewayPorts groups the Model's listeners by Gateway and port, in the
// Model's order (oldest Gateway first).
func (e *Engine) gatewayPorts(m *gatewayapi.Model) []*gatewayPort {
	var out []*gatewayPort
	at := map[string]*gatewayPort{}
	for _, l := range m.Listeners {
		gw := e.gw.objs.gateways[nsName{l.Gateway.Namespace, l.Gateway.Name}]
		if gw == nil || e.sharesHTTP(l) || e.sharesTLSPort(l) { // the Ingress listeners serve it (gatewayshared.go, gatewayhttps.go)
			continue
		}
		udp := l.Protocol == gatewayv1.UDPProtocolType
		key := fmt.Sprintf("%s/%s/%d/%t", gw.Namespace, gw.Name, l.Port, udp)
		gp := at[key]
		if gp == nil {
			gp = &gatewayPort{gw: gw, ref: gatewayRef(gw.Namespace, gw.Name), port: l.Port, udp: udp}
			at[key] = gp
			out = append(out, gp)
		}
		gp.listeners = append(gp.listeners, l)
	}
	return out
}

// gatewayRef names a Gateway in a Problem.
func gatewayRef(namespace, name string) ObjectRef {
	return ObjectRef{Kind: "Gateway", Namespace: namespace, Name: name}
}

func (gp *gatewayPort) protocol() corev1.Protocol {
	if gp.udp {
		return corev1.ProtocolUDP
	}
	return corev1.ProtocolTCP
}

// gatewayClaims gives each Gateway port its claim: on the Gateway's own
// address once the allocation settled it, else on the fleet's, dated by
// the Gateway. A Gateway whose allocation failed claims nothing; its
// ports carry the failure instead.
func gatewayClaims(ports []*gatewayPort, addressed []*addressing) (claims []*portClaim, failed map[*gatewayv1.Gateway]addressFailed) {
	own := map[ObjectRef]*addressing{}
	for _, a := range addressed {
		own[a.ref] = a
	}
	for i, gp := range ports {
		if a := own[gp.ref]; a != nil {
			if a.failure != "" {
				if failed == nil {
					failed = map[*gatewayv1.Gateway]addressFailed{}
				}
				failed[gp.gw] = addressFailed{a.failure, a.message}
				gp.claim = nil
				continue
			}
			gp.address = a.ordered()[0].String()
		}
		gp.claim = &portClaim{
			address: gp.address, port: gp.port, protocol: gp.protocol(), since: &gp.gw.ObjectMeta,
			ref: gp.ref, seq: i, what: fmt.Sprintf("the listeners on port %d of Gateway %s/%s", gp.port, gp.gw.Namespace, gp.gw.Name),
		}
		claims = append(claims, gp.claim)
	}
	return claims, failed
}
