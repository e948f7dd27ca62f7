package translatortest

import networkingv1 "k8s.io/api/networking/v1"

// pathAnnotations are the paths group's annotations the universe draws
// from: regex paths and rewrites change how an Ingress's paths are keyed
// and ranked, and aliases and www twins make an Ingress contribute to
// hosts it does not name, which the engine's host index must follow.
var pathAnnotations = []map[string]string{
	{"nginx.ingress.kubernetes.io/use-regex": "true"},
	{"nginx.ingress.kubernetes.io/rewrite-target": "/$1"}, // most universe paths have no group: InvalidPath
	{"nginx.ingress.kubernetes.io/rewrite-target": "/", "nginx.ingress.kubernetes.io/app-root": "/a"},
	{"nginx.ingress.kubernetes.io/server-alias": "y.com"},
	{"nginx.ingress.kubernetes.io/server-alias": "www.x.com,p.w.com"},
	{"fairway.dev/server-alias": "*.w.com, z.com"},
	{"nginx.ingress.kubernetes.io/from-to-www-redirect": "true"},
	{"nginx.ingress.kubernetes.io/from-to-www-redirect": "true", "nginx.ingress.kubernetes.io/server-alias": "www.y.com"},
	{"nginx.ingress.kubernetes.io/permanent-redirect": "https://x.com/moved"},
	{"nginx.ingress.kubernetes.io/upstream-vhost": "b.internal", "nginx.ingress.kubernetes.io/x-forwarded-prefix": "/a"},
}

// annotatePaths gives one Ingress in three some of the paths group's
// annotations.
func (u *Universe) annotatePaths(ing *networkingv1.Ingress) {
	if u.r.IntN(3) != 0 {
		return
	}
	if ing.Annotations == nil {
		ing.Annotations = map[string]string{}
	}
	for k, v := range pathAnnotations[u.r.IntN(len(pathAnnotations))] {
		ing.Annotations[k] = v
	}
}
