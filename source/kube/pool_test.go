package kube

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"

	"github.com/fairwayhq/fairway/translator"
)

// TestServiceWantPool: with a pool a Service shows exactly its own
// addresses; without, the fleet's of its families; and a pool address
// in the status of a Service fairway no longer admits is cleared, even
// though this process never wrote it (a restart, a new leader).
func TestServiceWantPool(t *testing.T) {
	w := &StatusWriter{ours: map[Address]bool{}, inPool: translator.Options{LBAddressPools: []string{"192.0.2.0/28"}}.AddressPoolMember()}
	fleet := []Address{{IP: "2001:db8::7"}, {IP: "203.0.113.1"}, {Hostname: "lb.example.com"}}
	ports := []translator.PortAdmission{{Port: 443, Protocol: "TCP", Listener: "tcp-192.0.2.2-443"}}
	proxy := corev1.LoadBalancerIPModeProxy
	own := []corev1.LoadBalancerIngress{{IP: "192.0.2.2", IPMode: &proxy, Ports: []corev1.PortStatus{{Port: 443, Protocol: "TCP"}}}}

	got, manage := w.serviceWant(nil, translator.ServiceAdmission{Ports: ports, Addresses: []string{"192.0.2.2"}}, true, fleet)
	if d := cmp.Diff(own, got); d != "" || !manage {
		t.Errorf("own address (manage %v, -want +got):\n%s", manage, d)
	}
	got, _ = w.serviceWant(nil, translator.ServiceAdmission{Ports: ports, Addresses: []string{"2001:db8::2", "192.0.2.2"}}, true, fleet)
	if ips := serviceAddresses(got); !cmp.Equal(ips, []Address{{IP: "2001:db8::2"}, {IP: "192.0.2.2"}}) {
		t.Errorf("a dual-stack Service's own addresses, IPv6 first as the translator gave them: %v", ips)
	}
	got, _ = w.serviceWant(nil, translator.ServiceAdmission{Ports: ports, Families: []string{"IPv6"}}, true, fleet)
	if ips := serviceAddresses(got); !cmp.Equal(ips, []Address{{IP: "2001:db8::7"}, {Hostname: "lb.example.com"}}) {
		t.Errorf("IPv6 only: %v", ips)
	}
	got, _ = w.serviceWant(nil, translator.ServiceAdmission{Ports: ports}, true, fleet)
	if len(got) != 3 {
		t.Errorf("no families means every family: %v", serviceAddresses(got))
	}
	if got, manage := w.serviceWant(own, translator.ServiceAdmission{}, false, fleet); !manage || got != nil {
		t.Errorf("a pool address of a Service no longer admitted: want it cleared, got %v (manage %v)", got, manage)
	}
	foreign := []corev1.LoadBalancerIngress{{IP: "198.51.100.4", IPMode: &proxy}}
	if _, manage := w.serviceWant(foreign, translator.ServiceAdmission{}, false, fleet); manage {
		t.Error("an address outside the pools that fairway never wrote was taken over")
	}
}

