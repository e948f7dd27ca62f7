package kube

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestStillWaitingSaysWhy: when RBAC forbids listing one kind, the source
// keeps waiting (nothing may be served from half a cluster), and its log
// says, repeatedly, which kind it waits for and the API server's error.
func TestStillWaitingSaysWhy(t *testing.T) {
	defer func(d time.Duration) { stillWaitingEvery = d }(stillWaitingEvery)
	stillWaitingEvery = 100 * time.Millisecond
	client := fake.NewClientset()
	client.PrependReactor("list", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "nodes"}, "", errors.New("no RBAC for nodes"))
	})
	logs := &syncBuffer{}
	src, err := NewSource(client, SourceConfig{Nodes: true}, hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Warn}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := src.Start(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Start = %v, want it to wait until the context ends", err)
	}
	cancel()
	src.Shutdown()
	out := logs.String()
	if n := strings.Count(out, "still waiting for the informers' caches"); n < 2 {
		t.Fatalf("said %d times that it still waits:\n%s", n, out)
	}
	for _, want := range []string{`waiting_for=["Node"]`, "Node=", "forbidden", "no RBAC for nodes"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q:\n%s", want, out)
		}
	}
}
