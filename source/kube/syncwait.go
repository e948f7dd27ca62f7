package kube

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"k8s.io/client-go/tools/cache"
)

// stillWaitingEvery is how often a wait for caches says what it still
// waits for.
var stillWaitingEvery = 30 * time.Second

// cacheWait waits for informers' caches to fill and, while it waits, logs
// every stillWaitingEvery which kinds are missing and the last list or
// watch error of each. A list that RBAC forbids is retried for ever, and
// fairway rightly serves nothing until it succeeds; this makes that wait
// say why instead of looking like a hang.
type cacheWait struct {
	log       hclog.Logger
	informers map[string]cache.SharedIndexInformer
	// consequence ends the still-waiting line: what waits on these caches.
	consequence string

	mu   sync.Mutex
	errs map[string]string // kind -> last list/watch error
}

func newCacheWait(log hclog.Logger) *cacheWait {
	return &cacheWait{log: log, informers: map[string]cache.SharedIndexInformer{}, errs: map[string]string{},
		consequence: "nothing is served until they fill"}
}

// add registers an informer; it must come before the informer starts.
// Errors still go to client-go's default handler, which logs and backs off.
func (w *cacheWait) add(kind string, inf cache.SharedIndexInformer) error {
	w.informers[kind] = inf
	return inf.SetWatchErrorHandlerWithContext(func(ctx context.Context, r *cache.Reflector, err error) {
		w.mu.Lock()
		w.errs[kind] = err.Error()
		w.mu.Unlock()
		cache.DefaultWatchErrorHandler(ctx, r, err)
	})
}

// wait blocks until every cache has synced (true) or ctx ends (false).
func (w *cacheWait) wait(ctx context.Context) bool {
	done := make(chan struct{})
	defer close(done)
	go w.report(done)
	synced := make([]cache.InformerSynced, 0, len(w.informers))
	for _, inf := range w.informers {
		synced = append(synced, inf.HasSynced)
	}
	return cache.WaitForCacheSync(ctx.Done(), synced...)
}

func (w *cacheWait) report(done <-chan struct{}) {
	tick := time.NewTicker(stillWaitingEvery)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
			w.log.Warn("still waiting for the informers' caches; "+w.consequence, w.missing()...)
		}
	}
}

// missing are the unsynced kinds, each with its last error, as log pairs.
func (w *cacheWait) missing() []any {
	var kinds []string
	for kind, inf := range w.informers {
		if !inf.HasSynced() {
			kinds = append(kinds, kind)
		}
	}
	slices.Sort(kinds)
	w.mu.Lock()
	defer w.mu.Unlock()
	out := []any{"waiting_for", kinds}
	for _, kind := range kinds {
		if e := w.errs[kind]; e != "" {
			out = append(out, kind, e)
		}
	}
	return out
}
