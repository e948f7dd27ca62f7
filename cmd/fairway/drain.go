package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fairwayhq/fairway/envoy"
)

// newDrainCommand is the fleet's preStop hook. Envoy closes every listener
// at once on SIGTERM; draining first lets open connections finish while
// the node stops taking new ones. Envoy's admin wants POSTs for this, which
// a kubelet httpGet hook cannot send and a distroless Envoy image has no
// curl for, so the init container copies fairway next to the bootstrap.
func newDrainCommand() *cobra.Command {
	var (
		admin         string
		timeout, poll time.Duration
	)
	cmd := &cobra.Command{
		Use:   "drain",
		Short: "Drain a local Envoy's listeners and wait for its connections to finish (a preStop hook)",
		Args:  cobra.NoArgs,
	}
	cmd.Flags().StringVar(&admin, "admin-address", "127.0.0.1:9901", "Envoy admin interface: host:port, or unix:PATH for its unix socket")
	cmd.Flags().DurationVar(&timeout, "timeout", 20*time.Second, "longest wait for connections to finish")
	cmd.Flags().DurationVar(&poll, "poll", time.Second, "how often to count open connections")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
		defer cancel()
		client, base := adminClient(admin)
		for _, path := range []string{"/healthcheck/fail", "/drain_listeners?graceful"} {
			if err := adminPost(ctx, client, base+path); err != nil {
				return err
			}
		}
		for {
			n, err := activeConnections(ctx, client, base)
			if err == nil && n == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "drained: no open downstream connections")
				return nil
			}
			select {
			case <-ctx.Done():
				fmt.Fprintf(cmd.ErrOrStderr(), "drain: %d connections still open after %v\n", n, timeout)
				return nil
			case <-time.After(poll):
			}
		}
	}
	return cmd
}

// adminClient reaches Envoy's admin at host:port, or over its unix socket
// for unix:PATH; the URL's host is then only a placeholder.
func adminClient(addr string) (*http.Client, string) {
	path, ok := envoy.AdminSocketPath(addr)
	if !ok {
		return http.DefaultClient, "http://" + addr
	}
	var d net.Dialer
	transport := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return d.DialContext(ctx, "unix", path)
	}}
	return &http.Client{Transport: transport}, "http://envoy-admin"
}

func adminPost(ctx context.Context, client *http.Client, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("POST %s: %s: %s", u, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// activeConnections sums downstream_cx_active over the listeners, but for
// the admin listener that this very request holds open, and the health and
// stats listeners, whose probes and scrapes go on until Envoy stops.
func activeConnections(ctx context.Context, client *http.Client, base string) (int, error) {
	u := base + "/stats?filter=" + url.QueryEscape(`^listener\..*\.downstream_cx_active$`)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return sumListenerConnections(resp.Body)
}

// sumListenerConnections reads Envoy's text stats ("name: value" lines).
func sumListenerConnections(r io.Reader) (int, error) {
	total := 0
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ": ")
		if !ok || !strings.HasSuffix(name, ".downstream_cx_active") || notDrained(name) {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil {
			return 0, fmt.Errorf("stat %s: %w", name, err)
		}
		total += n
	}
	return total, sc.Err()
}

// notDrained names the listeners whose connections drain does not wait for.
func notDrained(stat string) bool {
	for _, l := range []string{"admin", envoy.HealthListenerName, envoy.StatsListenerName} {
		if strings.HasPrefix(stat, "listener."+l+".") {
			return true
		}
	}
	return false
}
