package kube

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"k8s.io/client-go/tools/cache"
)

// DefaultGatewayRecheck is how often fairway asks discovery again, while
// not every Gateway API kind is watched, whether more are installed: one
// small request, so a cluster that installs the CRDs after fairway (the
// install's order does not matter) serves its Gateways within this long,
// without a restart.
const DefaultGatewayRecheck = 30 * time.Second

// logger is the part of hclog.Logger the Gateway API side uses.
type logger interface {
	Info(msg string, args ...any)
	Warn(msg string, args ...any)
}

// startGateway watches the Gateway API kinds that are installed, and the
// Namespaces when any is; it says once what is not installed. It runs
// before the caches are waited for, so that those it watches are waited
// for with the others. While some kind is not watched, watchLater looks
// for it every SourceConfig.GatewayRecheck.
func (s *Source) startGateway(ctx context.Context) (err error) {
	if s.gateway == nil {
		return nil
	}
	kinds, err := s.gateway.installed(ctx, s.log)
	if err != nil {
		return err
	}
	defer func() {
		if err == nil && len(s.gateway.watched) <= len(gatewayKinds) { // Namespace is one more
			go s.watchLater(ctx)
		}
	}()
	if len(kinds) == 0 {
		s.log.Info("the Gateway API CRDs are not installed (" + GatewayAPIGroupVersion + " is not served); serving Ingress and Services as before; fairway looks for them every " + s.gateway.recheck.String() + " and serves Gateways once they are installed")
		return nil
	}
	informers, err := s.newGatewayInformers(ctx, kinds)
	if err != nil || informers == nil {
		return err
	}
	if missing := missingKinds(kinds); len(missing) > 0 {
		s.log.Info("some Gateway API CRDs are not installed (or not served at v1); their kinds are watched once they are", "missing", missing)
	}
	for kind, inf := range informers {
		if err := s.watch(kind, inf); err != nil {
			return err
		}
	}
	s.gateway.factory.Start(ctx.Done())
	s.gateway.namespaces.Start(ctx.Done())
	return nil
}

// newGatewayInformers are the informers of kinds, and of Namespaces when
// they are not watched yet, once the API server's authorizer lets fairway
// list and watch them all; nil (and one warning per denial) while it does
// not.
func (s *Source) newGatewayInformers(ctx context.Context, kinds []gatewayKind) (map[string]cache.SharedIndexInformer, error) {
	denied, err := s.gateway.denied(ctx, kinds)
	if err != nil {
		return nil, err
	}
	if len(denied) > 0 {
		if key := strings.Join(denied, ","); key != s.gateway.lastDenied {
			s.gateway.lastDenied = key
			s.log.Warn("the Gateway API CRDs are installed, but fairway may not list and watch all of its kinds and Namespaces; not watching them, serving Ingress and Services as before; apply the install's RBAC (fairway checks again every "+s.gateway.recheck.String()+")", "denied", denied)
		}
		return nil, nil
	}
	out := map[string]cache.SharedIndexInformer{}
	for _, k := range kinds {
		out[k.kind] = k.informer(s.gateway.factory)
		s.gateway.watched[k.kind] = true
	}
	if !s.gateway.watched[KindNamespace] {
		out[KindNamespace] = s.gateway.namespaces.Core().V1().Namespaces().Informer()
		s.gateway.watched[KindNamespace] = true
	}
	return out, nil
}

// watchLater asks discovery every SourceConfig.GatewayRecheck whether kinds that are
// not watched are installed now, and watches them, until every kind is
// watched or ctx ends.
func (s *Source) watchLater(ctx context.Context) {
	tick := time.NewTicker(s.gateway.recheck)
	defer tick.Stop()
	for len(s.gateway.watched) <= len(gatewayKinds) {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		served, err := s.gateway.served()
		if err != nil {
			continue // the next tick asks again
		}
		kinds := slices.DeleteFunc(served, func(k gatewayKind) bool { return s.gateway.watched[k.kind] })
		if len(kinds) == 0 {
			continue
		}
		if err := s.watchMidRun(ctx, kinds); err != nil {
			s.log.Warn("watching the Gateway API kinds installed since fairway started failed; trying again at the next check", "error", err)
		}
	}
}

// watchMidRun starts the informers of kinds installed since Start and
// hands their objects to the loop only once all their caches have
// synced, all in one batch, and makes them visible (Informer) with that
// batch: the translation never sees half of a kind's objects, which
// could hand a port or a hostname to a newer Gateway whose older rival
// was still being listed, and the status writer never compares a route
// against a round that did not see it.
func (s *Source) watchMidRun(ctx context.Context, kinds []gatewayKind) error {
	informers, err := s.newGatewayInformers(ctx, kinds)
	if err != nil || informers == nil {
		return err
	}
	names := slices.Sorted(maps.Keys(informers))
	s.log.Info("Gateway API kinds are installed and allowed (RBAC) since fairway started; watching them", "kinds", names)
	s.hold(names)
	wait := newCacheWait(s.log)
	wait.consequence = "the new Gateway API kinds are served once they fill; the rest is served as before"
	for kind, inf := range informers {
		if _, err := inf.AddEventHandler(s.handler(kind)); err != nil {
			return err
		}
		if err := wait.add(kind, inf); err != nil {
			return err
		}
	}
	s.gateway.factory.Start(ctx.Done())
	s.gateway.namespaces.Start(ctx.Done())
	if !wait.wait(ctx) {
		return ctx.Err()
	}
	s.release(informers)
	s.log.Info("the new Gateway API kinds' caches synced; serving them", "kinds", names)
	return nil
}

// hold keeps the changes of kinds out of the loop's batches until
// release.
func (s *Source) hold(kinds []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range kinds {
		s.held[k] = true
	}
}

// release hands the held changes to the loop as one batch, and with it
// the informers, which the loop's Sync makes visible.
func (s *Source) release(informers map[string]cache.SharedIndexInformer) {
	s.mu.Lock()
	for key, c := range s.heldChanges {
		s.pending[key] = c
	}
	clear(s.heldChanges)
	for kind, inf := range informers {
		delete(s.held, kind)
		s.staged[kind] = inf
	}
	s.mu.Unlock()
	s.signal()
}

// missingKinds are the kinds of the standard channel that kinds lacks.
func missingKinds(kinds []gatewayKind) []string {
	var out []string
	for _, k := range gatewayKinds {
		if !slices.ContainsFunc(kinds, func(w gatewayKind) bool { return w.kind == k.kind }) {
			out = append(out, k.kind)
		}
	}
	return out
}
