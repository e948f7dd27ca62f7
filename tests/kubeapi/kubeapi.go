// Package kubeapi runs a real Kubernetes control plane — etcd and
// kube-apiserver, no controllers, no kubelet — on loopback for tests.
//
// A fake clientset accepts anything: it has no RBAC, no admission, no
// server-side defaulting, and its watch and resourceVersion behaviour is not
// the API server's. The Kubernetes source is only trustworthy if its tests run
// against the real thing, including an API server outage. The binaries are
// built from source by hack/control-plane-bins.sh (so only Go is required);
// tests find them through FAIRWAY_CONTROL_PLANE_BINS and skip without them.
//
// Only the API server runs: nothing garbage-collects, creates namespaces'
// default ServiceAccounts, fills EndpointSlices for Services, or aggregates
// ClusterRoles (so "view", "edit" and "admin" grant nothing; tests define
// their own Roles). Objects a controller would write, tests write themselves.
package kubeapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// EnvBins names the environment variable holding the directory with the
// kube-apiserver and etcd binaries (the output of hack/control-plane-bins.sh).
const EnvBins = "FAIRWAY_CONTROL_PLANE_BINS"

// ReadyTimeout bounds how long Start and StartAPIServer wait for /readyz.
// A healthy start takes about two seconds; a minute absorbs a loaded CI
// machine running the race detector without hiding a server that is stuck.
const ReadyTimeout = 60 * time.Second

// AdminUser is the user of the static admin token; it is in system:masters,
// which RBAC lets do anything, so test setup is never blocked by RBAC.
const AdminUser = "fairway-test-admin"

// BinDir returns the directory named by FAIRWAY_CONTROL_PLANE_BINS, or "" when
// it is unset or lacks either binary, so callers can skip with a clear message
// rather than fail on a machine where the binaries were never built.
func BinDir() string {
	dir := os.Getenv(EnvBins)
	if dir == "" {
		return ""
	}
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return ""
		}
	}
	return dir
}

// ControlPlane is a running etcd plus kube-apiserver. Its methods are safe
// for concurrent use, but StopAPIServer/StartAPIServer affect every client.
type ControlPlane struct {
	bins  string
	work  string // temporary directory holding everything below; Stop removes it
	logw  io.Writer
	logMu sync.Mutex

	etcdURL string // http://127.0.0.1:<port>, the client URL
	apiPort int    // kept across StopAPIServer/StartAPIServer
	token   string // admin bearer token (in system:masters)

	mu   sync.Mutex
	etcd *process
	api  *process // nil while the API server is stopped
}

// Start starts etcd and kube-apiserver from the binaries in dir (see BinDir)
// and waits until the API server reports ready. logw receives both processes'
// output, prefixed per line; nil discards it. The caller must call Stop.
func Start(dir string, logw io.Writer) (*ControlPlane, error) {
	if dir == "" {
		return nil, fmt.Errorf("kubeapi: no binary directory: run hack/control-plane-bins.sh and set %s", EnvBins)
	}
	work, err := os.MkdirTemp("", "fairway-kubeapi-")
	if err != nil {
		return nil, err
	}
	cp := &ControlPlane{bins: dir, work: work, logw: logw}
	if err := cp.start(); err != nil {
		_ = cp.Stop()
		return nil, err
	}
	return cp, nil
}

// start writes the credentials, then brings up etcd and the API server.
func (cp *ControlPlane) start() error {
	var err error
	if cp.token, err = writeCredentials(cp.work); err != nil {
		return err
	}
	if cp.apiPort, err = freePort(); err != nil {
		return err
	}
	if err := cp.startEtcd(); err != nil {
		return err
	}
	if err := cp.StartAPIServer(); err != nil {
		return err
	}
	// The kubeconfig embeds the serving CA, which the API server generates
	// into the cert dir on its first start, so it can only be written now.
	return writeKubeconfig(cp.Kubeconfig(), cp.Config(), "", nil)
}

// Stop stops the API server and etcd and removes the work directory (etcd's
// data, certificates, kubeconfigs). It is safe to call more than once.
func (cp *ControlPlane) Stop() error {
	err := cp.StopAPIServer()
	cp.mu.Lock()
	if cp.etcd != nil {
		err = errors.Join(err, cp.etcd.stop())
		cp.etcd = nil
	}
	cp.mu.Unlock()
	if cp.work != "" {
		err = errors.Join(err, os.RemoveAll(cp.work))
	}
	return err
}

// StopAPIServer stops only the API server, leaving etcd and its data, so a
// test can observe how clients behave during an API server outage.
func (cp *ControlPlane) StopAPIServer() error {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if cp.api == nil {
		return nil
	}
	err := cp.api.stop()
	cp.api = nil
	return err
}

