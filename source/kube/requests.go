package kube

import (
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// countingTransport counts fairway's requests to the API server by verb
// and resource, so that what a failover or a resync costs the API server
// shows in fairway's own metrics, where an operator (and a test) can see
// it without access to the API server's.
type countingTransport struct {
	next     http.RoundTripper
	requests *prometheus.CounterVec
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	q := req.URL.Query()
	verb, resource := requestKind(req.Method, req.URL.Path, q.Get("watch"), q.Get("sendInitialEvents"))
	t.requests.WithLabelValues(verb, resource).Inc()
	return t.next.RoundTrip(req)
}

// requestKind names a request as the API server's audit log does: the
// verb (get, list, watch, create, update, patch, delete) and the resource
// with its subresource ("services/status"). Paths are
// /api/v1[/namespaces/NS]/RESOURCE[/NAME[/SUB]] and
// /apis/GROUP/VERSION[/namespaces/NS]/RESOURCE[/NAME[/SUB]]; anything
// else (discovery, /healthz) is resource "other". One exception to the
// audit log's verbs: a watch that sends the initial state
// (sendInitialEvents, how client-go's informers list since WatchListClient
// became the default) is counted as a list, since it is one, and an
// informer's relist must show as such.
func requestKind(method, path, watch, initialEvents string) (verb, resource string) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		parts = parts[3:]
	default:
		parts = nil
	}
	if len(parts) >= 3 && parts[0] == "namespaces" {
		parts = parts[2:] // a namespaced resource; "namespaces/NAME" alone is the Namespace itself
	}
	named := len(parts) >= 2
	switch {
	case len(parts) == 0:
		resource = "other"
	case len(parts) >= 3:
		resource = parts[0] + "/" + parts[2]
	default:
		resource = parts[0]
	}
	switch method {
	case http.MethodGet:
		verb = "list"
		switch {
		case (watch == "true" || watch == "1") && initialEvents == "true":
			// a list, streamed
		case watch == "true" || watch == "1":
			verb = "watch"
		case named:
			verb = "get"
		}
	case http.MethodPost:
		verb = "create"
	case http.MethodPut:
		verb = "update"
	case http.MethodPatch:
		verb = "patch"
	case http.MethodDelete:
		verb = "delete"
	default:
		verb = strings.ToLower(method)
	}
	return verb, resource
}
