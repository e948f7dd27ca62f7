package kube

import (
	"bytes"
	"reflect"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// lastApplied is kubectl's copy of the whole object in an annotation: often
// the largest thing in it, and never read by fairway.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// trim is the informers' Transform. The caches hold every watched object
// of the cluster for as long as fairway runs, so what fairway never reads
// is dropped before it is stored: managedFields everywhere, a TLS Secret's
// data but its certificate, key and CA (ca.crt and ca.crl, which
// auth-tls-secret and proxy-ssl-secret read), and everything of a Node but its name,
// labels, addresses and readiness. The Node trimming also drops the
// heartbeat times, so a kubelet's status updates compare equal and cost
// nothing downstream.
func trim(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
		if _, ok := m.GetAnnotations()[lastApplied]; ok {
			a := make(map[string]string, len(m.GetAnnotations()))
			for k, v := range m.GetAnnotations() {
				if k != lastApplied {
					a[k] = v
				}
			}
			m.SetAnnotations(a)
		}
	}
	switch o := obj.(type) {
	case *corev1.Secret:
		data := map[string][]byte{}
		for _, k := range []string{corev1.TLSCertKey, corev1.TLSPrivateKeyKey, caCertKey, caCRLKey} {
			if v, ok := o.Data[k]; ok {
				data[k] = v
			}
		}
		o.Data, o.StringData = data, nil
	case *corev1.Node:
		trimNode(o)
	}
	return obj, nil
}

// trimAuthSecret is the Opaque Secrets' Transform: trim's, but an
// Opaque Secret keeps its data, since an auth-map Secret's every key is a
// user, and a CA for auth-tls-secret or proxy-ssl-secret is often kept
// in one (ca.crt, ca.crl, and tls.crt, the certificate a backend is
// shown). Other PEM blocks are never htpasswd and may be private keys:
// their keys stay, with no value, so that a reader can tell "not kept"
// from "not there", and the keys of certgen's CA (fairway-ca, Opaque so
// that its key stays out of this cache) and any other private key kept
// in an Opaque Secret never enter fairway's memory. Service-account
// tokens, registry credentials and Helm releases are other types, and
// never reach fairway at all.
func trimAuthSecret(obj any) (any, error) {
	s, ok := obj.(*corev1.Secret)
	if !ok {
		return trim(obj)
	}
	data := make(map[string][]byte, len(s.Data))
	for k, v := range s.Data {
		public := (k == caCertKey || k == caCRLKey || k == corev1.TLSCertKey) && !bytes.Contains(v, privateKeyMarker)
		if public || !bytes.Contains(v, pemMarker) {
			data[k] = v
		} else {
			data[k] = nil
		}
	}
	if _, err := trim(s); err != nil {
		return nil, err
	}
	s.Data = data
	return s, nil
}

// pemMarker starts every PEM block: a certificate or a private key;
// privateKeyMarker is in the first line of every private key's.
var (
	pemMarker        = []byte("-----BEGIN ")
	privateKeyMarker = []byte("PRIVATE KEY-----")
)

// The keys of a Secret's CA, as ingress-nginx reads them.
const (
	caCertKey = "ca.crt"
	caCRLKey  = "ca.crl"
)

func trimNode(n *corev1.Node) {
	var ready []corev1.NodeCondition
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			ready = append(ready, corev1.NodeCondition{Type: c.Type, Status: c.Status})
		}
	}
	n.Spec = corev1.NodeSpec{}
	n.Status = corev1.NodeStatus{Addresses: n.Status.Addresses, Conditions: ready}
}

// sameForTranslation reports whether an update changes nothing the
// translator reads: a resync, or a write of status fairway ignores (its own
// status writes above all, which would otherwise come back as work).
//
// With statusIPs (an address pool), a Service's status IPs are read too:
// an address kept in status.loadBalancer.ingress is the Service's
// allocation (that is how it survives restarts and leader changes), so a
// write there must reach the translator. Without a pool the translator
// never reads status, and each status write's echo would cost a round
// for nothing. fairway's own write of the address the translator just
// chose comes back as one more round that allocates the same and so
// publishes and writes nothing. The rest of the status (ports and their
// errors, ipMode) is the translator's own output and is not compared.
func sameForTranslation(old, next any, statusIPs bool) bool {
	if same, handled := sameGatewayObject(old, next); handled {
		return same
	}
	switch n := next.(type) {
	case *corev1.Namespace:
		o, ok := old.(*corev1.Namespace)
		return ok && sameMeta(&o.ObjectMeta, &n.ObjectMeta)
	case *corev1.Service:
		o, ok := old.(*corev1.Service)
		return ok && sameMeta(&o.ObjectMeta, &n.ObjectMeta) && reflect.DeepEqual(o.Spec, n.Spec) &&
			(!statusIPs || slices.Equal(serviceStatusIPs(o), serviceStatusIPs(n)))
	case *networkingv1.Ingress:
		o, ok := old.(*networkingv1.Ingress)
		return ok && sameMeta(&o.ObjectMeta, &n.ObjectMeta) && reflect.DeepEqual(o.Spec, n.Spec)
	case *discoveryv1.EndpointSlice:
		o, ok := old.(*discoveryv1.EndpointSlice)
		return ok && o.ResourceVersion == n.ResourceVersion
	case *corev1.Node:
		o, ok := old.(*corev1.Node)
		return ok && sameMeta(&o.ObjectMeta, &n.ObjectMeta) && reflect.DeepEqual(o.Status, n.Status)
	case metav1.Object:
		o, ok := old.(metav1.Object)
		return ok && o.GetResourceVersion() == n.GetResourceVersion()
	}
	return false
}

// serviceStatusIPs are the IPs of a Service's LoadBalancer status, in
// order.
func serviceStatusIPs(s *corev1.Service) []string {
	out := make([]string, 0, len(s.Status.LoadBalancer.Ingress))
	for _, in := range s.Status.LoadBalancer.Ingress {
		out = append(out, in.IP)
	}
	return out
}

// sameMeta compares the metadata the translator reads.
func sameMeta(o, n *metav1.ObjectMeta) bool {
	return o.UID == n.UID && o.CreationTimestamp.Equal(&n.CreationTimestamp) &&
		reflect.DeepEqual(o.Labels, n.Labels) && reflect.DeepEqual(o.Annotations, n.Annotations)
}

// unwrap returns the object of a delete notification, which is a
// tombstone when the watch missed the deletion and a relist found it gone.
func unwrap(obj any) any {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return t.Obj
	}
	return obj
}
