package tests

import (
	"context"
	"slices"
	"testing"
	"time"

	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestKubeLoadBalancerService: a LoadBalancer Service and its slice become
// a listener, a cluster and endpoints, and the Service's status gets the
// fleet's address (the ready fleet pod's node's ExternalIP), in proxy mode.
func TestKubeLoadBalancerService(t *testing.T) {
	cs := kubeClient(t)
	ns := newNamespace(t, cs)
	fleetMember(t, cs, ns, "edge-"+ns, "203.0.113.7", "app.kubernetes.io/name=fleet")
	create(t, func(ctx context.Context) error {
		if _, err := cs.CoreV1().Services(ns).Create(ctx, lbService(ns, "db", 5432, corev1.ProtocolTCP), metav1.CreateOptions{}); err != nil {
			return err
		}
		_, err := cs.DiscoveryV1().EndpointSlices(ns).Create(ctx, endpointSlice(ns, "db", "main", 5432, "10.0.0.5"), metav1.CreateOptions{})
		return err
	})
	f := startKubeFairway(t, controlPlane.Kubeconfig(), ns, "--publish-address", "fleet-pods=app.kubernetes.io/name=fleet")
	v := watchADS(t, f.xds, "envoy-0")
	cluster := ns + "/db/5432"
	v.waitFor(5*time.Second, "listener, cluster and endpoints of the Service", func() bool {
		return v.has(resourcev3.ListenerType, "tcp-5432") && v.has(resourcev3.ClusterType, cluster) &&
			slices.Equal(v.endpoints(cluster), []string{"10.0.0.5"})
	})
	proxy := corev1.LoadBalancerIPModeProxy
	want := []corev1.LoadBalancerIngress{{IP: "203.0.113.7", IPMode: &proxy, Ports: []corev1.PortStatus{{Port: 5432, Protocol: corev1.ProtocolTCP}}}}
	eventually(t, 5*time.Second, "the Service's status", func() bool { return cmp.Equal(serviceStatus(t, cs, ns, "db"), want) })
}

// TestKubeIngressClassSwitch: an Ingress of fairway's class gets routes
// and status; moved to another controller's class, its routes go and the
// status fairway wrote is cleared.
func TestKubeIngressClassSwitch(t *testing.T) {
	cs := kubeClient(t)
	ns := newNamespace(t, cs)
	createIngressClass(t, cs, ingressClass("fairway-"+ns, "fairway.dev/ingress-controller"))
	createIngressClass(t, cs, ingressClass("other-"+ns, "example.com/other"))
	host := "shop." + ns + ".example.com"
	create(t, func(ctx context.Context) error {
		if _, err := cs.CoreV1().Services(ns).Create(ctx, clusterIPService(ns, "web", 80, 8080), metav1.CreateOptions{}); err != nil {
			return err
		}
		if _, err := cs.DiscoveryV1().EndpointSlices(ns).Create(ctx, endpointSlice(ns, "web", "http", 8080, "10.0.0.9"), metav1.CreateOptions{}); err != nil {
			return err
		}
		_, err := cs.NetworkingV1().Ingresses(ns).Create(ctx, ingress(ns, "shop", "fairway-"+ns, host, "web", 80), metav1.CreateOptions{})
		return err
	})
	f := startKubeFairway(t, controlPlane.Kubeconfig(), ns)
	v := watchADS(t, f.xds, "envoy-0")
	v.waitFor(5*time.Second, "the Ingress's virtual host", func() bool { return slices.Contains(v.virtualHosts("http"), host) })
	eventually(t, 5*time.Second, "the Ingress's status", func() bool {
		st := ingressStatus(t, cs, ns, "shop")
		return len(st) == 1 && st[0].IP == fleetAddress
	})

	create(t, func(ctx context.Context) error {
		ing, err := cs.NetworkingV1().Ingresses(ns).Get(ctx, "shop", metav1.GetOptions{})
		if err != nil {
			return err
		}
		other := "other-" + ns
		ing.Spec.IngressClassName = &other
		_, err = cs.NetworkingV1().Ingresses(ns).Update(ctx, ing, metav1.UpdateOptions{})
		return err
	})
	v.waitFor(5*time.Second, "the virtual host gone", func() bool { return !slices.Contains(v.virtualHosts("http"), host) })
	eventually(t, 5*time.Second, "the status cleared", func() bool { return len(ingressStatus(t, cs, ns, "shop")) == 0 })
}

// TestKubePortConflict: of two Services on one port, the older keeps it;
// the newer gets an Event and no status.
func TestKubePortConflict(t *testing.T) {
	cs := kubeClient(t)
	ns := newNamespace(t, cs)
	create(t, func(ctx context.Context) error {
		_, err := cs.CoreV1().Services(ns).Create(ctx, lbService(ns, "first", 7000, corev1.ProtocolTCP), metav1.CreateOptions{})
		return err
	})
	time.Sleep(1100 * time.Millisecond) // creationTimestamp has one-second resolution
	create(t, func(ctx context.Context) error {
		_, err := cs.CoreV1().Services(ns).Create(ctx, lbService(ns, "second", 7000, corev1.ProtocolTCP), metav1.CreateOptions{})
		return err
	})
	f := startKubeFairway(t, controlPlane.Kubeconfig(), ns)
	v := watchADS(t, f.xds, "envoy-0")
	v.waitFor(5*time.Second, "tcp-7000 to the older Service", func() bool {
		for _, fc := range v.listener("tcp-7000").GetFilterChains() {
			tp := &tcpproxyv3.TcpProxy{}
			if fc.GetFilters()[0].GetTypedConfig().UnmarshalTo(tp) == nil && tp.GetCluster() == ns+"/first/7000" {
				return true
			}
		}
		return false
	})
	eventually(t, 5*time.Second, "the older Service's status", func() bool { return len(serviceStatus(t, cs, ns, "first")) == 1 })
	eventually(t, 5*time.Second, "a PortConflict Event on the newer Service", func() bool {
		return slices.Contains(eventsFor(t, cs, ns, "Service", "second"), "PortConflict")
	})
	if st := serviceStatus(t, cs, ns, "second"); len(st) != 0 {
		t.Errorf("the newer Service got status %v", st)
	}
	if len(eventsFor(t, cs, ns, "Service", "first")) != 0 {
		t.Error("the older Service got an Event")
	}
}

// TestKubeEndpointScaling: adding endpoints to a slice reaches Envoy as
// EDS alone.
func TestKubeEndpointScaling(t *testing.T) {
	cs := kubeClient(t)
	ns := newNamespace(t, cs)
	create(t, func(ctx context.Context) error {
		if _, err := cs.CoreV1().Services(ns).Create(ctx, lbService(ns, "api", 9000, corev1.ProtocolTCP), metav1.CreateOptions{}); err != nil {
			return err
		}
		_, err := cs.DiscoveryV1().EndpointSlices(ns).Create(ctx, endpointSlice(ns, "api", "main", 9000, "10.0.0.1"), metav1.CreateOptions{})
		return err
	})
	f := startKubeFairway(t, controlPlane.Kubeconfig(), ns)
	v := watchADS(t, f.xds, "envoy-0")
	cluster := ns + "/api/9000"
	v.waitFor(5*time.Second, "the first endpoint", func() bool { return slices.Equal(v.endpoints(cluster), []string{"10.0.0.1"}) })
	time.Sleep(300 * time.Millisecond) // let the status write's echo settle
	mark := v.mark()
	create(t, func(ctx context.Context) error {
		_, err := cs.DiscoveryV1().EndpointSlices(ns).Update(ctx, endpointSlice(ns, "api", "main", 9000, "10.0.0.1", "10.0.0.2", "10.0.0.3"), metav1.UpdateOptions{})
		return err
	})
	v.waitFor(5*time.Second, "three endpoints", func() bool {
		return slices.Equal(v.endpoints(cluster), []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"})
	})
	time.Sleep(500 * time.Millisecond)
	for _, typ := range v.pushesSince(mark) {
		if typ != resourcev3.EndpointType {
			t.Errorf("scaling endpoints pushed %s; only EDS should change (pushes %v)", typ, v.pushesSince(mark))
		}
	}
	// Status is written when it differs, not every round.
	if n := f.metric(statusWritten); n != 1 {
		t.Errorf("%v status writes for one Service whose status never changed; want 1", n)
	}
}

// TestKubePublishAddressFromService: behind an upstream load balancer, the
// fleet's address is that load balancer's, copied from its Service (of
// another loadBalancerClass, which fairway leaves alone), and follows it.
func TestKubePublishAddressFromService(t *testing.T) {
	cs := kubeClient(t)
	ns := newNamespace(t, cs)
	upstream := lbService(ns, "edge-lb", 443, corev1.ProtocolTCP)
	class := "example.com/cloud"
	upstream.Spec.LoadBalancerClass = &class
	setUpstream := func(hostname string) {
		create(t, func(ctx context.Context) error {
			svc, err := cs.CoreV1().Services(ns).Get(ctx, "edge-lb", metav1.GetOptions{})
			if err != nil {
				return err
			}
			svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{Hostname: hostname}}
			_, err = cs.CoreV1().Services(ns).UpdateStatus(ctx, svc, metav1.UpdateOptions{})
			return err
		})
	}
	create(t, func(ctx context.Context) error {
		_, err := cs.CoreV1().Services(ns).Create(ctx, upstream, metav1.CreateOptions{})
		return err
	})
	setUpstream("lb-1.cloud.example.com")
	createLBService(t, cs, ns, "db", 5432)
	startKubeFairway(t, controlPlane.Kubeconfig(), ns, "--publish-address", "service="+ns+"/edge-lb")
	hostnameIs := func(want string) func() bool {
		return func() bool {
			st := serviceStatus(t, cs, ns, "db")
			return len(st) == 1 && st[0].Hostname == want && st[0].IP == "" && st[0].IPMode == nil
		}
	}
	eventually(t, 5*time.Second, "the upstream's hostname", hostnameIs("lb-1.cloud.example.com"))
	setUpstream("lb-2.cloud.example.com")
	eventually(t, 5*time.Second, "the upstream's new hostname", hostnameIs("lb-2.cloud.example.com"))
	if st := serviceStatus(t, cs, ns, "edge-lb"); len(st) != 1 || st[0].Hostname != "lb-2.cloud.example.com" {
		t.Errorf("fairway touched the upstream's status: %v", st)
	}
}
