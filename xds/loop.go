package xds

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/fairwayhq/fairway/translator"
)

// Source is where the objects come from: a directory of manifests, or a
// Kubernetes cluster. Changed signals that Input has changed.
type Source interface {
	Changed() <-chan struct{}
	Input() (translator.Input, []translator.Problem)
}

// Defaults of the loop's debounce.
const (
	DefaultHoldoff  = 100 * time.Millisecond
	DefaultMaxDelay = time.Second
)

// Loop is the event loop: one goroutine that waits for changes, lets a burst
// of them settle, translates and publishes. Debouncing trades a little
// latency for far fewer snapshots, and so far fewer listener drains in Envoy.
type Loop struct {
	Source    Source
	Options   translator.Options
	Publisher *Publisher
	Metrics   *Metrics
	Log       hclog.Logger
	// Holdoff is the quiet time after a change before translating; every
	// new change restarts it, but never past MaxDelay after the first.
	Holdoff  time.Duration
	MaxDelay time.Duration

	problems map[translator.Problem]bool // last round's, to log only news
	// sourceReasons are the non-translator reasons last reported, to zero.
	sourceReasons []translator.Reason
}

// Run translates the initial state at once, then after every change, until
// ctx ends.
func (l *Loop) Run(ctx context.Context) error {
	select {
	case <-l.Source.Changed(): // the initial state, which this round reads
	default:
	}
	l.round(ctx)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-l.Source.Changed():
		}
		if !l.settle(ctx) {
			return nil
		}
		l.round(ctx)
	}
}

// settle waits for the holdoff to pass without a change, bounded by
// MaxDelay. It returns false if ctx ended.
func (l *Loop) settle(ctx context.Context) bool {
	deadline := time.NewTimer(l.MaxDelay)
	defer deadline.Stop()
	quiet := time.NewTimer(l.Holdoff)
	defer quiet.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-deadline.C:
			return true
		case <-quiet.C:
			return true
		case <-l.Source.Changed():
			quiet.Reset(l.Holdoff)
		}
	}
}

// round is one full translation and publication.
func (l *Loop) round(ctx context.Context) {
	in, sourceProblems := l.Source.Input()
	start := time.Now()
	res := translator.Translate(in, l.Options)
	l.Metrics.TranslationSeconds.Observe(time.Since(start).Seconds())
	res.Problems = append(sourceProblems, res.Problems...)
	l.report(res.Problems)
	if err := l.Publisher.Publish(ctx, &res); err == nil {
		l.Log.Debug("published", "listeners", len(res.Listeners), "clusters", len(res.Clusters), "problems", len(res.Problems), "took", time.Since(start))
	}
}

// report logs Problems that are new since the last round and keeps the
// per-reason gauge current.
func (l *Loop) report(problems []translator.Problem) {
	now := make(map[translator.Problem]bool, len(problems))
	byReason := map[translator.Reason]int{}
	for _, p := range problems {
		now[p] = true
		byReason[p.Reason]++
		if !l.problems[p] {
			l.Log.Warn("problem", "object", p.ObjectRef.String(), "reason", p.Reason, "message", p.Message)
		}
	}
	for _, p := range slices.Collect(maps.Keys(l.problems)) {
		if !now[p] {
			l.Log.Info("problem resolved", "object", p.ObjectRef.String(), "reason", p.Reason)
		}
	}
	l.problems = now
	for _, reason := range translator.Reasons {
		l.Metrics.Problems.WithLabelValues(string(reason)).Set(float64(byReason[reason]))
		delete(byReason, reason)
	}
	for reason, n := range byReason { // the sources' own reasons
		l.Metrics.Problems.WithLabelValues(string(reason)).Set(float64(n))
	}
	for _, reason := range l.sourceReasons {
		if _, still := byReason[reason]; !still {
			l.Metrics.Problems.WithLabelValues(string(reason)).Set(0)
		}
	}
	l.sourceReasons = slices.Collect(maps.Keys(byReason))
}
