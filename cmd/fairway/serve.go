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
	logLevel                     string
	logJSON                      bool
	holdoff, maxDelay            time.Duration
	groupBy                      string
	tlsCert, tlsKey, tlsClientCA string
	maxStreams                   uint32
	shutdownTimeout              time.Duration
	proxyless                    bool
}

func newServeCommand() *cobra.Command {
	c := serveConfig{}
	cmd := &cobra.Command{
		Use:   "serve --manifests PATH",
		Short: "Translate Kubernetes objects continuously and serve them to Envoy over ADS",
		Long: `serve watches a file or directory of Kubernetes YAML (--manifests), translates
it on every change, and serves the result over ADS (state of the world and
delta) to Envoys, and to proxyless gRPC clients. The admin address serves
/healthz, /readyz, /metrics, /debug/snapshot and /debug/nodes.`,
		Args: cobra.NoArgs,
	}
	opts := addTranslatorFlags(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&c.manifests, "manifests", "", "file or directory of Kubernetes YAML to serve, watched for changes")
	f.StringVar(&c.xdsAddress, "xds-address", ":18000", "address of the xDS gRPC server")
	f.StringVar(&c.adminAddress, "admin-address", "127.0.0.1:9090", "address of the admin HTTP server")
	f.StringVar(&c.logLevel, "log-level", "info", "trace, debug, info, warn or error")
	f.BoolVar(&c.logJSON, "log-json", false, "log JSON lines instead of text")
	f.DurationVar(&c.holdoff, "holdoff", xds.DefaultHoldoff, "quiet time after a change before translating")
	f.DurationVar(&c.maxDelay, "max-delay", xds.DefaultMaxDelay, "longest a change waits for a burst to settle")
	f.StringVar(&c.groupBy, "node-group-by", "none", "snapshot per node group: none (one fleet) or cluster (node.cluster)")
	f.StringVar(&c.tlsCert, "xds-tls-cert", "", "serve xDS over TLS with this certificate (PEM)")
	f.StringVar(&c.tlsKey, "xds-tls-key", "", "private key (PEM) of --xds-tls-cert")
	f.StringVar(&c.tlsClientCA, "xds-tls-client-ca", "", "require client certificates signed by this CA (mTLS)")
	f.Uint32Var(&c.maxStreams, "max-concurrent-streams", xds.DefaultMaxConcurrentStreams, "most concurrent streams per xDS connection")
	f.DurationVar(&c.shutdownTimeout, "shutdown-timeout", xds.DefaultShutdownTimeout, "how long open xDS streams may delay shutdown")
	f.BoolVar(&c.proxyless, "proxyless", true, "also serve proxyless gRPC clients (API listeners per Service port)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if c.manifests == "" {
			return usageError(errors.New("serve needs --manifests PATH (the Kubernetes source is not there yet)"))
		}
		if err := opts.Validate(); err != nil {
			return usageError(err)
		}
		opts.Proxyless = c.proxyless
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
	serverCfg := xds.ServerConfig{Address: c.xdsAddress, MaxConcurrentStreams: c.maxStreams, ShutdownTimeout: c.shutdownTimeout}
	if serverCfg.TLS, err = serverTLS(c); err != nil {
		return usageError(err)
	}
	src, err := file.NewSource(c.manifests, log.Named("source"))
	if err != nil {
		return usageError(fmt.Errorf("--manifests: %w", err))
	}
	metrics := xds.NewMetrics()
	publisher := xds.NewPublisher(groupBy, log.Named("xds"), metrics)
	nodes := xds.NewNodes(publisher, log.Named("xds.nodes"), metrics)
	server, err := xds.NewServer(ctx, serverCfg, publisher, nodes, log.Named("xds.server"))
	if err != nil {
		return usageError(err)
	}
	admin, err := xds.NewAdmin(c.adminAddress, publisher, nodes, metrics, log.Named("admin"))
	if err != nil {
		return usageError(err)
	}
	loop := &xds.Loop{
		Source: src, Options: opts, Publisher: publisher, Metrics: metrics, Log: log.Named("loop"),
		Holdoff: c.holdoff, MaxDelay: c.maxDelay,
	}
	log.Info("starting", "version", version, "commit", buildCommit(), "manifests", c.manifests)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return src.Run(gctx) })
	g.Go(func() error { return loop.Run(gctx) })
	g.Go(func() error { return server.Run(gctx, publisher.Ready()) })
	g.Go(func() error { return admin.Run(gctx) })
	err = g.Wait()
	log.Info("stopped")
	return err
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