// KillAPIServer ends the API server abruptly (SIGKILL), leaving etcd: the
// outage of a crashed or unreachable control plane, without the graceful
// shutdown that holds a SIGTERMed API server for as long as watches stay
// open.
func (cp *ControlPlane) KillAPIServer() error {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if cp.api == nil {
		return nil
	}
	err := cp.api.kill()
	cp.api = nil
	return err
}

// StartAPIServer starts the API server (again) on the same port, etcd data,
// certificates and tokens, so existing clients and kubeconfigs reconnect to
// the same cluster. It waits for readiness; it is a no-op if already running.
func (cp *ControlPlane) StartAPIServer() error {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if cp.api != nil {
		return nil
	}
	p, err := startProcess("kube-apiserver", filepath.Join(cp.bins, "kube-apiserver"), cp.apiServerArgs(), cp.logw, &cp.logMu)
	if err != nil {
		return err
	}
	if err := cp.waitReady(p); err != nil {
		_ = p.stop()
		return err
	}
	cp.api = p
	return nil
}

// URL is the API server's base URL, https://127.0.0.1:<port>.
func (cp *ControlPlane) URL() string {
	return "https://127.0.0.1:" + strconv.Itoa(cp.apiPort)
}

// EtcdURL is etcd's client URL, for tests that inspect storage directly.
func (cp *ControlPlane) EtcdURL() string { return cp.etcdURL }

// Config returns a fresh admin rest.Config (system:masters) that verifies the
// API server's self-generated serving certificate against its CA.
func (cp *ControlPlane) Config() *rest.Config {
	return &rest.Config{
		Host:            cp.URL(),
		BearerToken:     cp.token,
		TLSClientConfig: rest.TLSClientConfig{CAFile: cp.caFile()},
		// The defaults (5 QPS) throttle setup loops in tests for no benefit.
		QPS:   1000,
		Burst: 1000,
	}
}

// ConfigAs returns a rest.Config that authenticates as the admin but
// impersonates user and groups, so a test sees exactly what RBAC grants that
// identity (e.g. system:serviceaccount:fairway-system:fairway).
func (cp *ControlPlane) ConfigAs(user string, groups ...string) *rest.Config {
	cfg := cp.Config()
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: groups}
	return cfg
}

// Kubeconfig is the path of an admin kubeconfig, for running a separate
// binary (fairway serve --kubeconfig) against this control plane.
func (cp *ControlPlane) Kubeconfig() string {
	return filepath.Join(cp.work, "kubeconfig")
}

// KubeconfigAs writes a kubeconfig that impersonates user and groups (the
// kubeconfig "as"/"as-groups" fields) and returns its path, so a separate
// binary runs with exactly the RBAC of, say, its ServiceAccount.
func (cp *ControlPlane) KubeconfigAs(user string, groups ...string) (string, error) {
	f, err := os.CreateTemp(cp.work, "kubeconfig-as-")
	if err != nil {
		return "", err
	}
	path := f.Name()
	if err := f.Close(); err != nil {
		return "", err
	}
	if err := writeKubeconfig(path, cp.Config(), user, groups); err != nil {
		return "", err
	}
	return path, nil
}

// Clientset returns an admin clientset, for test setup.
func (cp *ControlPlane) Clientset() (*kubernetes.Clientset, error) {
	return kubernetes.NewForConfig(cp.Config())
}

// waitReady polls /readyz until it answers "ok", the process exits, or
// ReadyTimeout passes. /readyz, unlike /livez, also covers the post-start
// hooks (RBAC bootstrap roles, priority-and-fairness config, ...), so a
// ready server authorizes requests the way tests expect.
func (cp *ControlPlane) waitReady(p *process) error {
	ctx, cancel := context.WithTimeout(context.Background(), ReadyTimeout)
	defer cancel()
	var client kubernetes.Interface
	var lastErr error
	for {
		if gone, err := p.exited(); gone {
			return err
		}
		if client == nil {
			// On the first start the CA file appears only once the API
			// server has generated its certificates; until then there is
			// nothing to verify against, and nothing listening either.
			client, lastErr = cp.probeClient()
		}
		if client != nil {
			body, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
			if err == nil && string(body) == "ok" {
				return nil
			}
			lastErr = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kube-apiserver not ready after %v (last error: %v); last output:\n%s",
				ReadyTimeout, lastErr, p.out.tail())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// probeClient is a clientset with a short timeout for readiness polling, or
// nil with the reason while the serving CA does not exist yet.
func (cp *ControlPlane) probeClient() (kubernetes.Interface, error) {
	if _, err := os.Stat(cp.caFile()); err != nil {
		return nil, err
	}
	cfg := cp.Config()
	cfg.Timeout = 2 * time.Second
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err // not a typed nil inside a non-nil interface
	}
	return c, nil
}
