package kube

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/fairwayhq/fairway/translator"
)

// TestPoolProblemsBecomeEvents: the address pool's Problems are on the
// Service, so the recorder turns them into Warning Events on it like any
// other Problem, with the reason and message as the translator wrote them.
func TestPoolProblemsBecomeEvents(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "third", UID: "u-3"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer}}
	client := fake.NewClientset(svc)
	src, err := NewSource(client, SourceConfig{}, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); src.Shutdown() }()
	if err := src.Start(ctx); err != nil {
		t.Fatal(err)
	}
	r := NewEventRecorder(client, src, NewMetrics(prometheus.NewRegistry()), hclog.NewNullLogger())
	r.Lead(ctx)
	ref := translator.ObjectRef{Kind: "Service", Namespace: "app", Name: "third"}
	want := map[string]string{
		string(translator.AddressPoolExhausted): "no free address in the pools 192.0.2.0/31",
		string(translator.AddressNotInPool):     "spec.loadBalancerIP: 198.51.100.1 is in no pool",
	}
	var problems []translator.Problem
	for reason, msg := range want {
		problems = append(problems, translator.Problem{ObjectRef: ref, Reason: translator.Reason(reason), Message: msg})
	}
	r.Observe(problems)
	r.record()
	for {
		events, err := client.CoreV1().Events("app").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, e := range events.Items {
			if e.Type != corev1.EventTypeWarning || e.InvolvedObject.Kind != "Service" || e.InvolvedObject.Name != "third" {
				t.Fatalf("unexpected Event %s %s/%s", e.Type, e.InvolvedObject.Kind, e.InvolvedObject.Name)
			}
			got[e.Reason] = e.Message
		}
		if len(got) == len(want) && got["AddressPoolExhausted"] == want["AddressPoolExhausted"] && got["AddressNotInPool"] == want["AddressNotInPool"] {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("Events %v, want %v", got, want)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
