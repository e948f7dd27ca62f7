package kube

import (
	"context"
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

// Follower is told when this replica starts and stops leading.
type Follower interface{ SetLeading(bool) }

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
}

// NewElection tells followers when leadership comes and goes.
func NewElection(client kubernetes.Interface, cfg LeaderConfig, metrics *Metrics, log hclog.Logger, followers ...Follower) *Election {
	return &Election{client: client, cfg: cfg, followers: followers, metrics: metrics, log: log}
}

// Run stands for election until ctx ends, and releases the lease on the
// way out so that another replica takes over at once.
func (e *Election) Run(ctx context.Context) error {
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: e.cfg.Namespace, Name: e.cfg.Name},
		Client:     e.client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: e.cfg.Identity},
	}
	for ctx.Err() == nil {
		le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock:            lock,
			LeaseDuration:   e.cfg.LeaseDuration,
			RenewDeadline:   e.cfg.RenewDeadline,
			RetryPeriod:     e.cfg.RetryPeriod,
			ReleaseOnCancel: true,
			Name:            e.cfg.Name,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(context.Context) { e.set(true) },
				OnStoppedLeading: func() { e.set(false) },
				OnNewLeader: func(id string) {
					e.log.Info("leader", "identity", id, "self", id == e.cfg.Identity)
				},
			},
		})
		if err != nil {
			return err
		}
		le.Run(ctx)
	}
	return nil
}

func (e *Election) set(leading bool) {
	if leading {
		e.log.Info("leading: writing status and Events", "identity", e.cfg.Identity)
		e.metrics.Leader.Set(1)
	} else {
		e.log.Info("not leading", "identity", e.cfg.Identity)
		e.metrics.Leader.Set(0)
	}
	for _, f := range e.followers {
		f.SetLeading(leading)
	}
}
