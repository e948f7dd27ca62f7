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
// Kubernetes cluster. Changed signals that there is something new; Sync
// brings the engine up to date (with Engine.Sync or, knowing what changed,
// Upsert and Delete) and returns the source's own Problems.
type Source interface {
	Changed() <-chan struct{}
	Sync(e *translator.Engine) []translator.Problem
}

// Defaults of the loop's debounce.
const (
	DefaultHoldoff  = 100 * time.Millisecond
	DefaultMaxDelay = time.Second
)

// Loop is the event loop: one goroutine that waits for changes, lets a burst
// of them settle, and has the incremental engine rebuild what they touched
// and the publisher publish it. Debouncing trades a little latency for far
// fewer updates, and so far fewer listener drains in Envoy.
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
	// OnPublish, when set, is called on the loop's goroutine after each
	// round that published: the status and Event writers learn what was
	// admitted and what is wrong. It must not block.
	OnPublish func(translator.Output)
	// ProxylessGrace is how long proxyless resources built on demand
	// (Options.ProxylessOnDemand) stay after no stream asks for them;
	// zero means DefaultProxylessGrace.
	ProxylessGrace time.Duration

	engine *translator.Engine
	// demands signals names proxyless clients newly asked for; sweep
	// ticks the release of names no one asks for any more. Both nil
	// unless proxyless resources are built on demand.
	demands  <-chan struct{}
	sweep    <-chan time.Time
	problems map[translator.Problem]bool // last round's, to log only news
	// sourceReasons are the non-translator reasons last reported, to zero.
	sourceReasons []translator.Reason
}

// Run translates the initial state at once, then after every change, until
// ctx ends.
func (l *Loop) Run(ctx context.Context) error {
	l.engine = translator.NewEngine(l.Options)
	if l.Options.Proxyless && l.Options.ProxylessOnDemand {
		l.demands = l.Publisher.cache.TrackDemand()
		t := time.NewTicker(l.sweepEvery())
		defer t.Stop()
		l.sweep = t.C
	}
	select {
	case <-l.Source.Changed(): // the initial state, which this round reads
	default:
	}
	l.round()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-l.demands:
			l.round() // a client waits: no holdoff
			continue
		case <-l.sweep:
			l.release()
			continue
		case <-l.Source.Changed():
		}
		if !l.settle(ctx) {
			return nil
		}
		l.round()
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
		case <-l.demands:
			return true // a client waits for its resources: publish now
		}
	}
}

// round brings the engine up to date, builds what proxyless clients newly
// asked for, and publishes what changed; then the watches that waited for
// those names are answered, published or not.
func (l *Loop) round() {
	start := time.Now()
	demanded := l.Publisher.cache.TakeDemands()
	defer l.Publisher.cache.Settle(demanded)
	if len(demanded) > 0 {
		l.engine.Demand(demanded)
		l.Log.Debug("proxyless names asked for", "names", len(demanded))
	}
	sourceProblems := l.Source.Sync(l.engine)
	out := l.engine.Output()
	l.Metrics.TranslationSeconds.Observe(time.Since(start).Seconds())
	if len(sourceProblems) > 0 {
		out.Problems = slices.SortedFunc(slices.Values(append(slices.Clone(out.Problems), sourceProblems...)), compareProblems)
	}
	l.report(out.Problems)
	if err := l.Publisher.Publish(out); err == nil {
		l.Log.Debug("published", "problems", len(out.Problems), "took", time.Since(start))
		if l.OnPublish != nil {
			l.OnPublish(out)
		}
	}
}

// grace is ProxylessGrace or its default.
func (l *Loop) grace() time.Duration {
	if l.ProxylessGrace > 0 {
		return l.ProxylessGrace
	}
	return DefaultProxylessGrace
}

// sweepEvery is how often names are looked at for release: a tenth of
// the grace, so a name goes at most 10% after its grace ends.
func (l *Loop) sweepEvery() time.Duration {
	return max(l.grace()/10, 10*time.Millisecond)
}

// release drops the proxyless resources no stream asked for within the
// grace, in a round of their own when that changes anything.
func (l *Loop) release() {
	names := l.Publisher.cache.Unwanted(l.grace())
	if len(names) > 0 && l.engine.Release(names) {
		l.Log.Debug("proxyless names released", "names", len(names))
		l.round()
	}
}

func compareProblems(a, b translator.Problem) int {
	switch {
	case a.String() < b.String():
		return -1
	case a.String() > b.String():
		return 1
	}
	return 0
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
