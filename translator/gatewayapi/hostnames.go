package gatewayapi

import (
	"slices"
	"strings"
)

// The Gateway API's hostname rules differ from Ingress's: a wildcard
// "*.example.com" matches any number of labels in front of example.com
// ("a.b.example.com" too), never example.com itself.

// hostMatches says whether the pattern (exact or "*." wildcard) matches
// the exact host. Hostnames compare case-insensitively.
func hostMatches(pattern, host string) bool {
	pattern, host = strings.ToLower(pattern), strings.ToLower(host)
	if suffix, ok := strings.CutPrefix(pattern, "*"); ok {
		return strings.HasSuffix(host, suffix) && len(host) > len(suffix)
	}
	return pattern == host
}

// covers says whether every host that b admits, a admits too.
func covers(a, b string) bool {
	if a == "" {
		return true
	}
	if b == "" {
		return false
	}
	if strings.HasPrefix(b, "*.") {
		// A wildcard is covered only by a wildcard of a shorter suffix
		// (or an equal one): *.example.com covers *.a.example.com.
		return strings.HasPrefix(a, "*.") && (strings.EqualFold(a, b) || hostMatches(a, b[2:]))
	}
	return hostMatches(a, b)
}

// overlap says whether some request host is admitted by both hostnames
// ("" admits every host): two listeners that overlap on one port and
// protocol cannot be told apart for the hosts they share.
func overlap(a, b string) bool {
	return covers(a, b) || covers(b, a)
}

// IntersectHostnames is where a route with hostnames routeHosts is served
// on a listener of hostname listenerHost, by the spec's rule: the route's
// hostnames that the listener admits, and the listener's own where a
// route's wildcard admits it (the more specific of the two each time).
// nil with ok true is any host (neither names one); ok false is no
// intersection, and the route does not attach to that listener.
func IntersectHostnames(listenerHost string, routeHosts []string) (hosts []string, ok bool) {
	if len(routeHosts) == 0 {
		if listenerHost == "" {
			return nil, true
		}
		return []string{listenerHost}, true
	}
	seen := map[string]bool{}
	for _, h := range routeHosts {
		var got string
		switch {
		case covers(listenerHost, h):
			got = h
		case covers(h, listenerHost):
			got = listenerHost
		default:
			continue
		}
		if got = strings.ToLower(got); !seen[got] {
			seen[got] = true
			hosts = append(hosts, got)
		}
	}
	slices.Sort(hosts)
	return hosts, len(hosts) > 0
}
