package kube

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/flowcontrol"

	"github.com/fairwayhq/fairway/translator"
)

// EventRecorder turns Problems into Warning Events on the offending
// objects, where `kubectl describe` shows them. A Problem is recorded once
// when it appears, not every round it persists; the leader alone records;
// and a token bucket keeps a cluster full of broken objects from flooding
// the API server (what it holds back is recorded later).
type EventRecorder struct {
	client   kubernetes.Interface
	src      *Source
	recorder record.EventRecorder
	limit    flowcontrol.RateLimiter
	log      hclog.Logger
	metrics  *Metrics
	kick     chan struct{}

	mu       sync.Mutex
	problems []translator.Problem
	term     context.Context // the current leadership term; nil before the first
	recorded map[translator.Problem]bool
}

// Event rate: a burst for a rollout's worth of news, then a steady trickle.
const (
	eventsPerSecond = 5
	eventBurst      = 100
)

// NewEventRecorder records through client as component "fairway".
func NewEventRecorder(client kubernetes.Interface, src *Source, metrics *Metrics, log hclog.Logger) *EventRecorder {
	return &EventRecorder{
		client: client, src: src, log: log, metrics: metrics, kick: make(chan struct{}, 1), recorded: map[translator.Problem]bool{},
		limit: flowcontrol.NewTokenBucketRateLimiter(eventsPerSecond, eventBurst),
	}
}

// Observe records the last round's Problems.
func (r *EventRecorder) Observe(problems []translator.Problem) {
	r.mu.Lock()
	r.problems = problems
	r.mu.Unlock()
	r.wake()
}

// Lead starts recording for a leadership term. A new leader records the
// current Problems afresh: whatever the last leader recorded, it cannot
// know. Each term has its own broadcaster, which shuts down with the term,
// and a sink that refuses to write once the term has ended: client-go
// queues Events and writes them later, on its own goroutine, and one queued
// while leading must not be written after.
func (r *EventRecorder) Lead(term context.Context) {
	b := record.NewBroadcaster(record.WithContext(term))
	b.StartRecordingToSink(&termSink{term: term, events: r.client.CoreV1()})
	r.mu.Lock()
	r.term = term
	r.recorder = b.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "fairway"})
	r.recorded = map[translator.Problem]bool{}
	r.mu.Unlock()
	r.wake()
}

// termSink writes Events under a leadership term.
type termSink struct {
	term   context.Context
	events typedcorev1.EventsGetter
}

func (s *termSink) Create(e *corev1.Event) (*corev1.Event, error) {
	if err := s.term.Err(); err != nil {
		return nil, err
	}
	return s.events.Events(e.Namespace).CreateWithEventNamespaceWithContext(s.term, e)
}

func (s *termSink) Update(e *corev1.Event) (*corev1.Event, error) {
	if err := s.term.Err(); err != nil {
		return nil, err
	}
	return s.events.Events(e.Namespace).UpdateWithEventNamespaceWithContext(s.term, e)
}

func (s *termSink) Patch(e *corev1.Event, data []byte) (*corev1.Event, error) {
	if err := s.term.Err(); err != nil {
		return nil, err
	}
	return s.events.Events(e.Namespace).PatchWithEventNamespaceWithContext(s.term, e, data)
}

func (r *EventRecorder) wake() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run records after every change until ctx ends; Problems held back by the
// rate limit are retried each second.
func (r *EventRecorder) Run(ctx context.Context) error {
	retry := time.NewTicker(time.Second)
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.kick:
		case <-retry.C:
		}
		r.record()
	}
}

func (r *EventRecorder) record() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.term == nil || r.term.Err() != nil {
		return
	}
	now := make(map[translator.Problem]bool, len(r.problems))
	for _, p := range r.problems {
		now[p] = true
	}
	for p := range r.recorded {
		if !now[p] {
			delete(r.recorded, p) // resolved: record it again if it comes back
		}
	}
	for _, p := range r.problems {
		if r.recorded[p] {
			continue
		}
		obj := r.object(p.ObjectRef)
		if obj == nil {
			r.recorded[p] = true // gone already, or not a kind fairway watches
			continue
		}
		if !r.limit.TryAccept() {
			r.metrics.Events.WithLabelValues("limited").Inc()
			return
		}
		r.recorder.Event(obj, corev1.EventTypeWarning, string(p.Reason), p.Message)
		r.recorded[p] = true
		r.metrics.Events.WithLabelValues("recorded").Inc()
	}
}

// object finds the Problem's object in the informers' caches.
func (r *EventRecorder) object(ref translator.ObjectRef) runtime.Object {
	inf := r.src.Informer(ref.Kind)
	if inf == nil {
		return nil
	}
	key := ref.Name
	if ref.Namespace != "" {
		key = ref.Namespace + "/" + ref.Name
	}
	obj, ok, _ := inf.GetStore().GetByKey(key)
	if !ok {
		return nil
	}
	return obj.(runtime.Object)
}
