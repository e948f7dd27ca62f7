package main

import (
	"strings"
	"testing"
)

// TestServeRefusesUnauthenticatedXDSOffLoopback: without a client CA,
// serve binds xDS only to loopback unless --xds-insecure is given; the
// error names the flags that fix it.
func TestServeRefusesUnauthenticatedXDSOffLoopback(t *testing.T) {
	for _, c := range []struct {
		cfg  serveConfig
		want string // "" = allowed
	}{
		{serveConfig{xdsAddress: "127.0.0.1:18000"}, ""},
		{serveConfig{xdsAddress: "[::1]:18000"}, ""},
		{serveConfig{xdsAddress: "localhost:0"}, ""},
		{serveConfig{xdsAddress: ":18000"}, "--xds-tls-client-ca"},
		{serveConfig{xdsAddress: "0.0.0.0:18000"}, "--xds-insecure"},
		{serveConfig{xdsAddress: "fairway:18000"}, "not loopback"},
		{serveConfig{xdsAddress: ":18000", insecure: true}, ""},
		{serveConfig{xdsAddress: ":18000", tlsClientCA: "ca.crt"}, ""},
		{serveConfig{xdsAddress: "0.0.0.0:18000", tlsCert: "tls.crt", tlsKey: "tls.key"}, "--xds-tls-client-ca"},
	} {
		if c.cfg.trustDomain == "" {
			c.cfg.trustDomain = "fairway"
		}
		err := checkXDSAuth(c.cfg)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v: %v", c.cfg, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%+v: error %v, want one naming %s", c.cfg, err, c.want)
		}
	}
	for _, td := range []string{"", "Fairway", "a/b", "td:1"} {
		if err := checkXDSAuth(serveConfig{xdsAddress: "127.0.0.1:0", trustDomain: td}); err == nil {
			t.Errorf("--trust-domain %q accepted", td)
		}
	}
	code, _, stderr := runCLI(t, "serve", "--manifests", examples, "--xds-address", ":0", "--admin-address", "127.0.0.1:0")
	if code != exitUsage || !strings.Contains(stderr, "--xds-insecure") {
		t.Errorf("serve on all interfaces without mTLS: exit %d, stderr %q", code, stderr)
	}
}
