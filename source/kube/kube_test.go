package kube

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/fairwayhq/fairway/translator"
)

func TestParsePublishAddress(t *testing.T) {
	for _, tc := range []struct {
		spec, err string
		check     func(PublishAddress) bool
	}{
		{spec: "fleet-pods=app=edge,tier in (a,b)", check: func(p PublishAddress) bool {
			return p.FleetPods != nil && p.FleetPods.String() == "app=edge,tier in (a,b)"
		}},
		{spec: "service=infra/edge-lb", check: func(p PublishAddress) bool { return *p.Service == [2]string{"infra", "edge-lb"} }},
		{spec: "static=203.0.113.9, lb.example.com,::ffff:192.0.2.1,203.0.113.9", check: func(p PublishAddress) bool {
			return cmp.Equal(p.Static, []Address{{Hostname: "lb.example.com"}, {IP: "192.0.2.1"}, {IP: "203.0.113.9"}})
		}},
		{spec: "static=not_a host", err: "neither an IP address nor a DNS name"},
		{spec: "service=edge-lb", err: "want NAMESPACE/NAME"},
		{spec: "fleet-pods=app in (", err: "fleet-pods"},
		{spec: "pods=x", err: `unknown source "pods"`},
		{spec: "static=", err: "want fleet-pods=SELECTOR"},
	} {
		p, err := ParsePublishAddress(tc.spec)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want one containing %q", tc.spec, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.spec, err)
		case tc.err == "" && !tc.check(p):
			t.Errorf("%q parsed as %+v", tc.spec, p)
		}
	}
}

// TestServiceStatus: every address lists every port with its outcome, and
// IP entries are in proxy mode (hostnames may not carry ipMode at all).
func TestServiceStatus(t *testing.T) {
	got := serviceStatus([]Address{{IP: "192.0.2.1"}, {Hostname: "lb.example.com"}}, []translator.PortAdmission{
		{Port: 5432, Protocol: "TCP", Listener: "tcp-5432"},
		{Port: 53, Protocol: "UDP", Error: "PortConflict"},
	})
	proxy, conflict := corev1.LoadBalancerIPModeProxy, "PortConflict"
	ports := []corev1.PortStatus{{Port: 5432, Protocol: "TCP"}, {Port: 53, Protocol: "UDP", Error: &conflict}}
	want := []corev1.LoadBalancerIngress{{IP: "192.0.2.1", IPMode: &proxy, Ports: ports}, {Hostname: "lb.example.com", Ports: ports}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("status (-want +got):\n%s", d)
	}
	if !equalServiceStatus(nil, []corev1.LoadBalancerIngress{}) || equalServiceStatus(got, got[:1]) {
		t.Error("equalServiceStatus: empty forms must be equal, different lists not")
	}
}

// TestIsOurs: status is fairway's only while every entry is an address it
// published, in proxy mode; another controller's status is left alone.
func TestIsOurs(t *testing.T) {
	w := &StatusWriter{ours: map[Address]bool{{IP: "192.0.2.1"}: true, {Hostname: "lb.example.com"}: true}, inPool: translator.Options{}.AddressPoolMember()}
	proxy, vip := corev1.LoadBalancerIPModeProxy, corev1.LoadBalancerIPModeVIP
	for _, tc := range []struct {
		name string
		in   []corev1.LoadBalancerIngress
		want bool
	}{
		{"fairway's", []corev1.LoadBalancerIngress{{IP: "192.0.2.1", IPMode: &proxy}, {Hostname: "lb.example.com"}}, true},
		{"empty", nil, false},
		{"VIP mode", []corev1.LoadBalancerIngress{{IP: "192.0.2.1", IPMode: &vip}}, false},
		{"another address too", []corev1.LoadBalancerIngress{{IP: "192.0.2.1", IPMode: &proxy}, {IP: "198.51.100.7", IPMode: &proxy}}, false},
	} {
		if got := w.isOurs(serviceAddresses(tc.in), allProxy(tc.in)); got != tc.want {
			t.Errorf("%s: isOurs = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestTrim: what the caches keep is what fairway reads.
func TestTrim(t *testing.T) {
	meta := metav1.ObjectMeta{Name: "x", Namespace: "n", Annotations: map[string]string{lastApplied: "{...}", "keep": "me"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}}
	sec := &corev1.Secret{ObjectMeta: *meta.DeepCopy(), Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{"tls.crt": []byte("c"), "tls.key": []byte("k"), "ca.crt": []byte("a"), "other": []byte("o")}}
	if _, err := trim(sec); err != nil {
		t.Fatal(err)
	}
	if len(sec.ManagedFields) != 0 || !cmp.Equal(sec.Annotations, map[string]string{"keep": "me"}) {
		t.Errorf("metadata not trimmed: %+v", sec.ObjectMeta)
	}
	if !cmp.Equal(sec.Data, map[string][]byte{"tls.crt": []byte("c"), "tls.key": []byte("k"), "ca.crt": []byte("a")}) {
		t.Errorf("secret data: %v", sec.Data)
	}
	beat := func(hb int64) *corev1.Node {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{"zone": "a"}}, Spec: corev1.NodeSpec{PodCIDR: "10.0.0.0/24"},
			Status: corev1.NodeStatus{
				Addresses:  []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.1.1.1"}},
				Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.Unix(hb, 0)}, {Type: "DiskPressure", Status: "False"}},
				Images:     []corev1.ContainerImage{{Names: []string{"big"}}},
			}}
		_, _ = trim(n)
		return n
	}
	a, b := beat(1), beat(2)
	if !sameForTranslation(a, b, true) {
		t.Errorf("a kubelet heartbeat should not count as a change: %+v vs %+v", a.Status, b.Status)
	}
	if len(a.Status.Images) != 0 || len(a.Status.Conditions) != 1 || a.Spec.PodCIDR != "" {
		t.Errorf("node not trimmed: %+v", a)
	}
}

