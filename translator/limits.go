package translator

import (
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
)

// Default per-Ingress limits. README "Poison objects and limits" gives the
// reasons and the measured translate times behind them.
const (
	// DefaultMaxAnnotationBytes is the API server's own cap on an object's
	// annotations (keys plus values): a file source has no such cap, and
	// holding it to the same one means a manifest that works with
	// --manifests also applies to a cluster.
	DefaultMaxAnnotationBytes = 256 << 10
	// DefaultMaxIngressPaths bounds the paths (and rules) of one Ingress.
	// Envoy tries a virtual host's routes in order on every request, so one
	// Ingress's thousands of paths would slow every request to its host.
	DefaultMaxIngressPaths = 1000
	// DefaultMaxIngressTLSHosts bounds the hosts over all of one Ingress's
	// spec.tls entries: public CAs put at most 100 names in a certificate,
	// and every TLS host is a filter chain of the https listener.
	DefaultMaxIngressTLSHosts = 100
)

// Limits caps what one object may ask of the fleet. An object over a limit
// is refused whole, with one ObjectTooLarge Problem, rather than served in
// part: which part to drop would be arbitrary, and the refusal costs the
// other objects nothing. Zero fields take the defaults.
type Limits struct {
	AnnotationBytes int `json:"annotationBytes,omitempty"`
	IngressPaths    int `json:"ingressPaths,omitempty"`
	IngressTLSHosts int `json:"ingressTLSHosts,omitempty"`
}

func (l Limits) withDefaults() Limits {
	if l.AnnotationBytes == 0 {
		l.AnnotationBytes = DefaultMaxAnnotationBytes
	}
	if l.IngressPaths == 0 {
		l.IngressPaths = DefaultMaxIngressPaths
	}
	if l.IngressTLSHosts == 0 {
		l.IngressTLSHosts = DefaultMaxIngressTLSHosts
	}
	return l
}

func (l Limits) validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"annotation bytes", l.AnnotationBytes}, {"ingress paths", l.IngressPaths}, {"ingress TLS hosts", l.IngressTLSHosts}} {
		if f.v < 0 {
			return fmt.Errorf("limit on %s %d: must be positive", f.name, f.v)
		}
	}
	return nil
}

// ingressTooLarge names the first limit ing is over, as a message that
// names the field, or "" when it is within all of them. It only counts:
// nothing of an oversized object is copied, so refusing it costs time
// linear in its size and no memory.
func (l Limits) ingressTooLarge(ing *networkingv1.Ingress) string {
	if n := annotationBytes(ing.Annotations); n > l.AnnotationBytes {
		return fmt.Sprintf("metadata.annotations: %d bytes (keys and values), more than the limit of %d (the largest is %s); the Ingress is not served",
			n, l.AnnotationBytes, largestAnnotation(ing.Annotations))
	}
	if n := len(ing.Spec.Rules); n > l.IngressPaths {
		return fmt.Sprintf("spec.rules: %d rules, more than the limit of %d; the Ingress is not served", n, l.IngressPaths)
	}
	paths := 0
	for _, r := range ing.Spec.Rules {
		if r.HTTP != nil {
			paths += len(r.HTTP.Paths)
		}
	}
	if paths > l.IngressPaths {
		return fmt.Sprintf("spec.rules[*].http.paths: %d paths, more than the limit of %d; the Ingress is not served", paths, l.IngressPaths)
	}
	hosts := 0
	for _, t := range ing.Spec.TLS {
		hosts += len(t.Hosts)
	}
	if hosts > l.IngressTLSHosts {
		return fmt.Sprintf("spec.tls[*].hosts: %d hosts, more than the limit of %d; the Ingress is not served", hosts, l.IngressTLSHosts)
	}
	return ""
}

// annotationBytes counts as the API server does: len of key plus value.
// It runs for every Ingress of every translation, so it only counts.
func annotationBytes(a map[string]string) (total int) {
	for k, v := range a {
		total += len(k) + len(v)
	}
	return total
}

// largestAnnotation names the largest entry, for the refusal's message,
// its key cut short: in a file source a key can be as large as a value,
// and a message must not carry it.
func largestAnnotation(a map[string]string) string {
	var key string
	size := -1
	for k, v := range a {
		n := len(k) + len(v)
		if n > size || (n == size && k < key) {
			key, size = k, n
		}
	}
	const keep = 63
	if len(key) > keep {
		key = key[:keep] + "..."
	}
	return fmt.Sprintf("%q, %d bytes", key, size)
}
