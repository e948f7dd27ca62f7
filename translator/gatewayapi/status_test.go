package gatewayapi

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func class() *gatewayv1.GatewayClass {
	return &gatewayv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: "fairway"},
		Spec:       gatewayv1.GatewayClassSpec{ControllerName: controller},
	}
}

func twoListenerGateway() *gatewayv1.Gateway {
	return &gatewayv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: "gw", Namespace: "infra", Generation: 7},
		Spec: gatewayv1.GatewaySpec{
			GatewayClassName: "fairway",
			Listeners: []gatewayv1.Listener{
				{Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType},
				{Name: "alt", Port: 8080, Protocol: gatewayv1.HTTPProtocolType},
			},
		},
	}
}

func conditionOf(t *testing.T, conds []metav1.Condition, typ string) metav1.Condition {
	t.Helper()
	c := findCondition(conds, typ)
	if c == nil {
		t.Fatalf("no %s condition in %v", typ, conds)
	}
	return *c
}

// TestListenerNotProgrammed: the engine marks a listener that lost its
// port claim; the Gateway stays Programmed while another listener is,
// and is not Programmed once none is. Conditions keep their place and
// observedGeneration.
func TestListenerNotProgrammed(t *testing.T) {
	m := Resolve(Input{GatewayClasses: []*gatewayv1.GatewayClass{class()}, Gateways: []*gatewayv1.Gateway{twoListenerGateway()}},
		Options{ControllerName: controller})
	gwObj := m.Listeners[0].Gateway
	st := &m.Status
	st.ListenerNotProgrammed(gwObj, "http", gatewayv1.ListenerReasonInvalid, "port 80 is held by Service a/b")
	gw := st.Gateways[0].Status
	got := gw.Listeners[0].Conditions[2]
	if got.Type != "Programmed" || got.Status != metav1.ConditionFalse || got.Reason != "Invalid" || got.Message != "port 80 is held by Service a/b" || got.ObservedGeneration != 7 {
		t.Fatalf("listener http Programmed = %+v", got)
	}
	if c := conditionOf(t, gw.Conditions, "Programmed"); c.Status != metav1.ConditionTrue {
		t.Fatalf("Gateway Programmed with listener alt still programmed = %+v", c)
	}
	st.ListenerNotProgrammed(gwObj, "alt", gatewayv1.ListenerReasonInvalid, "port 8080 is held by Service a/c")
	if c := conditionOf(t, st.Gateways[0].Status.Conditions, "Programmed"); c.Status != metav1.ConditionFalse || c.Reason != "Invalid" || c.ObservedGeneration != 7 {
		t.Fatalf("Gateway Programmed with no listener programmed = %+v", c)
	}
	// Unknown names change nothing and do not panic.
	st.ListenerNotProgrammed(Object{Namespace: "infra", Name: "nope"}, "http", gatewayv1.ListenerReasonInvalid, "x")
	st.ListenerNotProgrammed(gwObj, "nope", gatewayv1.ListenerReasonInvalid, "x")
}

// TestCertificateErrorOption: Options.CertificateError decides whether a
// Secret can serve (the translator checks key types Envoy accepts); its
// error is the listener's InvalidCertificateRef message.
func TestCertificateErrorOption(t *testing.T) {
	gw := &gatewayv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: "gw", Namespace: "infra"},
		Spec: gatewayv1.GatewaySpec{GatewayClassName: "fairway", Listeners: []gatewayv1.Listener{{
			Name: "https", Port: 443, Protocol: gatewayv1.HTTPSProtocolType,
			TLS: &gatewayv1.ListenerTLSConfig{CertificateRefs: []gatewayv1.SecretObjectReference{{Name: "cert"}}},
		}}},
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "cert", Namespace: "infra"},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{"tls.crt": []byte("c"), "tls.key": []byte("k")},
	}
	in := Input{GatewayClasses: []*gatewayv1.GatewayClass{class()}, Gateways: []*gatewayv1.Gateway{gw}, Secrets: []*corev1.Secret{secret}}
	if m := Resolve(in, Options{ControllerName: controller}); len(m.Listeners) != 1 {
		t.Fatalf("with the default check the listener serves; got %d listeners", len(m.Listeners))
	}
	m := Resolve(in, Options{ControllerName: controller, CertificateError: func(*corev1.Secret) error {
		return errors.New("the key is a DSA key, which Envoy does not load")
	}})
	if len(m.Listeners) != 0 {
		t.Fatalf("a Secret the option refuses must not serve; got %d listeners", len(m.Listeners))
	}
	c := conditionOf(t, m.Status.Gateways[0].Status.Listeners[0].Conditions, "ResolvedRefs")
	if c.Reason != "InvalidCertificateRef" || c.Message != "spec.listeners[https].tls.certificateRefs[0]: Secret infra/cert: the key is a DSA key, which Envoy does not load" {
		t.Fatalf("ResolvedRefs = %+v", c)
	}
}

