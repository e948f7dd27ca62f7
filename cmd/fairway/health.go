package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/fairwayhq/fairway/xds"
)

// healthServer answers only what must be reachable from outside the pod:
// /healthz and /readyz for the kubelet's probes, /metrics for Prometheus.
// The admin address keeps pprof and /debug/snapshot, which lists every
// host and backend fairway serves, on loopback.
type healthServer struct {
	log    hclog.Logger
	lis    net.Listener
	server *http.Server
}

// healthRunner binds the health server and returns its Run; with no
// address it returns a Run that only waits for the end.
func healthRunner(address string, ready <-chan struct{}, metrics prometheus.Gatherer, log hclog.Logger) (func(context.Context) error, error) {
	if address == "" {
		return func(ctx context.Context) error { <-ctx.Done(); return nil }, nil
	}
	h, err := newHealthServer(address, ready, metrics, log)
	if err != nil {
		return nil, err
	}
	return h.Run, nil
}

// newHealthServer binds address. ready closes once the first snapshot is
// published: until then fairway has nothing to serve a new Envoy.
func newHealthServer(address string, ready <-chan struct{}, metrics prometheus.Gatherer, log hclog.Logger) (*healthServer, error) {
	lis, err := net.Listen("tcp", address)
	if err != nil {
		return nil, fmt.Errorf("--health-address: %w", err)
	}
	return &healthServer{log: log, lis: lis, server: &http.Server{
		Handler:           healthMux(ready, metrics),
		ReadHeaderTimeout: 5 * time.Second,
	}}, nil
}

func healthMux(ready <-chan struct{}, metrics prometheus.Gatherer) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		select {
		case <-ready:
			fmt.Fprintln(w, "ok")
		default:
			http.Error(w, "no snapshot published yet", http.StatusServiceUnavailable)
		}
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(metrics, promhttp.HandlerOpts{}))
	return mux
}

// Run serves until ctx ends.
func (h *healthServer) Run(ctx context.Context) error {
	h.log.Info("serving health and metrics", "address", h.lis.Addr().String())
	return xds.ServeHTTP(ctx, h.server, h.lis)
}
