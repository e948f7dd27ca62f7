package xds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/fairwayhq/fairway/translator"
)

// Admin is the admin HTTP server: health, readiness, metrics and the debug
// views of the published snapshot and the connected nodes. The same type
// serves the health-only address, with the health routes alone.
type Admin struct {
	log    hclog.Logger
	what   string
	server *http.Server
	lis    net.Listener
}

// NewAdmin binds the admin address.
func NewAdmin(address string, p *Publisher, nodes *Nodes, m *Metrics, logger hclog.Logger) (*Admin, error) {
	mux := healthRoutes(p, m)
	mux.HandleFunc("GET /debug/snapshot", func(w http.ResponseWriter, _ *http.Request) { serveSnapshot(w, p) })
	mux.HandleFunc("GET /debug/nodes", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, nodes.Streams()) })
	// Go's profiler, for CPU and memory questions under real load; the
	// admin address is loopback by default.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return bindAdmin("admin", address, mux, logger)
}

// NewHealth binds a server of the health routes alone (/healthz, /readyz,
// /metrics): what must be reachable from outside the pod, for the
// kubelet's probes and Prometheus, while pprof and /debug/snapshot (which
// lists every host and backend fairway serves) stay on the loopback admin.
func NewHealth(address string, p *Publisher, m *Metrics, logger hclog.Logger) (*Admin, error) {
	return bindAdmin("health and metrics", address, healthRoutes(p, m), logger)
}

func bindAdmin(what, address string, mux *http.ServeMux, logger hclog.Logger) (*Admin, error) {
	lis, err := net.Listen("tcp", address)
	if err != nil {
		return nil, fmt.Errorf("%s address: %w", what, err)
	}
	return &Admin{
		log:    logger,
		what:   what,
		lis:    lis,
		server: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second},
	}, nil
}

// healthRoutes are liveness, readiness (the first snapshot is published:
// until then fairway has nothing to serve a new Envoy) and metrics.
func healthRoutes(p *Publisher, m *Metrics) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		select {
		case <-p.Ready():
			fmt.Fprintln(w, "ok")
		default:
			http.Error(w, "no snapshot published yet", http.StatusServiceUnavailable)
		}
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	return mux
}

// Addr is the bound address.
func (a *Admin) Addr() net.Addr { return a.lis.Addr() }

// Run serves until ctx ends, then gives open requests 2 s to finish.
func (a *Admin) Run(ctx context.Context) error {
	a.log.Info("serving "+a.what, "address", a.lis.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- a.server.Serve(a.lis) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := a.server.Shutdown(shutdown); err != nil {
		a.server.Close()
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// snapshotView is /debug/snapshot: the Envoy resources in the translate
// JSON shape (private keys redacted), plus the versions, the proxyless
// resources and the Problems.
type snapshotView struct {
	*translator.Resources
	Versions  map[string]map[string]string `json:"versions"`
	Proxyless *translator.Resources        `json:"proxyless"`
	Problems  []translator.Problem         `json:"problems"`
}

func serveSnapshot(w http.ResponseWriter, p *Publisher) {
	select {
	case <-p.Ready():
	default:
		http.Error(w, "no snapshot published yet", http.StatusServiceUnavailable)
		return
	}
	// One read of the cache (and of the Problems published with it): a
	// publish between reads would pair new versions with old resources.
	p.mu.Lock()
	envoyAll, proxylessAll, versions := p.cache.Snapshot()
	problems := p.problems
	p.mu.Unlock()
	res := translator.Decode(envoyAll, proxylessAll)
	res.Problems = problems
	envoyRes, err := res.Resources(false)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	proxyless := translator.Result{Listeners: res.Proxyless.Listeners, Clusters: res.Proxyless.Clusters, Endpoints: res.Proxyless.Endpoints}
	proxylessRes, err := proxyless.Resources(false)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if problems == nil {
		problems = []translator.Problem{}
	}
	writeJSON(w, snapshotView{Resources: envoyRes, Versions: versions, Proxyless: proxylessRes, Problems: problems})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}