// TestReconcileNeverShowsAnAddressTwice: an address moving from one
// Service to another is cleared from the first before the second gets it;
// a Service of another loadBalancerClass is never written, even with a
// pool address in its status, and a Service given that address waits,
// with one warning.
func TestReconcileNeverShowsAnAddressTwice(t *testing.T) {
	proxy := corev1.LoadBalancerIPModeProxy
	class := "other.example/lb"
	svc := func(name string, typ corev1.ServiceType, ip string) *corev1.Service {
		s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: name, ResourceVersion: "1"}, Spec: corev1.ServiceSpec{Type: typ}}
		if ip != "" {
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip, IPMode: &proxy}}
		}
		return s
	}
	old := svc("old", corev1.ServiceTypeClusterIP, "192.0.2.1") // was a LoadBalancer, holds .1 still
	next := svc("next", corev1.ServiceTypeLoadBalancer, "")
	other := svc("other", corev1.ServiceTypeLoadBalancer, "192.0.2.5")
	other.Spec.LoadBalancerClass = &class
	clash := svc("clash", corev1.ServiceTypeLoadBalancer, "")
	store := cache.NewStore(cache.MetaNamespaceKeyFunc)
	for _, s := range []*corev1.Service{old, next, other, clash} {
		_ = store.Add(s)
	}
	client := fake.NewClientset(old, next, other, clash)
	opts := translator.Options{LBAddressPools: []string{"192.0.2.0/29"}}.WithDefaults()
	w := &StatusWriter{
		client: client, services: store, ingresses: cache.NewStore(cache.MetaNamespaceKeyFunc),
		addrs: &Addresses{spec: PublishAddress{Static: []Address{{IP: "203.0.113.1"}}}}, log: hclog.NewNullLogger(),
		metrics: NewMetrics(prometheus.NewRegistry()), kick: make(chan struct{}, 1), ours: map[Address]bool{}, awaiting: map[objectKey]string{}, warned: map[string]bool{},
		handles: opts.HandlesLoadBalancerClass, inPool: opts.AddressPoolMember(),
		term: context.Background(),
		admitted: &translator.Admitted{Services: []translator.ServiceAdmission{{
			ObjectRef: translator.ObjectRef{Kind: "Service", Namespace: "app", Name: "next"},
			Ports:     []translator.PortAdmission{{Port: 443, Protocol: "TCP", Listener: "tcp-192.0.2.1-443"}},
			Addresses: []string{"192.0.2.1"},
		}, {
			ObjectRef: translator.ObjectRef{Kind: "Service", Namespace: "app", Name: "clash"},
			Ports:     []translator.PortAdmission{{Port: 443, Protocol: "TCP", Listener: "tcp-192.0.2.5-443"}},
			Addresses: []string{"192.0.2.5"},
		}}},
	}
	w.reconcile()
	if got := patched(t, client); !cmp.Equal(got, map[string][]string{"old": nil}) {
		t.Fatalf("first pass wrote %v, want only old's status cleared", got)
	}
	cleared := old.DeepCopy()
	cleared.ResourceVersion, cleared.Status = "2", corev1.ServiceStatus{}
	_ = store.Update(cleared)
	client.ClearActions()
	w.reconcile()
	if got := patched(t, client); !cmp.Equal(got, map[string][]string{"next": {"192.0.2.1"}}) {
		t.Fatalf("after the clear's echo wrote %v, want next given 192.0.2.1", got)
	}
	if len(w.warned) != 1 {
		t.Errorf("warnings %v, want one for clash waiting on other's 192.0.2.5", w.warned)
	}
}

// TestHeldElsewhereSharing: Services admitted with one address (a sharing
// key) do not wait for each other; a holder not admitted with it does.
func TestHeldElsewhereSharing(t *testing.T) {
	proxy := corev1.LoadBalancerIPModeProxy
	entry := []corev1.LoadBalancerIngress{{IP: "192.0.2.3", IPMode: &proxy}}
	dns := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "dns-udp"}, Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: entry}}}
	joining := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "dns-tcp"}}
	h := statusHolders([]any{dns, joining})
	ref := func(name string) translator.ObjectRef {
		return translator.ObjectRef{Kind: "Service", Namespace: "app", Name: name}
	}
	sharing := map[translator.ObjectRef]translator.ServiceAdmission{
		ref("dns-udp"): {ObjectRef: ref("dns-udp"), Addresses: []string{"192.0.2.3"}},
		ref("dns-tcp"): {ObjectRef: ref("dns-tcp"), Addresses: []string{"192.0.2.3"}},
	}
	if _, _, wait := h.heldElsewhere(joining, entry, sharing); wait {
		t.Error("a Service sharing an address waited for the other sharer")
	}
	delete(sharing, ref("dns-udp"))
	if holder, ip, wait := h.heldElsewhere(joining, entry, sharing); !wait || holder.name != "dns-udp" || ip != "192.0.2.3" {
		t.Errorf("an address still shown by a Service that lost it: wait %v for %v's %s, want a wait for dns-udp's 192.0.2.3", wait, holder, ip)
	}
	if _, _, wait := h.heldElsewhere(dns, entry, sharing); wait {
		t.Error("a Service waited for its own address")
	}
}

// patched is the status IPs each Service patch wrote.
func patched(t *testing.T, client *fake.Clientset) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, a := range client.Actions() {
		p, ok := a.(k8stesting.PatchAction)
		if !ok || p.GetSubresource() != "status" {
			continue
		}
		var body struct {
			Status corev1.ServiceStatus `json:"status"`
		}
		if err := json.Unmarshal(p.GetPatch(), &body); err != nil {
			t.Fatal(err)
		}
		ips := serviceStatusIPs(&corev1.Service{Status: body.Status})
		if len(ips) == 0 {
			ips = nil
		}
		out[p.GetName()] = ips
	}
	return out
}
