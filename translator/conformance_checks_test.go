package translator

import (
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/fairwayhq/fairway/translator/gatewayapi"
)

// TestConformanceChecksCatchDifferences holds the conformance checks to
// what they compare: each expectation passes against the outcome it
// describes and fails against one that differs.
func TestConformanceChecksCatchDifferences(t *testing.T) {
	res := Result{Clusters: []*clusterv3.Cluster{{Name: "ns/a/8080"}, {Name: "ns/b/8080"}}}
	slow := &routev3.Route{Action: &routev3.Route_Route{Route: &routev3.RouteAction{Timeout: durationpb.New(500 * time.Millisecond)}}}
	seen := map[string]headerSet{"ns/a/8080": {"x": {"1", "2"}}}
	req := request{scheme: "http", authority: "h", path: "/p"}
	for _, c := range []struct {
		name string
		out  outcome
		want confRequest
		ok   bool
	}{
		{"backend", outcome{cluster: "ns/a/8080", path: "/p"}, confRequest{backend: "ns/a"}, true},
		{"other backend", outcome{cluster: "ns/a/8080", path: "/p"}, confRequest{backend: "ns/b"}, false},
		{"namespace prefix", outcome{cluster: "ns/a/8080", path: "/p"}, confRequest{backend: "ns/"}, true},
		{"forwarded, not answered", outcome{cluster: "ns/a/8080", path: "/p"}, confRequest{status: 404}, false},
		{"answered", outcome{status: 404}, confRequest{status: 404}, true},
		{"answered, not forwarded", outcome{status: 404}, confRequest{backend: "ns/a"}, false},
		{"missing cluster's 500", outcome{cluster: "ns/gone/1", clusterNotFound: 500}, confRequest{status: 500}, true},
		{"missing cluster's 503", outcome{cluster: "ns/gone/1", clusterNotFound: 503}, confRequest{status: 500}, false},
		{"missing cluster is no backend", outcome{cluster: "ns/gone/1", clusterNotFound: 500}, confRequest{backend: "ns/gone"}, false},
		{"weights", outcome{split: map[string]uint32{"ns/a/8080": 70, "ns/b/8080": 30}, path: "/p"}, confRequest{weights: map[string]int{"ns/a": 7, "ns/b": 3}}, true},
		{"other weights", outcome{split: map[string]uint32{"ns/a/8080": 70, "ns/b/8080": 30}, path: "/p"}, confRequest{weights: map[string]int{"ns/a": 1, "ns/b": 1}}, false},
		{"a split is not one backend", outcome{split: map[string]uint32{"ns/a/8080": 1, "ns/b/8080": 1}, path: "/p"}, confRequest{backend: "ns/a"}, false},
		{"rewritten path", outcome{cluster: "ns/a/8080", path: "/q"}, confRequest{backend: "ns/a", seenPath: "/q"}, true},
		{"path not rewritten", outcome{cluster: "ns/a/8080", path: "/p"}, confRequest{backend: "ns/a", seenPath: "/q"}, false},
		{"host", outcome{cluster: "ns/a/8080", path: "/p", host: "h2"}, confRequest{backend: "ns/a", seenHost: "h3"}, false},
		{"headers", outcome{cluster: "ns/a/8080", path: "/p", seen: seen}, confRequest{backend: "ns/a", seenHeaders: map[string]string{"X": "1,2"}}, true},
		{"other header value", outcome{cluster: "ns/a/8080", path: "/p", seen: seen}, confRequest{backend: "ns/a", seenHeaders: map[string]string{"X": "1"}}, false},
		{"header not removed", outcome{cluster: "ns/a/8080", path: "/p", seen: seen}, confRequest{backend: "ns/a", notSeen: []string{"x"}}, false},
		{"mirror", outcome{cluster: "ns/a/8080", path: "/p", mirrors: []mirror{{"ns/m/80", 20}}}, confRequest{backend: "ns/a", mirroredTo: map[string]float64{"ns/m": 20}}, true},
		{"mirror share", outcome{cluster: "ns/a/8080", path: "/p", mirrors: []mirror{{"ns/m/80", 20}}}, confRequest{backend: "ns/a", mirroredTo: map[string]float64{"ns/m": 0}}, false},
		{"no mirror", outcome{cluster: "ns/a/8080", path: "/p"}, confRequest{backend: "ns/a", mirroredTo: map[string]float64{"ns/m": 0}}, false},
		{"timeout runs out", outcome{cluster: "ns/a/8080", path: "/p", route: slow}, confRequest{delay: time.Second, status: 504}, true},
		{"timeout does not run out", outcome{cluster: "ns/a/8080", path: "/p", route: slow}, confRequest{backend: "ns/a", delay: time.Second}, false},
		{"redirect", outcome{status: 302, location: "http://example.org:8083/p"}, confRequest{status: 302, redirect: &confRedirect{host: "example.org", port: "8083"}}, true},
		{"redirect's default port", outcome{status: 302, location: "https://example.org:443/p"}, confRequest{status: 302, redirect: &confRedirect{scheme: "https"}}, true},
		{"redirect's other port", outcome{status: 302, location: "http://example.org:8083/p"}, confRequest{status: 302, redirect: &confRedirect{}}, false},
		{"redirect's scheme", outcome{status: 302, location: "http://h/p"}, confRequest{status: 302, redirect: &confRedirect{scheme: "https"}}, false},
		{"redirect's path", outcome{status: 302, location: "http://h/other"}, confRequest{status: 302, redirect: &confRedirect{}}, false},
	} {
		var rec recorder
		checkAnswer(&rec, res, c.name, c.want, req, c.out)
		if ok := len(rec.errs) == 0; ok != c.ok {
			t.Errorf("%s: passes %v, want %v (%v)", c.name, ok, c.ok, rec.errs)
		}
	}
}

