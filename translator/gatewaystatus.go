package translator

import (
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	g := s.gateway(gp.gw)
	if g == nil {
		return
	}
	for _, l := range gp.listeners {
		for i := range g.Listeners {
			if string(g.Listeners[i].Name) != l.Name {
				continue
			}
			setCondition(&g.Listeners[i].Conditions, metav1.Condition{
				Type: string(gatewayv1.ListenerConditionProgrammed), Status: metav1.ConditionFalse,
				Reason: string(reason), Message: msg, ObservedGeneration: gp.gw.Generation,
			})
		}
	}
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

// done settles each Gateway's Programmed condition from its listeners:
// a Gateway none of whose listeners is programmed is not programmed.
func (s *gatewayStatus) done() gatewayapi.Status {
	for i := range s.st.Gateways {
		g := &s.st.Gateways[i]
		if len(g.Status.Listeners) == 0 {
			continue
		}
		any := false
		for _, l := range g.Status.Listeners {
			if meta.IsStatusConditionTrue(l.Conditions, string(gatewayv1.ListenerConditionProgrammed)) {
				any = true
			}
		}
		if !any {
			c := meta.FindStatusCondition(g.Status.Conditions, string(gatewayv1.GatewayConditionProgrammed))
			if c != nil && c.Status == metav1.ConditionTrue {
				c.Status, c.Reason, c.Message = metav1.ConditionFalse, string(gatewayv1.GatewayReasonInvalid), "no listener is programmed"
			}
		}
	}
	return s.st
}

// setCondition replaces the condition of c's type, or adds it. Unlike
// meta.SetStatusCondition it stamps no time: the translator has no
// clock, and the status writer keeps or stamps lastTransitionTime.
func setCondition(conds *[]metav1.Condition, c metav1.Condition) {
	for i := range *conds {
		if (*conds)[i].Type == c.Type {
			(*conds)[i] = c
			return
		}
	}
	*conds = append(*conds, c)
}
