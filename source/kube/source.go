// Package kube is fairway's Kubernetes side: informers that feed the event
// loop, and the leader's status and Event writers.
package kube

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/fairwayhq/fairway/translator"
)

// SourceConfig says what to watch.
type SourceConfig struct {
	// Namespace limits the namespaced kinds to one namespace; "" is all.
	Namespace string
	// Resync replays the caches to the handlers this often; 0 never.
	Resync time.Duration
	// Nodes watches Nodes too (the translator's nodes mode needs them).
	Nodes bool
	// ServiceStatus delivers changes of a Service's status IPs, which
	// the translator reads with address pools (the allocation kept in
	// status).
	ServiceStatus bool
	// Gateway is the Gateway API's clientset; with it, the Gateway API
	// kinds whose CRDs are installed are watched, and Namespaces with
	// them. Nil watches none.
	Gateway gatewayclient.Interface
	// GatewayRecheck is how often discovery is asked again, while some
	// Gateway API kind is not watched, whether its CRD is installed now;
	// 0 is DefaultGatewayRecheck.
	GatewayRecheck time.Duration
}

// Source feeds the event loop from informers. Handlers only record the
// latest state of each object; the loop's Sync hands those to the engine
// as events, so a burst of changes to one object costs one translation of
// it, and nothing touches the engine but the loop's goroutine.
type Source struct {
	log     hclog.Logger
	factory informers.SharedInformerFactory
	secrets informers.SharedInformerFactory
	// authSecrets watches Opaque Secrets, where basic-auth users live.
	authSecrets informers.SharedInformerFactory
	// gateway watches the Gateway API kinds; nil without a clientset.
	gateway *gatewayWatch
	synced  *cacheWait

	// imu guards informers, which Start adds the Gateway API's to.
	imu       sync.RWMutex
	informers map[string]cache.SharedIndexInformer // by kind
	changed   chan struct{}
	// serviceStatus: SourceConfig.ServiceStatus.
	serviceStatus bool

	mu      sync.Mutex
	pending map[objectKey]change
	// held are kinds watched since Start whose caches are still filling:
	// their changes wait in heldChanges, and reach pending all at once
	// (gatewaywatch.go). staged are their informers, which the next Sync
	// makes visible with the batch that first holds their objects.
	held        map[string]bool
	heldChanges map[objectKey]change
	staged      map[string]cache.SharedIndexInformer
}

type objectKey struct{ kind, namespace, name string }

type change struct {
	obj     any
	deleted bool
}

// Kinds fed to the translator, in the order Sync applies them.
const (
	KindService       = "Service"
	KindEndpointSlice = "EndpointSlice"
	KindIngress       = "Ingress"
	KindIngressClass  = "IngressClass"
	KindSecret        = "Secret"
	// KindAuthSecret: Opaque Secrets, which may hold an Ingress's
	// basic-auth users (auth-secret); a second watch of Secrets.
	KindAuthSecret = "Secret (Opaque)"
	KindNode       = "Node"
)

// NewSource sets up the informers; Start runs them.
func NewSource(client kubernetes.Interface, cfg SourceConfig, log hclog.Logger) (*Source, error) {
	s := &Source{log: log, changed: make(chan struct{}, 1), pending: map[objectKey]change{}, held: map[string]bool{},
		heldChanges: map[objectKey]change{}, staged: map[string]cache.SharedIndexInformer{}, informers: map[string]cache.SharedIndexInformer{}, serviceStatus: cfg.ServiceStatus}
	s.factory = informers.NewSharedInformerFactoryWithOptions(client, cfg.Resync,
		informers.WithNamespace(cfg.Namespace), informers.WithTransform(trim))
	// Only TLS Secrets (their certificate and key) and Opaque ones (where
	// basic-auth users live, in any key): the other types may be many
	// and large (Helm releases), and hold credentials fairway has no
	// business caching (service-account tokens, registry logins).
	s.secrets = secretsOfType(client, cfg, corev1.SecretTypeTLS, trim)
	s.authSecrets = secretsOfType(client, cfg, corev1.SecretTypeOpaque, trimAuthSecret)
	s.informers[KindService] = s.factory.Core().V1().Services().Informer()
	s.informers[KindEndpointSlice] = s.factory.Discovery().V1().EndpointSlices().Informer()
	s.informers[KindIngress] = s.factory.Networking().V1().Ingresses().Informer()
	s.informers[KindIngressClass] = s.factory.Networking().V1().IngressClasses().Informer()
	s.informers[KindSecret] = s.secrets.Core().V1().Secrets().Informer()
	s.informers[KindAuthSecret] = s.authSecrets.Core().V1().Secrets().Informer()
	if cfg.Nodes {
		s.informers[KindNode] = s.factory.Core().V1().Nodes().Informer()
	}
	s.synced = newCacheWait(log)
	for kind, inf := range s.informers {
		if err := s.watch(kind, inf); err != nil {
			return nil, err
		}
	}
	if cfg.Gateway != nil {
		s.gateway = newGatewayWatch(cfg.Gateway, client.Discovery(), client, cfg)
	}
	return s, nil
}