// TestConformanceStatusChecksCatchDifferences: the status assertions
// pass on the status they describe and fail on any other.
func TestConformanceStatusChecksCatchDifferences(t *testing.T) {
	cond := func(typ string, status metav1.ConditionStatus, reason string) metav1.Condition {
		return metav1.Condition{Type: typ, Status: status, Reason: reason, ObservedGeneration: 1}
	}
	var res Result
	res.Gateway.Gateways = []gatewayapi.GatewayStatus{{Namespace: "ns", Name: "gw", Status: gatewayv1.GatewayStatus{
		Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionTrue, "Accepted")},
		Listeners: []gatewayv1.ListenerStatus{{Name: "http", AttachedRoutes: 1, SupportedKinds: []gatewayv1.RouteGroupKind{{Kind: httpRouteK}},
			Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionTrue, "Accepted")}}}}}}
	res.Gateway.Routes = []gatewayapi.RouteStatus{{Kind: httpRouteK, Namespace: "ns", Name: "r", Parents: []gatewayv1.RouteParentStatus{{
		ParentRef:      gatewayv1.ParentReference{Group: refTo(gatewayv1.Group(gatewayv1.GroupName)), Kind: refTo(gatewayv1.Kind("Gateway")), Name: "gw"},
		ControllerName: DefaultGatewayController,
		Conditions:     []metav1.Condition{cond("Accepted", metav1.ConditionTrue, "Accepted")}}}}, {Kind: httpRouteK, Namespace: "ns", Name: "s", Parents: []gatewayv1.RouteParentStatus{{
		ParentRef: gatewayv1.ParentReference{Name: "gw", SectionName: refTo(gatewayv1.SectionName("http"))}, ControllerName: DefaultGatewayController,
		Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionFalse, "NotAllowedByListeners")}}}}}
	for _, c := range []struct {
		name string
		s    confStatus
		ok   bool
	}{
		{"route accepted", routeAccepted(httpRouteK, "ns/r", "ns/gw"), true},
		{"other reason", routeCond(httpRouteK, "ns/r", "ns/gw", "Accepted", metav1.ConditionTrue, "Other"), false},
		{"no such condition", refsResolved(httpRouteK, "ns/r", "ns/gw"), false},
		{"no such parent", routeAccepted(httpRouteK, "ns/r", "ns/other"), false},
		{"section", routeCond(httpRouteK, "ns/s", "ns/gw/http", "Accepted", metav1.ConditionFalse, "NotAllowedByListeners"), true},
		{"any section", routeCond(httpRouteK, "ns/s", "ns/gw", "Accepted", metav1.ConditionFalse, "NotAllowedByListeners"), true},
		{"parentRef without group and kind", confStatus{kind: httpRouteK, name: "ns/s", parent: "ns/gw", cond: "Accepted", status: metav1.ConditionFalse, exact: true}, false},
		{"section not compared", routeAccepted(httpRouteK, "ns/r", "ns/gw/http"), true},
		{"not accepted", notAccepted(httpRouteK, "ns/s"), true},
		{"accepted after all", notAccepted(httpRouteK, "ns/r"), false},
		{"no route status", routeAccepted(httpRouteK, "ns/none", "ns/gw"), false},
		{"route latest", latest(httpRouteK, "ns/r", 1), true},
		{"route not latest", latest(httpRouteK, "ns/r", 2), false},
		{"gateway", gatewayCond("ns/gw", "Accepted", metav1.ConditionTrue, ""), true},
		{"gateway generation", confStatus{kind: "Gateway", name: "ns/gw", cond: "Accepted", status: metav1.ConditionTrue, generation: 2}, false},
		{"latest", latest("Gateway", "ns/gw", 1), true},
		{"not latest", latest("Gateway", "ns/gw", 2), false},
		{"listener", listenerCond("ns/gw", "http", "Accepted", metav1.ConditionTrue, "Accepted"), true},
		{"every listener", listenerCond("ns/gw", "*", "Accepted", metav1.ConditionFalse, ""), false},
		{"attached", attachedRoutes("ns/gw", "http", 1), true},
		{"attached count", attachedRoutes("ns/gw", "http", 2), false},
		{"kinds", supportedKinds("ns/gw", "http", httpRouteK), true},
		{"no kinds", supportedKinds("ns/gw", "http"), false},
		{"kinds missing", supportedKinds("ns/gw", "http", httpRouteK, grpcRouteK), false},
		{"listeners", listenerNames("ns/gw", "http"), true},
		{"more listeners", listenerNames("ns/gw", "http", "https"), false},
		{"no address", confStatus{kind: "Gateway", name: "ns/gw", addressed: true}, false},
		{"no such listener", listenerCond("ns/gw", "https", "Accepted", metav1.ConditionTrue, ""), false},
	} {
		var rec recorder
		checkStatus(&rec, res, c.s)
		if ok := len(rec.errs) == 0; ok != c.ok {
			t.Errorf("%s: passes %v, want %v (%v)", c.name, ok, c.ok, rec.errs)
		}
	}
}
