package kube

import (
	"context"
	"testing"

	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// fakeLock is a Lease as the API server would hold it, for one identity.
type fakeLock struct {
	resourcelock.Interface
	id  string
	rec resourcelock.LeaderElectionRecord
}

func (f *fakeLock) Identity() string { return f.id }
func (f *fakeLock) Get(context.Context) (*resourcelock.LeaderElectionRecord, []byte, error) {
	rec := f.rec
	return &rec, []byte(rec.HolderIdentity), nil
}
func (f *fakeLock) Update(_ context.Context, rec resourcelock.LeaderElectionRecord) error {
	f.rec = rec
	return nil
}

// TestWatchedLockReportsTakeover: a read showing another holder ends the
// term once, only while this replica held the lease; a release (empty
// holder) and someone else's lease seen while standing are no loss.
func TestWatchedLockReportsTakeover(t *testing.T) {
	inner := &fakeLock{id: "a", rec: resourcelock.LeaderElectionRecord{HolderIdentity: "b"}}
	var lost []string
	l := &watchedLock{Interface: inner, lost: func(h string) { lost = append(lost, h) }}
	ctx := context.Background()
	_, _, _ = l.Get(ctx)
	if len(lost) != 0 {
		t.Fatalf("lost %v while standing", lost)
	}
	if err := l.Update(ctx, resourcelock.LeaderElectionRecord{HolderIdentity: "a"}); err != nil {
		t.Fatal(err)
	}
	inner.rec.HolderIdentity = ""
	_, _, _ = l.Get(ctx)
	if len(lost) != 0 {
		t.Fatalf("a released lease counted as lost: %v", lost)
	}
	inner.rec.HolderIdentity = "usurper"
	_, _, _ = l.Get(ctx)
	_, _, _ = l.Get(ctx)
	if len(lost) != 1 || lost[0] != "usurper" {
		t.Fatalf("lost %v, want [usurper] once", lost)
	}
}

func TestRequestKind(t *testing.T) {
	for _, tc := range []struct{ method, path, watch, verb, resource string }{
		{"GET", "/api/v1/namespaces/ns/services/web", "", "get", "services"},
		{"GET", "/api/v1/services", "", "list", "services"},
		{"GET", "/api/v1/namespaces/ns/services", "true", "watch", "services"},
		{"PATCH", "/api/v1/namespaces/ns/services/web/status", "", "patch", "services/status"},
		{"PUT", "/apis/networking.k8s.io/v1/namespaces/ns/ingresses/shop/status", "", "update", "ingresses/status"},
		{"PUT", "/apis/coordination.k8s.io/v1/namespaces/ns/leases/fairway", "", "update", "leases"},
		{"POST", "/api/v1/namespaces/ns/events", "", "create", "events"},
		{"GET", "/api/v1/namespaces/ns", "", "get", "namespaces"},
		{"GET", "/apis/networking.k8s.io/v1/ingressclasses", "1", "watch", "ingressclasses"},
		{"GET", "/healthz", "", "list", "other"},
	} {
		verb, resource := requestKind(tc.method, tc.path, tc.watch, "")
		if verb != tc.verb || resource != tc.resource {
			t.Errorf("%s %s: %s %s, want %s %s", tc.method, tc.path, verb, resource, tc.verb, tc.resource)
		}
	}
	// An informer's list streamed as a watch (WatchListClient) is a list.
	if verb, _ := requestKind("GET", "/api/v1/services", "true", "true"); verb != "list" {
		t.Errorf("a watch with sendInitialEvents: %s, want list", verb)
	}
}
