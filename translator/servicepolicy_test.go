package translator

import (
	"slices"
	"testing"

	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestServiceSettingsChangeRebuilds: a LoadBalancer Service whose
// settings change gets its listener and cluster rebuilt on the next
// output, and the cluster it left is gone; a source range gone bad closes
// the listener, and fixing it opens it again.
func TestServiceSettingsChangeRebuilds(t *testing.T) {
	e := NewEngine(Options{})
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "db", Name: "pg", ResourceVersion: "1"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 5432}}},
	}
	step := func(change func(*corev1.Service)) Result {
		t.Helper()
		svc = svc.DeepCopy()
		change(svc)
		svc.ResourceVersion += "1"
		if err := e.Upsert(svc); err != nil {
			t.Fatal(err)
		}
		out := e.Output()
		if out.Err != nil {
			t.Fatal(out.Err)
		}
		return out.Result()
	}
	clusters := func(r Result) []string {
		var names []string
		for _, c := range r.Clusters {
			names = append(names, c.GetName())
		}
		return names
	}
	r := step(func(*corev1.Service) {})
	if got := clusters(r); !slices.Equal(got, []string{"db/pg/5432"}) {
		t.Fatalf("plain: clusters %v", got)
	}
	r = step(func(s *corev1.Service) {
		s.Annotations = map[string]string{"fairway.dev/proxy-protocol": "v2"}
		s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
	})
	if got := clusters(r); !slices.Equal(got, []string{"db/pg/5432/affinity/proxy-v2"}) {
		t.Fatalf("with settings: clusters %v", got)
	}
	if len(r.Listeners) != 1 {
		t.Fatalf("with settings: listeners %v", r.Listeners)
	}
	tp := unpack(t, r.Listeners[0].GetFilterChains()[0].GetFilters()[0].GetTypedConfig(), &tcpproxyv3.TcpProxy{})
	if tp.GetCluster() != "db/pg/5432/affinity/proxy-v2" || len(tp.GetHashPolicy()) != 1 {
		t.Fatalf("with settings: tcp_proxy %v", tp)
	}
	r = step(func(s *corev1.Service) { s.Spec.LoadBalancerSourceRanges = []string{"10.0.0.0/80"} })
	if len(r.Listeners) != 0 || len(r.Admitted.Services) != 0 {
		t.Fatalf("bad source range: listeners %v, admitted %v; want it closed", r.Listeners, r.Admitted.Services)
	}
	r = step(func(s *corev1.Service) { s.Spec.LoadBalancerSourceRanges = []string{"10.0.0.0/8"} })
	if len(r.Listeners) != 1 || r.Listeners[0].GetFilterChains()[0].GetFilterChainMatch().GetSourcePrefixRanges()[0].GetAddressPrefix() != "10.0.0.0" {
		t.Fatalf("fixed source range: listeners %v", r.Listeners)
	}
}

// TestSourceRanges: the field wins over the annotation, host bits are
// masked, an IPv4-mapped range is its IPv4 one, duplicates go, and
// anything that is not a CIDR (a bare address, a zone, an empty item) is
// an error naming the field it came from.
func TestSourceRanges(t *testing.T) {
	const key = corev1.AnnotationLoadBalancerSourceRangesKey
	for _, c := range []struct {
		field []string
		ann   string
		want  []string
		from  string
		bad   bool
	}{
		{from: key},
		{ann: "  ", from: key},
		{field: []string{"10.0.0.1/8"}, ann: "not-a-cidr", want: []string{"10.0.0.0/8"}, from: "spec.loadBalancerSourceRanges"},
		{ann: "192.0.2.9/24, ::ffff:10.1.2.3/104 ,192.0.2.0/24", want: []string{"10.0.0.0/8", "192.0.2.0/24"}, from: key},
		{field: []string{"2001:db8::1/32", "0.0.0.0/0"}, want: []string{"0.0.0.0/0", "2001:db8::/32"}, from: "spec.loadBalancerSourceRanges"},
		{field: []string{"192.0.2.7"}, from: "spec.loadBalancerSourceRanges", bad: true},
		{field: []string{"fe80::1%eth0/64"}, from: "spec.loadBalancerSourceRanges", bad: true},
		{ann: "10.0.0.0/8,", from: key, bad: true},
	} {
		svc := &corev1.Service{Spec: corev1.ServiceSpec{LoadBalancerSourceRanges: c.field}}
		if c.ann != "" {
			svc.Annotations = map[string]string{key: c.ann}
		}
		got, from, err := sourceRanges(svc)
		if (err != nil) != c.bad || from != c.from || !slices.Equal(got, c.want) {
			t.Errorf("field %q annotation %q: %v from %s (error %v), want %v from %s (error %v)", c.field, c.ann, got, from, err, c.want, c.from, c.bad)
		}
	}
}
