package xds

import (
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/fairwayhq/fairway/translator"
)

// Publisher checks each translation and hands it to the cache. Nothing is
// served until the first translation is published; one that fails its
// checks is not published, and the last good one stays.
type Publisher struct {
	log     hclog.Logger
	metrics *Metrics
	cache   *Cache

	mu          sync.Mutex
	problems    []translator.Problem
	ready       chan struct{}
	lastFailure string // logged once
}

// NewPublisher creates the publisher and its cache.
func NewPublisher(by GroupBy, logger hclog.Logger, metrics *Metrics) *Publisher {
	return &Publisher{log: logger, metrics: metrics, cache: NewCache(by), ready: make(chan struct{})}
}

// Cache is what the xDS server serves from.
func (p *Publisher) Cache() *Cache { return p.cache }

// Ready is closed once the first translation is published.
func (p *Publisher) Ready() <-chan struct{} { return p.ready }

// Publish publishes what changed in an engine Output, after checking it:
// no resource failed validation as it was built (each passes its generated
// ValidateAll, or is one of the direct encodings held byte-identical to
// one that does), and every resource that one references exists. The
// check is of the whole set, but it costs a lookup per reference. A
// failure is logged once and counted; the resource sets keep their
// changes, so the next good Output publishes them.
func (p *Publisher) Publish(out translator.Output) error {
	err := out.Err
	if err == nil {
		err = out.Envoy.Check()
	}
	if err == nil {
		err = out.Proxyless.Check()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.metrics.Publications.WithLabelValues("failed").Inc()
		if msg := err.Error(); msg != p.lastFailure {
			p.lastFailure = msg
			p.log.Error("not publishing: the last good config stays", "error", err)
		}
		return err
	}
	p.lastFailure = ""
	p.cache.Apply(out.Envoy, out.Proxyless, out.Envoy.TakeChanges(), out.Proxyless.TakeChanges())
	p.problems = out.Problems
	p.metrics.Publications.WithLabelValues("published").Inc()
	p.recordVersions()
	select {
	case <-p.ready:
	default:
		close(p.ready)
	}
	return nil
}

// Problems are those of the last published translation.
func (p *Publisher) Problems() []translator.Problem {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.problems
}

// Versions are the published versions by view and type.
func (p *Publisher) Versions() map[string]map[string]string { return p.cache.Versions() }

func (p *Publisher) recordVersions() {
	p.metrics.Versions.Reset()
	counts := p.cache.counts()
	for view, types := range p.cache.Versions() {
		for typ, v := range types {
			p.metrics.Versions.WithLabelValues(view, typ, v).Set(1)
			p.metrics.Resources.WithLabelValues(view, typ).Set(float64(counts[view][typ]))
		}
	}
}