// TestSameForTranslation: status writes and resyncs are not changes;
// spec and label changes are.
func TestSameForTranslation(t *testing.T) {
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "i", ResourceVersion: "1"}}
	withStatus := ing.DeepCopy()
	withStatus.ResourceVersion = "2"
	withStatus.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: "192.0.2.1"}}
	relabelled := ing.DeepCopy()
	relabelled.Labels = map[string]string{"a": "b"}
	class := "other"
	reclassed := ing.DeepCopy()
	reclassed.Spec.IngressClassName = &class
	if !sameForTranslation(ing, withStatus, true) {
		t.Error("a status write counted as a change")
	}
	if sameForTranslation(ing, relabelled, true) || sameForTranslation(ing, reclassed, true) {
		t.Error("a label or spec change was missed")
	}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", ResourceVersion: "1"}}
	checkServiceStatusIsRead(t)
	rotated := sec.DeepCopy()
	rotated.ResourceVersion = "2"
	if !sameForTranslation(sec, sec.DeepCopy(), true) || sameForTranslation(sec, rotated, true) {
		t.Error("secrets compare by resourceVersion")
	}
	if unwrap(cache.DeletedFinalStateUnknown{Key: "n/i", Obj: ing}) != ing {
		t.Error("a tombstone was not unwrapped")
	}
}

// checkServiceStatusIsRead: with an address pool, a Service's status IPs
// are its allocation, so a change of them reaches the translator; ports
// and their errors, which the translator itself decides, do not. Without
// a pool, nothing of status does.
func checkServiceStatusIsRead(t *testing.T) {
	t.Helper()
	proxy, conflict := corev1.LoadBalancerIPModeProxy, "PortConflict"
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "s", ResourceVersion: "1"}}
	allocated := svc.DeepCopy()
	allocated.ResourceVersion = "2"
	allocated.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.1", IPMode: &proxy}}
	portError := allocated.DeepCopy()
	portError.ResourceVersion = "3"
	portError.Status.LoadBalancer.Ingress[0].Ports = []corev1.PortStatus{{Port: 53, Protocol: "UDP", Error: &conflict}}
	moved := allocated.DeepCopy()
	moved.Status.LoadBalancer.Ingress[0].IP = "192.0.2.2"
	if sameForTranslation(svc, allocated, true) || sameForTranslation(allocated, moved, true) || sameForTranslation(allocated, svc, true) {
		t.Error("a Service's status address change did not reach the translator")
	}
	if !sameForTranslation(allocated, portError, true) {
		t.Error("a Service's port status change counted as a change")
	}
	if !sameForTranslation(svc, allocated, false) || !sameForTranslation(allocated, moved, false) {
		t.Error("without an address pool, a Service's status address change reached the translator, which does not read it")
	}
}

// TestTrimOpaqueKeepsCAs: an Opaque Secret keeps its htpasswd users and
// its public CA material (ca.crt, ca.crl, tls.crt, which auth-tls-secret
// and proxy-ssl-secret read), while a private key keeps only its key
// name, so that the translator can say it was not kept.
func TestTrimOpaqueKeepsCAs(t *testing.T) {
	cert := []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	key := []byte("-----BEGIN EC PRIVATE KEY-----\nMHc=\n-----END EC PRIVATE KEY-----\n")
	sec := &corev1.Secret{Type: corev1.SecretTypeOpaque, Data: map[string][]byte{
		"auth": []byte("foo:{SHA}x"), "ca.crt": cert, "ca.crl": []byte("-----BEGIN X509 CRL-----\nMIIB\n-----END X509 CRL-----\n"),
		"tls.crt": cert, "tls.key": key, "other.pem": cert, "ca.crt.bundle": append(cert, key...),
	}}
	if _, err := trimAuthSecret(sec); err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{"auth": []byte("foo:{SHA}x"), "ca.crt": cert, "ca.crl": sec.Data["ca.crl"], "tls.crt": cert, "tls.key": nil, "other.pem": nil, "ca.crt.bundle": nil}
	if !cmp.Equal(sec.Data, want) {
		t.Errorf("opaque data %q, want %q", sec.Data, want)
	}
	sec.Data = map[string][]byte{"ca.crt": append(cert, key...)}
	if _, _ = trimAuthSecret(sec); sec.Data["ca.crt"] != nil {
		t.Error("a private key under ca.crt is cached")
	}
}
