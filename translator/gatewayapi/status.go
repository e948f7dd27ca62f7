package gatewayapi

import (
	"fmt"
	"slices"
	"strings"

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

// OnFleet completes the status of a Gateway that listens on the
// fleet's addresses (OnFleetAddresses), which only the status writer
// knows: they become its status.addresses, where it is reachable, and
// an address its spec names that the fleet does not have cannot be
// used (Programmed=False, AddressNotUsable). Without an address pool
// the Gateway's listeners are the fleet's shared ones, so it is still
// served there; the condition tells its owner that the address asked
// for is not one of them. spec is the Gateway's spec.addresses.
func OnFleet(st *gatewayv1.GatewayStatus, spec []gatewayv1.GatewaySpecAddress, fleet []gatewayv1.GatewayStatusAddress) {
	if !OnFleetAddresses(st) {
		return
	}
	st.Addresses = slices.Clone(fleet)
	for i, a := range spec {
		if a.Value == "" || slices.ContainsFunc(fleet, func(f gatewayv1.GatewayStatusAddress) bool { return f.Value == a.Value }) {
			continue
		}
		values := make([]string, len(fleet))
		for j, f := range fleet {
			values[j] = f.Value
		}
		setCondition(st.Conditions, string(gatewayv1.GatewayConditionProgrammed), false, string(gatewayv1.GatewayReasonAddressNotUsable),
			fmt.Sprintf("spec.addresses[%d]: %s is not an address of the fleet (%s), and without an address pool (--lb-address-pool) fairway binds no other; name one of the fleet's addresses, or leave the value out", i, a.Value, strings.Join(values, ", ")))
		return
	}
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
