package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"

	"github.com/fairwayhq/fairway/source/kube"
	"github.com/fairwayhq/fairway/translator"
)

// kubeConfig is what serve's Kubernetes flags set.
type kubeConfig struct {
	kubeconfig     string
	namespace      string
	resync         time.Duration
	publishAddress string
	fleetNamespace string
	leaderElect    bool
	lease          kube.LeaderConfig
	gatewayRecheck time.Duration
}

func addKubeFlags(fs *pflag.FlagSet, c *kubeConfig) {
	fs.StringVar(&c.kubeconfig, "kubeconfig", "", "kubeconfig of the cluster to watch (default: in-cluster, then $KUBECONFIG or ~/.kube/config)")
	fs.StringVar(&c.namespace, "namespace", "", "watch only this namespace (default: all)")
	fs.DurationVar(&c.resync, "resync", 10*time.Minute, "replay the informers' caches this often, so missed status is rewritten (0: never)")
	fs.StringVar(&c.publishAddress, "publish-address", kube.DefaultPublishAddress,
		"the fleet's address for status: fleet-pods=SELECTOR (ready fleet pods' nodes), service=NAMESPACE/NAME (copy its LB status) or static=ADDRESS,...")
	fs.StringVar(&c.fleetNamespace, "fairway-namespace", envOr("POD_NAMESPACE", "fairway-system"),
		"namespace of fairway's Lease and of the fleet's pods")
	fs.DurationVar(&c.gatewayRecheck, "gateway-api-recheck", kube.DefaultGatewayRecheck,
		"while some Gateway API CRD is not installed (or not allowed by RBAC), ask the API server this often whether it is now, and watch it without a restart")
	fs.BoolVar(&c.leaderElect, "leader-elect", true, "elect one replica to write status and Events (off: this one always does)")
	fs.StringVar(&c.lease.Name, "leader-elect-lease", kube.DefaultLeaseName, "name of the Lease in --fairway-namespace")
	fs.StringVar(&c.lease.Identity, "leader-elect-identity", "", "this replica's name in the Lease (default: the host name and a random suffix)")
	fs.DurationVar(&c.lease.LeaseDuration, "leader-elect-lease-duration", kube.DefaultLeaseDuration, "how long a lost leader's lease keeps others waiting")
	fs.DurationVar(&c.lease.RenewDeadline, "leader-elect-renew-deadline", kube.DefaultRenewDeadline, "how long the leader tries to renew before it steps down")
	fs.DurationVar(&c.lease.RetryPeriod, "leader-elect-retry-period", kube.DefaultRetryPeriod, "how often candidates try for the lease")
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// kubeSide is everything serve runs against a cluster: the informers that
// feed the loop, and the leader's status and Event writers.
type kubeSide struct {
	src    *kube.Source
	addrs  *kube.Addresses
	status *kube.StatusWriter
	// gatewayStatus writes the Gateway API objects' status; the loop
	// hands it each round's translator.Result.Gateway.
	gatewayStatus *kube.GatewayStatusWriter
	events        *kube.EventRecorder
	election      *kube.Election
	synced        chan struct{}
}

func newKubeSide(c kubeConfig, opts translator.Options, reg prometheus.Registerer, log hclog.Logger) (*kubeSide, error) {
	if c.gatewayRecheck <= 0 {
		return nil, fmt.Errorf("--gateway-api-recheck %v: must be positive", c.gatewayRecheck)
	}
	publish, err := kube.ParsePublishAddress(c.publishAddress)
	if err != nil {
		return nil, err
	}
	restCfg, err := kube.RESTConfig(c.kubeconfig)
	if err != nil {
		return nil, err
	}
	metrics := kube.NewMetrics(reg)
	client, err := kube.NewClient(restCfg, version, metrics)
	if err != nil {
		return nil, err
	}
	gateway, err := kube.NewGatewayClient(restCfg, version, metrics)
	if err != nil {
		return nil, err
	}
	k := &kubeSide{synced: make(chan struct{})}
	cfg := kube.SourceConfig{Namespace: c.namespace, Resync: c.resync, Nodes: opts.LBTarget == translator.LBTargetNodes, ServiceStatus: len(opts.LBAddressPools) > 0, Gateway: gateway,
		GatewayRecheck: c.gatewayRecheck}
	if k.src, err = kube.NewSource(client, cfg, log.Named("source")); err != nil {
		return nil, err
	}
	if k.addrs, err = kube.NewAddresses(client, publish, c.fleetNamespace, k.src.Factory(), log.Named("address")); err != nil {
		return nil, err
	}
	if k.status, err = kube.NewStatusWriter(client, k.src, k.addrs, opts, metrics, log.Named("status")); err != nil {
		return nil, err
	}
	k.gatewayStatus = kube.NewGatewayStatusWriter(gateway, k.src, k.addrs, opts.GatewayController, metrics, log.Named("gateway-status"))
	k.events = kube.NewEventRecorder(client, k.src, metrics, log.Named("events"))
	if c.leaderElect {
		lease := c.lease
		lease.Namespace = c.fleetNamespace
		if lease.Identity == "" {
			lease.Identity = defaultIdentity()
		}
		k.election = kube.NewElection(client, lease, metrics, log.Named("leader"), k.status, k.gatewayStatus, k.events)
	}
	return k, nil
}

// defaultIdentity is the host name (the pod name in a cluster) with a
// random suffix, so that two fairways on one host never share a lease.
func defaultIdentity() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s_%s", host, hex.EncodeToString(b))
}

// onPublish hands a published round to the writers: the Gateway API's
// status only while its CRDs are watched (the writer has nothing to
// write otherwise).
func (k *kubeSide) onPublish(out translator.Output) {
	k.status.Observe(out.Admitted())
	k.events.Observe(out.Problems)
	if k.src.Informer(kube.KindGateway) != nil {
		k.gatewayStatus.Observe(out.Gateway())
	}
}

// Run fills the caches, then closes synced, then writes until ctx ends.
func (k *kubeSide) Run(ctx context.Context) error {
	defer k.src.Shutdown()
	defer k.addrs.Shutdown()
	if err := k.src.Start(ctx); err != nil {
		return err
	}
	if err := k.addrs.Start(ctx); err != nil {
		return err
	}
	close(k.synced)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return k.status.Run(gctx) })
	g.Go(func() error { return k.gatewayStatus.Run(gctx) })
	g.Go(func() error { return k.events.Run(gctx) })
	if k.election != nil {
		g.Go(func() error { return k.election.Run(gctx) })
	} else {
		k.status.Lead(gctx)
		k.gatewayStatus.Lead(gctx)
		k.events.Lead(gctx)
	}
	return g.Wait()
}
