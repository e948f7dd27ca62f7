package gatewayapi

import (
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// ListenerNotProgrammed records that a listener the front end accepted
// is not programmed after all: the translator's engine calls it when the
// listener loses its port claim (to a LoadBalancer Service or the Ingress
// listeners). The Gateway stays Programmed while any listener of it is;
// with none left it is not Programmed either. Unknown Gateways or
// listeners are ignored.
func (s *Status) ListenerNotProgrammed(gw Object, listener string, reason gatewayv1.ListenerConditionReason, msg string) {
	i := slices.IndexFunc(s.Gateways, func(g GatewayStatus) bool { return g.Namespace == gw.Namespace && g.Name == gw.Name })
	if i < 0 {
		return
	}
	st := &s.Gateways[i].Status
	j := slices.IndexFunc(st.Listeners, func(l gatewayv1.ListenerStatus) bool { return string(l.Name) == listener })
	if j < 0 {
		return
	}
	l := &st.Listeners[j]
	setCondition(l.Conditions, string(gatewayv1.ListenerConditionProgrammed), false, string(reason), msg)
	for _, other := range st.Listeners {
		if c := findCondition(other.Conditions, string(gatewayv1.ListenerConditionProgrammed)); c != nil && c.Status == metav1.ConditionTrue {
			return
		}
	}
	setCondition(st.Conditions, string(gatewayv1.GatewayConditionProgrammed), false, string(gatewayv1.GatewayReasonInvalid),
		"no listener of the Gateway is programmed: "+msg)
}

// GatewayNotProgrammed records that a Gateway the front end accepted is
// not programmed for a reason of the Gateway's own, such as an address
// it could not get (AddressNotAssigned, AddressNotUsable). Unknown
// Gateways are ignored.
func (s *Status) GatewayNotProgrammed(gw Object, reason gatewayv1.GatewayConditionReason, msg string) {
	i := slices.IndexFunc(s.Gateways, func(g GatewayStatus) bool { return g.Namespace == gw.Namespace && g.Name == gw.Name })
	if i >= 0 {
		setCondition(s.Gateways[i].Status.Conditions, string(gatewayv1.GatewayConditionProgrammed), false, string(reason), msg)
	}
}

// OnFleetAddresses reports whether a Gateway whose status the
// translator gave no address listens on the fleet's addresses, which
// the status writer then lists: it is accepted and was not refused an
// address of its own (AddressNotAssigned, AddressNotUsable), since a
// Gateway that asked the pools for one and got none listens nowhere.
func OnFleetAddresses(st *gatewayv1.GatewayStatus) bool {
	if a := findCondition(st.Conditions, string(gatewayv1.GatewayConditionAccepted)); len(st.Addresses) > 0 || a == nil || a.Status != metav1.ConditionTrue {
		return false
	}
	p := findCondition(st.Conditions, string(gatewayv1.GatewayConditionProgrammed))
	return p == nil || (p.Reason != string(gatewayv1.GatewayReasonAddressNotAssigned) && p.Reason != string(gatewayv1.GatewayReasonAddressNotUsable))
}

func findCondition(conds []metav1.Condition, typ string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}

// setCondition changes a condition in place, keeping its position and
// observedGeneration, so that the order stays fixed.
func setCondition(conds []metav1.Condition, typ string, ok bool, reason, msg string) {
	c := findCondition(conds, typ)
	if c == nil {
		return
	}
	n := condition(typ, ok, reason, msg, c.ObservedGeneration)
	*c = n
}
