package gatewayapi

import (
	"encoding/json"
	"errors"
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