// watch feeds one kind's informer to the loop and to the wait for the
// caches; it must come before the informer starts.
func (s *Source) watch(kind string, inf cache.SharedIndexInformer) error {
	if _, err := inf.AddEventHandler(s.handler(kind)); err != nil {
		return fmt.Errorf("watching %ss: %w", kind, err)
	}
	if err := s.synced.add(kind, inf); err != nil {
		return fmt.Errorf("watching %ss: %w", kind, err)
	}
	s.imu.Lock()
	s.informers[kind] = inf
	s.imu.Unlock()
	return nil
}

// secretsOfType is an informer factory of the Secrets of one type, by
// field selector, so that the API server sends no others.
func secretsOfType(client kubernetes.Interface, cfg SourceConfig, typ corev1.SecretType, transform cache.TransformFunc) informers.SharedInformerFactory {
	return informers.NewSharedInformerFactoryWithOptions(client, cfg.Resync,
		informers.WithNamespace(cfg.Namespace), informers.WithTransform(transform),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("type", string(typ)).String()
		}))
}

// Factory is the main informer factory, for the status writer to share.
func (s *Source) Factory() informers.SharedInformerFactory { return s.factory }

// Informer is the informer of one kind, or nil if it is not watched. The
// Gateway API kinds' are there once Start has found their CRDs, or, for
// CRDs installed later, from the Sync that hands the loop their objects.
func (s *Source) Informer(kind string) cache.SharedIndexInformer {
	s.imu.RLock()
	defer s.imu.RUnlock()
	return s.informers[kind]
}

func (s *Source) handler(kind string) cache.ResourceEventHandlerFuncs {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { s.record(kind, obj, false) },
		UpdateFunc: func(old, next any) {
			if !sameForTranslation(old, next, s.serviceStatus) {
				s.record(kind, next, false)
			}
		},
		DeleteFunc: func(obj any) { s.record(kind, unwrap(obj), true) },
	}
}

func (s *Source) record(kind string, obj any, deleted bool) {
	m, ok := obj.(metav1.Object)
	if !ok {
		s.log.Warn("ignoring an object of an unexpected type", "kind", kind, "type", fmt.Sprintf("%T", obj))
		return
	}
	s.mu.Lock()
	key, c := objectKey{kind, m.GetNamespace(), m.GetName()}, change{obj: obj, deleted: deleted}
	if s.held[kind] {
		s.heldChanges[key] = c
		s.mu.Unlock()
		return
	}
	s.pending[key] = c
	s.mu.Unlock()
	s.signal()
}

// signal tells the loop that there are changes.
func (s *Source) signal() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// Start runs the informers until ctx ends and waits for their caches to
// fill. Nothing may be translated before that: a half-listed cluster would
// publish a config without most of its Services, and Envoy would drain
// their listeners.
func (s *Source) Start(ctx context.Context) error {
	s.factory.Start(ctx.Done())
	s.secrets.Start(ctx.Done())
	s.authSecrets.Start(ctx.Done())
	if err := s.startGateway(ctx); err != nil {
		return err
	}
	s.log.Info("waiting for the informers' caches to sync", "kinds", len(s.synced.informers))
	if !s.synced.wait(ctx) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return errors.New("the informers' caches did not sync")
	}
	s.log.Info("caches synced")
	return nil
}

// Shutdown waits for the informers' goroutines after ctx has ended.
func (s *Source) Shutdown() {
	s.factory.Shutdown()
	s.secrets.Shutdown()
	s.authSecrets.Shutdown()
	if s.gateway != nil {
		s.gateway.factory.Shutdown()
		s.gateway.namespaces.Shutdown()
	}
}

// Changed implements xds.Source.
func (s *Source) Changed() <-chan struct{} { return s.changed }

// Sync implements xds.Source: it hands the changes recorded since the last
// Sync to the engine, in a fixed order so that logs repeat.
func (s *Source) Sync(e *translator.Engine) []translator.Problem {
	s.mu.Lock()
	batch := s.pending
	s.pending = make(map[objectKey]change, len(batch))
	var staged map[string]cache.SharedIndexInformer
	if len(s.staged) > 0 {
		staged, s.staged = s.staged, map[string]cache.SharedIndexInformer{}
	}
	s.mu.Unlock()
	if len(staged) > 0 {
		s.imu.Lock()
		maps.Copy(s.informers, staged)
		s.imu.Unlock()
	}
	keys := make([]objectKey, 0, len(batch))
	for k := range batch {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b objectKey) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.namespace, b.namespace), cmp.Compare(a.name, b.name))
	})
	for _, k := range keys {
		c := batch[k]
		apply := e.Upsert
		if c.deleted {
			apply = e.Delete
		}
		if err := apply(c.obj); err != nil {
			s.log.Error("the translator refused an object", "kind", k.kind, "namespace", k.namespace, "name", k.name, "error", err)
		}
	}
	return nil
}
