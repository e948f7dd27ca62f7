package translator

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/translator/annotations"
)

// dnsTarget is an auth service outside the cluster: the origin of its
// auth-url, found by DNS. It is comparable, part of a clusterKey.
type dnsTarget struct {
	scheme, host string
	port         uint32
}

func (d dnsTarget) name() string { return envoy.AuthDNSClusterName(d.scheme, d.host, d.port) }

// authURLField is where an Ingress's auth-url is, in messages: under
// the prefix it was read from (fairway's wins, as in annotations.Parse).
func authURLField(st *ingressState) string {
	key := annotations.NginxPrefix + "auth-url"
	if _, ok := st.obj.Annotations[annotations.FairwayPrefix+"auth-url"]; ok {
		key = annotations.FairwayPrefix + "auth-url"
	}
	return "metadata.annotations[" + key + "]"
}

// resolveAuth finds the cluster of the auth service of a route whose
// Ingress has an auth-url. A Service's DNS name is that Service port's
// cluster (the one a backend to it uses, over TLS for https), so the
// check goes to its ready pods as any request to it would; so is a bare
// <service>.<namespace> while that Service exists. Any other host gets a
// DNS cluster of its own. When the Service or its port is missing
// the route cannot be checked: it answers 503 and is never forwarded
// unchecked (fail closed), with a Problem, and its Ingress's other routes
// fare the same while the Service is missing.
func (t *translation) resolveAuth(st *ingressState, r *httpRoute) {
	if r.policy == nil || r.policy.ExtAuth == nil {
		return
	}
	u := r.policy.ExtAuth.URL
	k := nsName{u.Namespace, u.Service}
	if u.Service != "" {
		t.referenced = append(t.referenced, k) // its coming or going changes the route
	}
	svc := t.idx.services[k]
	if u.Service == "" || (u.Short && svc == nil) {
		r.auth = t.useCluster(clusterKey{dns: &dnsTarget{scheme: u.Scheme, host: u.Host, port: u.Port}})
		return
	}
	switch {
	case svc == nil:
		t.problems.add(st.ref, BackendNotFound, "%s: Service %s/%s not found; the Ingress's routes answer %d and are not forwarded unchecked", authURLField(st), u.Namespace, u.Service, unavailable)
	case svc.Spec.Type == corev1.ServiceTypeExternalName:
		t.problems.add(st.ref, UnsupportedBackend, "%s: Service %s/%s is of type ExternalName, which fairway does not route to; the Ingress's routes answer %d and are not forwarded unchecked", authURLField(st), u.Namespace, u.Service, unavailable)
	default:
		sp, reason, err := findServicePort(svc, networkingv1.ServiceBackendPort{Number: int32(u.Port)})
		if err == nil {
			up := envoy.Upstream{TLS: u.Scheme == "https"}.Normal()
			r.auth = t.useCluster(clusterKey{namespace: u.Namespace, service: u.Service, port: sp.Port, up: up})
			return
		}
		t.problems.add(st.ref, reason, "%s: %v; the Ingress's routes answer %d and are not forwarded unchecked", authURLField(st), err, unavailable)
	}
	r.cluster, r.plain = "", ""
}
