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
