package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/fairwayhq/fairway/source/file"
	"github.com/fairwayhq/fairway/translator"
	"github.com/fairwayhq/fairway/xds"
)

// serveConfig is everything serve's flags set.
type serveConfig struct {
	manifests                    string
	xdsAddress, adminAddress     string
	healthAddress                string
	logLevel                     string
	logJSON                      bool
	holdoff, maxDelay            time.Duration
	groupBy                      string
	tlsCert, tlsKey, tlsClientCA string
	trustDomain                  string
	insecure                     bool
	maxConnStreams               uint32
	maxStreams                   int
	shutdownTimeout              time.Duration
	proxyless                    bool
	proxylessGrace               time.Duration
	kube                         kubeConfig
}

func newServeCommand() *cobra.Command {
	c := serveConfig{}
	cmd := &cobra.Command{
		Use:   "serve [--manifests PATH]",
		Short: "Translate Kubernetes objects continuously and serve them to Envoy over ADS",
		Long: `serve watches a Kubernetes cluster, or with --manifests a file or directory of
Kubernetes YAML, translates it on every change, and serves the result over ADS
(state of the world and delta) to Envoys, and to proxyless gRPC clients.

Against a cluster, the elected leader among the replicas writes the fleet's
address to the status of admitted LoadBalancer Services and Ingresses, and
records Problems as Events. The admin address serves /healthz, /readyz,
/metrics, /debug/snapshot, /debug/nodes and pprof; keep it on loopback. The
health address, when set, serves only /healthz, /readyz and /metrics, for
probes and scrapes from outside the pod.`,
		Args: cobra.NoArgs,
	}
	opts := addTranslatorFlags(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&c.manifests, "manifests", "", "file or directory of Kubernetes YAML to serve, watched for changes")
	f.StringVar(&c.xdsAddress, "xds-address", "127.0.0.1:18000", "address of the xDS gRPC server; off loopback it needs --xds-tls-client-ca (mTLS) or --xds-insecure")
	f.StringVar(&c.adminAddress, "admin-address", "127.0.0.1:9090", "address of the admin HTTP server (health, metrics, debug views, pprof)")
	f.StringVar(&c.healthAddress, "health-address", "", "address of an HTTP server with only /healthz, /readyz and /metrics, for probes and Prometheus (empty: none)")
	f.StringVar(&c.logLevel, "log-level", "info", "trace, debug, info, warn or error")
	f.BoolVar(&c.logJSON, "log-json", false, "log JSON lines instead of text")
	f.DurationVar(&c.holdoff, "holdoff", xds.DefaultHoldoff, "quiet time after a change before translating")
	f.DurationVar(&c.maxDelay, "max-delay", xds.DefaultMaxDelay, "longest a change waits for a burst to settle")
	f.StringVar(&c.groupBy, "node-group-by", "none", "snapshot per node group: none (one fleet) or cluster (node.cluster)")
	f.StringVar(&c.tlsCert, "xds-tls-cert", "", "serve xDS over TLS with this certificate (PEM)")
	f.StringVar(&c.tlsKey, "xds-tls-key", "", "private key (PEM) of --xds-tls-cert")
	f.StringVar(&c.tlsClientCA, "xds-tls-client-ca", "", "require client certificates signed by this CA (mTLS); their SPIFFE identity decides what each stream gets")
	f.StringVar(&c.trustDomain, "trust-domain", xds.DefaultTrustDomain, "SPIFFE trust domain of the client identities spiffe://<td>/fleet[/<group>] and spiffe://<td>/proxyless/<namespace>")
	f.BoolVar(&c.insecure, "xds-insecure", false, "serve xDS without client authentication on a non-loopback --xds-address: anyone who reaches it gets every secret (demos only)")
	f.Uint32Var(&c.maxConnStreams, "max-concurrent-streams", xds.DefaultMaxConcurrentStreams, "most concurrent streams per xDS connection")
	f.IntVar(&c.maxStreams, "max-streams", xds.DefaultMaxStreams,
		"most open xDS streams of this replica, over all connections (SotW, delta and per-type); one more is refused with RESOURCE_EXHAUSTED, and the client retries, behind a Service possibly on another replica; 0: no cap")
	f.DurationVar(&c.shutdownTimeout, "shutdown-timeout", xds.DefaultShutdownTimeout, "how long open xDS streams may delay shutdown")
	f.BoolVar(&c.proxyless, "proxyless", true, "also serve proxyless gRPC clients and servers (API listeners per Service port and Ingress host, server listeners for appProtocol grpc pods)")
	f.DurationVar(&c.proxylessGrace, "proxyless-grace", xds.DefaultProxylessGrace,
		"how long a Service's or Ingress host's proxyless resources, built when a client first asks for one of its names, stay after no client asks for them")
	addKubeFlags(f, &c.kube)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := opts.Validate(); err != nil {
			return usageError(err)
		}
		if c.proxylessGrace <= 0 {
			return usageError(errors.New("--proxyless-grace must be positive"))
		}
		opts.Proxyless, opts.ProxylessOnDemand = c.proxyless, c.proxyless
		ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return serve(ctx, c, *opts, cmd)
	}
	return cmd
}

