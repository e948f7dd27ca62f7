package kube

import (
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/fairwayhq/fairway/translator"
)

const ours = gatewayv1.GatewayController(translator.DefaultGatewayController)

func writerAt(now time.Time) *GatewayStatusWriter {
	w := NewGatewayStatusWriter(nil, nil, nil, string(ours), nil, hclog.NewNullLogger())
	w.now = func() metav1.Time { return metav1.NewTime(now) }
	return w
}

func cond(typ string, status metav1.ConditionStatus, at time.Time) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: typ, LastTransitionTime: metav1.NewTime(at)}
}

// TestStampKeepsTimeWhileStatusHolds: a condition whose status is the
// cached one's keeps its time (even with a new reason or generation); a
// flipped or new one gets the writer's now.
func TestStampKeepsTimeWhileStatusHolds(t *testing.T) {
	then, now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)
	cached := []metav1.Condition{cond("Accepted", metav1.ConditionTrue, then), cond("Programmed", metav1.ConditionTrue, then)}
	want := []metav1.Condition{
		{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", ObservedGeneration: 7},
		{Type: "Programmed", Status: metav1.ConditionFalse, Reason: "Invalid"},
		{Type: "ResolvedRefs", Status: metav1.ConditionTrue, Reason: "ResolvedRefs"},
	}
	got := writerAt(now).stamp(want, cached)
	for i, at := range []time.Time{then, now, now} {
		if !got[i].LastTransitionTime.Time.Equal(at) {
			t.Errorf("%s: lastTransitionTime %v, want %v", got[i].Type, got[i].LastTransitionTime, at)
		}
	}
	if got[0].ObservedGeneration != 7 || !want[0].LastTransitionTime.IsZero() {
		t.Error("stamp lost the generation, or wrote into the translator's conditions")
	}
}

// TestMergeParentsKeepsOtherControllers: other controllers' entries stay
// as they are and first; fairway's are replaced by the wanted ones, with
// the CRD's parentRef defaults, and an entry of fairway's for a parent no
// longer wanted is dropped. Equal input gives an equal result, so the
// writer sees nothing to write.
func TestMergeParentsKeepsOtherControllers(t *testing.T) {
	then, now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)
	group, kind := gatewayv1.Group(gatewayv1.GroupName), gatewayv1.Kind("Gateway")
	ref := func(name string) gatewayv1.ParentReference {
		return gatewayv1.ParentReference{Group: &group, Kind: &kind, Name: gatewayv1.ObjectName(name)}
	}
	theirs := gatewayv1.RouteParentStatus{ParentRef: ref("theirs"), ControllerName: "example.com/other",
		Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionFalse, then)}}
	current := []gatewayv1.RouteParentStatus{
		{ParentRef: ref("gone"), ControllerName: ours, Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionTrue, then)}},
		theirs,
		{ParentRef: ref("edge"), ControllerName: ours, Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionTrue, then)}},
	}
	want := []gatewayv1.RouteParentStatus{{ParentRef: gatewayv1.ParentReference{Name: "edge"},
		Conditions: []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted"}}}}
	w := writerAt(now)
	got := w.mergeParents(current, want)
	if len(got) != 2 || !equality.Semantic.DeepEqual(got[0], theirs) {
		t.Fatalf("parents = %+v; want the other controller's entry, unchanged, then fairway's for edge", got)
	}
	edge := got[1]
	if edge.ControllerName != ours || !equality.Semantic.DeepEqual(edge.ParentRef, ref("edge")) || !edge.Conditions[0].LastTransitionTime.Time.Equal(then) {
		t.Errorf("fairway's entry = %+v; want edge with the defaults and the kept time", edge)
	}
	if again := w.mergeParents(got, want); !equality.Semantic.DeepEqual(again, got) {
		t.Errorf("merging the result again gives %+v, not itself: every pass would write", again)
	}
	if none := w.mergeParents([]gatewayv1.RouteParentStatus{current[0]}, nil); none == nil || len(none) != 0 {
		t.Errorf("dropping the last entry gives %#v; want an empty list, which the CRD requires over null", none)
	}
}

// TestGatewayStatusDefaults: what the API server fills in, the writer
// fills in before comparing.
func TestGatewayStatusDefaults(t *testing.T) {
	st := gatewayv1.GatewayStatus{
		Addresses: []gatewayv1.GatewayStatusAddress{{Value: "192.0.2.1"}},
		Listeners: []gatewayv1.ListenerStatus{{Name: "http", SupportedKinds: []gatewayv1.RouteGroupKind{{Kind: "HTTPRoute"}}}},
	}
	gatewayStatusDefaults(&st)
	if st.Addresses[0].Type == nil || *st.Addresses[0].Type != gatewayv1.IPAddressType ||
		st.Listeners[0].SupportedKinds[0].Group == nil || *st.Listeners[0].SupportedKinds[0].Group != gatewayv1.GroupName {
		t.Errorf("status after defaults = %+v", st)
	}
	addrs := gatewayAddresses([]Address{{IP: "192.0.2.1"}, {Hostname: "edge.example.com"}})
	if len(addrs) != 2 || *addrs[0].Type != gatewayv1.IPAddressType || *addrs[1].Type != gatewayv1.HostnameAddressType || addrs[1].Value != "edge.example.com" {
		t.Errorf("gatewayAddresses = %+v", addrs)
	}
}