// TestResolveLeavesInputAlone: the informers' objects are shared, so the
// front end must not write to them.
func TestResolveLeavesInputAlone(t *testing.T) {
	gw := twoListenerGateway()
	before := gw.DeepCopy()
	Resolve(Input{GatewayClasses: []*gatewayv1.GatewayClass{class()}, Gateways: []*gatewayv1.Gateway{gw}}, Options{ControllerName: controller})
	if !equalJSON(t, before, gw) {
		t.Fatal("Resolve changed its input Gateway")
	}
}

func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(ja) == string(jb)
}

// TestOnFleet: the status writer's completion of a Gateway on the
// fleet's addresses. Its spec may name one of them; another address is
// not usable, naming it; a Gateway refused an address of its own by the
// pools (or not accepted) gets no fleet address.
func TestOnFleet(t *testing.T) {
	ip := gatewayv1.IPAddressType
	fleet := []gatewayv1.GatewayStatusAddress{{Type: &ip, Value: "192.0.2.10"}, {Type: &ip, Value: "192.0.2.11"}}
	status := func(programmedReason string) gatewayv1.GatewayStatus {
		return gatewayv1.GatewayStatus{Conditions: []metav1.Condition{
			condition(string(gatewayv1.GatewayConditionAccepted), true, "Accepted", "", 3),
			condition(string(gatewayv1.GatewayConditionProgrammed), programmedReason == "Programmed", programmedReason, "", 3),
		}}
	}
	for _, c := range []struct {
		name       string
		st         gatewayv1.GatewayStatus
		spec       []gatewayv1.GatewaySpecAddress
		addresses  int
		programmed string
	}{
		{"no spec.addresses", status("Programmed"), nil, 2, "Programmed"},
		{"a fleet address", status("Programmed"), []gatewayv1.GatewaySpecAddress{{Value: "192.0.2.11"}}, 2, "Programmed"},
		{"a value-less entry", status("Programmed"), []gatewayv1.GatewaySpecAddress{{Type: &ip}}, 2, "Programmed"},
		{"another address", status("Programmed"), []gatewayv1.GatewaySpecAddress{{Value: "192.0.2.10"}, {Value: "198.51.100.9"}}, 2, "AddressNotUsable"},
		{"refused by the pools", status("AddressNotAssigned"), nil, 0, "AddressNotAssigned"},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := *c.st.DeepCopy()
			OnFleet(&st, c.spec, fleet)
			if len(st.Addresses) != c.addresses {
				t.Errorf("addresses %v, want %d", st.Addresses, c.addresses)
			}
			p := conditionOf(t, st.Conditions, string(gatewayv1.GatewayConditionProgrammed))
			if p.Reason != c.programmed || (p.Status == metav1.ConditionTrue) != (c.programmed == "Programmed") || p.ObservedGeneration != 3 {
				t.Errorf("Programmed %s %s (generation %d), want %s at 3", p.Status, p.Reason, p.ObservedGeneration, c.programmed)
			}
			if c.programmed == "AddressNotUsable" && !strings.Contains(p.Message, "spec.addresses[1]: 198.51.100.9") {
				t.Errorf("message %q does not name the address", p.Message)
			}
		})
	}
	notAccepted := gatewayv1.GatewayStatus{Conditions: []metav1.Condition{condition(string(gatewayv1.GatewayConditionAccepted), false, "UnsupportedAddress", "", 1)}}
	if OnFleet(&notAccepted, nil, fleet); len(notAccepted.Addresses) != 0 {
		t.Errorf("a Gateway not accepted got addresses %v", notAccepted.Addresses)
	}
}