func serve(ctx context.Context, c serveConfig, opts translator.Options, cmd *cobra.Command) error {
	log, err := newLogger(c.logLevel, c.logJSON, cmd.ErrOrStderr())
	if err != nil {
		return usageError(err)
	}
	groupBy, err := xds.ParseGroupBy(c.groupBy)
	if err != nil {
		return usageError(err)
	}
	if err := checkXDSAuth(c); err != nil {
		return usageError(err)
	}
	serverCfg, err := xdsServerConfig(c)
	if err != nil {
		return usageError(err)
	}
	if c.tlsClientCA == "" && !isLoopback(c.xdsAddress) {
		log.Warn("serving xDS without client authentication (--xds-insecure): any client that reaches it gets every secret", "address", c.xdsAddress)
	}
	metrics := xds.NewMetrics()
	in, err := newInput(c, opts, metrics, log)
	if err != nil {
		return usageError(err)
	}
	publisher := xds.NewPublisher(groupBy, log.Named("xds"), metrics)
	nodes := xds.NewNodes(publisher, log.Named("xds.nodes"), metrics)
	nodes.Authorize(xds.Authorization{TrustDomain: c.trustDomain, RequireIdentity: c.tlsClientCA != ""})
	server, err := xds.NewServer(ctx, serverCfg, publisher, nodes, log.Named("xds.server"))
	if err != nil {
		return usageError(err)
	}
	admin, err := xds.NewAdmin(c.adminAddress, publisher, nodes, metrics, log.Named("admin"))
	if err != nil {
		return usageError(err)
	}
	runHealth := func(ctx context.Context) error { <-ctx.Done(); return nil }
	if c.healthAddress != "" {
		health, err := xds.NewHealth(c.healthAddress, publisher, metrics, log.Named("health"))
		if err != nil {
			return usageError(fmt.Errorf("--health-address: %w", err))
		}
		runHealth = health.Run
	}
	loop := &xds.Loop{
		Source: in.source, Options: opts, Publisher: publisher, Metrics: metrics, Log: log.Named("loop"),
		Holdoff: c.holdoff, MaxDelay: c.maxDelay, OnPublish: in.onPublish, ProxylessGrace: c.proxylessGrace,
	}
	log.Info("starting", "version", version, "commit", buildCommit(), "source", in.name)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return in.run(gctx) })
	g.Go(func() error {
		select { // nothing is translated before the source has everything
		case <-in.synced:
		case <-gctx.Done():
			return nil
		}
		return loop.Run(gctx)
	})
	g.Go(func() error { return server.Run(gctx, publisher.Ready()) })
	g.Go(func() error { return admin.Run(gctx) })
	g.Go(func() error { return runHealth(gctx) })
	err = g.Wait()
	log.Info("stopped")
	return err
}

// input is where serve's objects come from: files, or a cluster.
type input struct {
	name      string
	source    xds.Source
	run       func(context.Context) error
	synced    <-chan struct{}
	onPublish func(translator.Output)
}

func newInput(c serveConfig, opts translator.Options, metrics *xds.Metrics, log hclog.Logger) (input, error) {
	if c.manifests != "" {
		src, err := file.NewSource(c.manifests, log.Named("source"))
		if err != nil {
			return input{}, fmt.Errorf("--manifests: %w", err)
		}
		synced := make(chan struct{})
		close(synced)
		return input{name: "manifests " + c.manifests, source: src, run: src.Run, synced: synced}, nil
	}
	k, err := newKubeSide(c.kube, opts, metrics.Registry, log)
	if err != nil {
		return input{}, err
	}
	name := "kubernetes, all namespaces"
	if c.kube.namespace != "" {
		name = "kubernetes, namespace " + c.kube.namespace
	}
	return input{name: name, source: k.src, run: k.Run, synced: k.synced, onPublish: k.onPublish}, nil
}

func xdsServerConfig(c serveConfig) (xds.ServerConfig, error) {
	if c.maxStreams < 0 {
		return xds.ServerConfig{}, fmt.Errorf("--max-streams %d: must be 0 (no cap) or more", c.maxStreams)
	}
	tlsCfg, err := serverTLS(c)
	return xds.ServerConfig{
		Address: c.xdsAddress, TLS: tlsCfg, ShutdownTimeout: c.shutdownTimeout,
		MaxConcurrentStreams: c.maxConnStreams, MaxStreams: c.maxStreams,
	}, err
}

func serverTLS(c serveConfig) (*tls.Config, error) {
	switch {
	case c.tlsCert == "" && c.tlsKey == "" && c.tlsClientCA == "":
		return nil, nil
	case c.tlsCert == "" || c.tlsKey == "":
		return nil, errors.New("--xds-tls-cert and --xds-tls-key go together")
	}
	return xds.ServerTLS(c.tlsCert, c.tlsKey, c.tlsClientCA)
}
