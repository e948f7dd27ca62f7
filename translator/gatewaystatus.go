package translator

import (
	"slices"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/fairwayhq/fairway/translator/gatewayapi"
)

// gatewayStatus is the front end's status, completed with what only the
// engine knows: which ports hold their claims, and the addresses the
// pools gave.
type gatewayStatus struct {
	st gatewayapi.Status
}

// newGatewayStatus copies the Model's status, which the engine must not
// change in place: the Model is kept across builds.
func newGatewayStatus(from gatewayapi.Status) *gatewayStatus {
	s := &gatewayStatus{st: gatewayapi.Status{
		GatewayClasses: from.GatewayClasses,
		Routes:         from.Routes,
		Gateways:       make([]gatewayapi.GatewayStatus, len(from.Gateways)),
	}}
	for i, g := range from.Gateways {
		s.st.Gateways[i] = gatewayapi.GatewayStatus{Namespace: g.Namespace, Name: g.Name, Status: *g.Status.DeepCopy()}
	}
	return s
}

func (s *gatewayStatus) gateway(gw *gatewayv1.Gateway) *gatewayv1.GatewayStatus {
	for i := range s.st.Gateways {
		if g := &s.st.Gateways[i]; g.Namespace == gw.Namespace && g.Name == gw.Name {
			return &g.Status
		}
	}
	return nil
}

// portNotProgrammed says the listeners of a port are not programmed: its
// claim lost, or the Gateway has no address.
func (s *gatewayStatus) portNotProgrammed(gp *gatewayPort, reason gatewayv1.ListenerConditionReason, msg string) {
	gw := gatewayapi.Object{Kind: "Gateway", Namespace: gp.gw.Namespace, Name: gp.gw.Name}
	for _, l := range gp.listeners {
		s.st.ListenerNotProgrammed(gw, l.Name, reason, msg)
	}
}

// gatewayNotProgrammed says why the Gateway as a whole is not
// programmed, when it is for a reason of its own (its address) rather
// than its listeners'.
func (s *gatewayStatus) gatewayNotProgrammed(gw *gatewayv1.Gateway, reason gatewayv1.GatewayConditionReason, msg string) {
	s.st.GatewayNotProgrammed(gatewayapi.Object{Kind: "Gateway", Namespace: gw.Namespace, Name: gw.Name}, reason, msg)
}

// address adds a Gateway's own address to its status.
func (s *gatewayStatus) address(gw *gatewayv1.Gateway, addr string) {
	g := s.gateway(gw)
	if g == nil {
		return
	}
	ip := gatewayv1.IPAddressType
	a := gatewayv1.GatewayStatusAddress{Type: &ip, Value: addr}
	if !slices.ContainsFunc(g.Addresses, func(b gatewayv1.GatewayStatusAddress) bool { return b.Value == addr }) {
		g.Addresses = append(g.Addresses, a)
	}
}

// done is the completed status.
func (s *gatewayStatus) done() gatewayapi.Status { return s.st }
