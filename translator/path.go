package translator

import (
	"fmt"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
)

// pathMatch is a normalised Ingress path: what a request must match.
// ImplementationSpecific is Prefix here, so two paths that match the same
// requests compare equal.
type pathMatch struct {
	exact bool
	// regex: path is an RE2 expression as written (use-regex,
	// rewrite-target), matched case-insensitively from the start; with
	// whole, it must match the whole path instead, case-sensitively (the
	// Gateway API's RegularExpression).
	regex, whole bool
	path         string
}

func (m pathMatch) String() string {
	if m.regex {
		return fmt.Sprintf("%q (regex)", m.path)
	}
	if m.exact {
		return fmt.Sprintf("%q (Exact)", m.path)
	}
	return fmt.Sprintf("%q (Prefix)", m.path)
}

// unreachableSequences are path pieces that Envoy's path normalisation
// (normalize_path, merge_slashes) removes from every request, so a rule that
// contains one could never match. The API server rejects them too, along
// with encoded slashes, which cannot be matched element by element.
var unreachableSequences = []string{"//", "/./", "/../"}
var encodedSlashes = []string{"%2f", "%2F"}

// parsePath turns an Ingress path into a pathMatch. Prefix paths lose their
// trailing slashes: "/foo/" matches exactly what "/foo" does. With regex
// (the Ingress's paths are regexes), every path type is a regex kept as
// written, as ingress-nginx's "location ~*" takes it.
func parsePath(p networkingv1.HTTPIngressPath, regex bool) (pathMatch, error) {
	if p.PathType == nil {
		return pathMatch{}, fmt.Errorf("pathType is required (Exact, Prefix or ImplementationSpecific)")
	}
	path := p.Path
	switch *p.PathType {
	case networkingv1.PathTypeExact, networkingv1.PathTypePrefix:
	case networkingv1.PathTypeImplementationSpecific:
		if path == "" {
			path = "/"
		}
	default:
		return pathMatch{}, fmt.Errorf("pathType %q is not one of Exact, Prefix, ImplementationSpecific", *p.PathType)
	}
	if regex {
		if path == "" {
			path = "/"
		}
		if err := checkRegexPath(path); err != nil {
			return pathMatch{}, err
		}
		return pathMatch{regex: true, path: path}, nil
	}
	if err := checkPath(path); err != nil {
		return pathMatch{}, err
	}
	if *p.PathType == networkingv1.PathTypeExact {
		return pathMatch{exact: true, path: path}, nil
	}
	trimmed := strings.TrimRight(path, "/")
	if trimmed == "" {
		trimmed = "/"
	}
	return pathMatch{path: trimmed}, nil
}

func checkPath(path string) error {
	if !strings.HasPrefix(path, "/") {
		return fmt.Errorf("path %q must begin with '/'", path)
	}
	for _, c := range []byte(path) {
		if c <= ' ' || c == 0x7f || c == '?' || c == '#' {
			return fmt.Errorf("path %q contains %q; paths cannot hold spaces, control characters, '?' or '#'", path, c)
		}
	}
	for _, seq := range unreachableSequences {
		if strings.Contains(path, seq) {
			return fmt.Errorf("path %q contains %q, which Envoy's path normalisation removes from requests, so it could never match", path, seq)
		}
	}
	for _, seq := range encodedSlashes {
		if strings.Contains(path, seq) {
			return fmt.Errorf("path %q contains an encoded slash %q, which cannot be matched element by element", path, seq)
		}
	}
	if strings.HasSuffix(path, "/..") || strings.HasSuffix(path, "/.") {
		return fmt.Errorf("path %q ends in a dot segment, which Envoy's path normalisation removes from requests, so it could never match", path)
	}
	return nil
}
