package xds

import (
	"context"
	"fmt"
	"strings"
	"sync"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/log"
	"github.com/hashicorp/go-hclog"

	"github.com/fairwayhq/fairway/translator"
)

// Publisher holds the snapshot caches and the last good translation.
//
// Envoys are served from a snapshot cache in ADS mode, which answers a
// request only once it names every resource of the type, as Envoy does: that
// keeps RDS and EDS consistent with what CDS and LDS sent. Proxyless gRPC
// clients subscribe by name to just the listeners they dial, which an ADS
// mode cache would never answer, so they get a cache of their own.
type Publisher struct {
	log       hclog.Logger
	metrics   *Metrics
	groups    groups
	envoy     cachev3.SnapshotCache
	proxyless cachev3.SnapshotCache
	mux       *cachev3.MuxCache

	mu      sync.Mutex
	current *published
	known   map[string]bool // group keys that have a snapshot
	ready   chan struct{}
	// lastFailure is the last publication error, logged once.
	lastFailure string
}

// NewPublisher creates the caches. Nothing is served until Publish
// succeeds once.
func NewPublisher(by GroupBy, logger hclog.Logger, metrics *Metrics) *Publisher {
	g := groups{by: by}
	cacheLog := cacheLogger(logger.Named("cache"))
	p := &Publisher{
		log:       logger,
		metrics:   metrics,
		groups:    g,
		envoy:     cachev3.NewSnapshotCache(true, g, cacheLog),
		proxyless: cachev3.NewSnapshotCache(false, g, cacheLog),
		known:     map[string]bool{},
		ready:     make(chan struct{}),
	}
	p.mux = &cachev3.MuxCache{
		Classify:      func(r *cachev3.Request) string { return cacheFor(r.GetNode()) },
		ClassifyDelta: func(r *cachev3.DeltaRequest) string { return cacheFor(r.GetNode()) },
		Caches: map[string]cachev3.Cache{
			FleetGroup:     resumingCache{SnapshotCache: p.envoy, groups: g},
			ProxylessGroup: resumingCache{SnapshotCache: p.proxyless, groups: g},
		},
	}
	return p
}

func cacheFor(node *corev3.Node) string {
	if IsProxyless(node) {
		return ProxylessGroup
	}
	return FleetGroup
}

// cacheLogger routes go-control-plane's logging into hclog. Its Debugf and
// Infof are per request, so they go to Trace and Debug.
func cacheLogger(l hclog.Logger) log.Logger {
	f := func(emit func(string, ...any)) func(string, ...any) {
		return func(format string, args ...any) { emit(strings.TrimSpace(fmt.Sprintf(format, args...))) }
	}
	return log.LoggerFuncs{
		DebugFunc: f(l.Trace),
		InfoFunc:  f(l.Debug),
		WarnFunc:  f(l.Warn),
		ErrorFunc: f(l.Error),
	}
}

// Cache is what the xDS server serves from.
func (p *Publisher) Cache() cachev3.Cache { return p.mux }

// Ready is closed once the first snapshot is published.
func (p *Publisher) Ready() <-chan struct{} { return p.ready }

// Publish validates res and makes it every group's snapshot. When res is
// invalid the last good snapshot stays, the error is logged once (until a
// publication succeeds or the error changes) and counted.
func (p *Publisher) Publish(ctx context.Context, res *translator.Result) error {
	pub, err := newPublished(res)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.metrics.Publications.WithLabelValues("failed").Inc()
		if msg := err.Error(); msg != p.lastFailure {
			p.lastFailure = msg
			p.log.Error("not publishing: the last good snapshot stays", "error", err)
		}
		return err
	}
	p.lastFailure = ""
	p.current = pub
	for key := range p.known {
		p.set(ctx, key)
	}
	p.metrics.Publications.WithLabelValues("published").Inc()
	p.recordVersions(pub)
	select {
	case <-p.ready:
	default:
		close(p.ready)
	}
	return nil
}

// ensureGroup gives a newly seen group the current snapshot. Called for
// every request, before the cache sees it.
func (p *Publisher) ensureGroup(node *corev3.Node) {
	key := p.groups.ID(node)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.known[key] {
		return
	}
	p.known[key] = true
	if p.current != nil {
		p.set(context.Background(), key)
	}
}

func (p *Publisher) set(ctx context.Context, key string) {
	c, snap := p.envoy, p.current.envoy
	if strings.HasPrefix(key, ProxylessGroup) {
		c, snap = p.proxyless, p.current.proxyless
	}
	if err := c.SetSnapshot(ctx, key, snap); err != nil {
		p.log.Error("set snapshot", "group", key, "error", err)
	}
}

// Current is the last published translation, or nil before the first.
func (p *Publisher) Current() *translator.Result {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.current == nil {
		return nil
	}
	return p.current.result
}

// Versions are the published versions by snapshot ("envoy", "proxyless")
// and type.
func (p *Publisher) Versions() map[string]map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]map[string]string{}
	if p.current == nil {
		return out
	}
	for name, s := range map[string]*cachev3.Snapshot{"envoy": p.current.envoy, "proxyless": p.current.proxyless} {
		out[name] = map[string]string{}
		for url, short := range typeNames {
			out[name][short] = s.GetVersion(url)
		}
	}
	return out
}

func (p *Publisher) recordVersions(pub *published) {
	p.metrics.Versions.Reset()
	for name, s := range map[string]*cachev3.Snapshot{"envoy": pub.envoy, "proxyless": pub.proxyless} {
		for url, short := range typeNames {
			p.metrics.Versions.WithLabelValues(name, short, s.GetVersion(url)).Set(1)
			p.metrics.Resources.WithLabelValues(name, short).Set(float64(len(s.GetResources(url))))
		}
	}
}
