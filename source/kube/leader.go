package kube

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// LeaderConfig is the Lease that elects the replica that writes to the
// cluster.
type LeaderConfig struct {
	Namespace, Name, Identity string
	LeaseDuration             time.Duration
	RenewDeadline             time.Duration
	RetryPeriod               time.Duration
}

// Defaults of the election, client-go's usual ones.
const (
	DefaultLeaseName     = "fairway"
	DefaultLeaseDuration = 15 * time.Second
	DefaultRenewDeadline = 10 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
)

// Follower writes to the cluster for the length of a leadership term. The
// term is a context that ends the moment leadership does, so a follower
// that makes every request under it can never write as a former leader:
// a request in flight is cancelled, and no new one starts.
type Follower interface{ Lead(term context.Context) }

// Election runs leader election for as long as fairway runs. Unlike most
// controllers, a replica that loses the lease does not exit: every replica
// serves xDS, and restarting would drop its Envoys' streams. It stands
// again instead.
type Election struct {
	client    kubernetes.Interface
	cfg       LeaderConfig
	followers []Follower
	metrics   *Metrics
	log       hclog.Logger

	mu    sync.Mutex
	terms int // terms begun, so that a late end of an old one is told apart
}

// NewElection tells followers when leadership comes and goes.
func NewElection(client kubernetes.Interface, cfg LeaderConfig, metrics *Metrics, log hclog.Logger, followers ...Follower) *Election {
	return &Election{client: client, cfg: cfg, followers: followers, metrics: metrics, log: log}
}

// Run stands for election until ctx ends, and releases the lease on the
// way out so that another replica takes over at once.
//
// client-go notices that another identity holds the lease at its next
// renewal, but steps down only when its renew deadline has passed; until
// then it would go on calling itself leader. The lock is watched instead:
// the first read that shows another holder ends the term there and then.
func (e *Election) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		run, stop := context.WithCancel(ctx)
		lock := &watchedLock{
			Interface: &resourcelock.LeaseLock{
				LeaseMeta:  metav1.ObjectMeta{Namespace: e.cfg.Namespace, Name: e.cfg.Name},
				Client:     e.client.CoordinationV1(),
				LockConfig: resourcelock.ResourceLockConfig{Identity: e.cfg.Identity},
			},
			lost: func(holder string) {
				e.log.Warn("the lease was taken: no more writes", "identity", e.cfg.Identity, "holder", holder)
				stop()
			},
		}
		le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock:            lock,
			LeaseDuration:   e.cfg.LeaseDuration,
			RenewDeadline:   e.cfg.RenewDeadline,
			RetryPeriod:     e.cfg.RetryPeriod,
			ReleaseOnCancel: true,
			Name:            e.cfg.Name,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: e.lead,
				OnStoppedLeading: func() {},
				OnNewLeader: func(id string) {
					e.log.Info("leader", "identity", id, "self", id == e.cfg.Identity)
				},
			},
		})
		if err != nil {
			stop()
			return err
		}
		le.Run(run)
		stop()
	}
	return nil
}

// lead hands the term to the followers and waits for it to end. client-go
// ends it (cancels term) when a renewal fails past the deadline, when ctx
// ends, and, through watchedLock, when another holder shows up.
func (e *Election) lead(term context.Context) {
	e.mu.Lock()
	e.terms++
	n := e.terms
	e.mu.Unlock()
	if term.Err() != nil {
		return // client-go starts this callback on a goroutine: it may run late
	}
	e.log.Info("leading: writing status and Events", "identity", e.cfg.Identity)
	e.metrics.Leader.Set(1)
	for _, f := range e.followers {
		f.Lead(term)
	}
	<-term.Done()
	e.mu.Lock()
	defer e.mu.Unlock()
	if n == e.terms {
		e.metrics.Leader.Set(0)
	}
	e.log.Info("not leading", "identity", e.cfg.Identity)
}

// watchedLock reports the first read of the lease, while this replica
// holds it, that names another holder. An empty holder is a release, which
// client-go takes back at once, so it is not a loss.
type watchedLock struct {
	resourcelock.Interface
	lost func(holder string)
	held atomic.Bool
}

func (l *watchedLock) Get(ctx context.Context) (*resourcelock.LeaderElectionRecord, []byte, error) {
	rec, raw, err := l.Interface.Get(ctx)
	if err == nil && rec.HolderIdentity != "" && rec.HolderIdentity != l.Identity() && l.held.Swap(false) {
		l.lost(rec.HolderIdentity)
	}
	return rec, raw, err
}

func (l *watchedLock) Create(ctx context.Context, rec resourcelock.LeaderElectionRecord) error {
	err := l.Interface.Create(ctx, rec)
	l.wrote(rec, err)
	return err
}

func (l *watchedLock) Update(ctx context.Context, rec resourcelock.LeaderElectionRecord) error {
	err := l.Interface.Update(ctx, rec)
	l.wrote(rec, err)
	return err
}

func (l *watchedLock) wrote(rec resourcelock.LeaderElectionRecord, err error) {
	if err == nil {
		l.held.Store(rec.HolderIdentity == l.Identity())
	}
}
