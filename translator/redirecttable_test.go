package translator

import (
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/fairwayhq/fairway/envoy"
)

// TestCompactRedirectAnswersAsPerPath proves the compact plain side's
// shape, since no Envoy runs here: for every golden whose http table
// redirects to https (as its options say, and again with --ssl-redirect
// on), every host of either http table and every path either names (and
// paths no rule names, ACME challenges among them) get the same answer
// from the compact table as from the per-path one it replaces: the same
// redirect Location and code, or the same backend, path and host. The
// one difference allowed is the documented one: a path no route of a
// redirect-only host matches was a 404 and is now the redirect.
func TestCompactRedirectAnswersAsPerPath(t *testing.T) {
	dirs, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	compared, compacted, unknown := 0, 0, 0
	for _, d := range dirs {
		if _, err := os.Stat("testdata/" + d.Name() + "/input.yaml"); err != nil {
			continue // not a golden case (the conformance suite's manifests)
		}
		in := readGoldenInput(t, "testdata/"+d.Name()+"/input.yaml")
		for _, opts := range []Options{in.Options, withSSLRedirect(in.Options)} {
			before := plainTable(t, in.Input, opts, true)
			after := plainTable(t, in.Input, opts, false)
			if !redirectsToHTTPS(before) {
				continue
			}
			compared++
			if hasVirtualHost(after, envoy.HTTPSRedirectVirtualHost) {
				compacted++
			}
			for _, host := range probeHosts(before, after) {
				for _, path := range probePaths(before, after) {
					for _, client := range probeClients {
						req := request{authority: host, path: path, client: client}
						was, _ := answer(t, before, req)
						is, by := answer(t, after, req)
						if reflect.DeepEqual(was, is) {
							continue
						}
						if was.status == 404 && by == envoy.HTTPSRedirectVirtualHost && is.status == 308 && strings.HasPrefix(is.location, "https://") {
							unknown++
							continue
						}
						t.Errorf("%s (ssl-redirect %v): http://%s%s from %s was %+v, is %+v", d.Name(), opts.SSLRedirect, host, path, client, was, is)
					}
				}
			}
		}
	}
	// The comparison must have had something to compare, and the compact
	// form something to replace; the unknown paths are probed on purpose.
	if compared < 5 || compacted == 0 || unknown == 0 {
		t.Fatalf("compared %d goldens, %d with a shared redirect, %d unknown paths redirected: the probe covers too little", compared, compacted, unknown)
	}
	t.Logf("%d goldens compared, %d with a shared redirect; %d requests for unrouted paths now redirect", compared, compacted, unknown)
}

// probeClients are a private and a public address, on either side of the
// goldens' source ranges.
var probeClients = []netip.Addr{netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("203.0.113.7")}

func withSSLRedirect(o Options) Options {
	o.SSLRedirect = true
	return o
}

// plainTable is the http route table of in, per path (as before the
// compact forms) or compact.
func plainTable(t *testing.T, in Input, opts Options, perPath bool) *routev3.RouteConfiguration {
	t.Helper()
	e := NewEngine(opts)
	e.perPathPlain = perPath
	e.Sync(in)
	res := e.Output().Result()
	if res.err != nil {
		t.Fatal(res.err)
	}
	return routeConfig(res, envoy.HTTPRouteConfig)
}

// answer is an outcome without the route that gave it, which differs by
// construction, and that route's name.
func answer(t *testing.T, rc *routev3.RouteConfiguration, req request) (outcome, string) {
	t.Helper()
	if rc == nil {
		return outcome{status: -1}, "" // no http listener: nothing answers
	}
	out := evaluate(t, rc, req)
	name := out.route.GetName()
	out.route, out.vhost = nil, nil
	return out, name
}

func redirectsToHTTPS(rc *routev3.RouteConfiguration) bool {
	for _, vh := range rc.GetVirtualHosts() {
		for _, r := range vh.GetRoutes() {
			if r.GetRedirect().GetHttpsRedirect() {
				return true
			}
		}
	}
	return false
}

func hasVirtualHost(rc *routev3.RouteConfiguration, name string) bool {
	return slices.ContainsFunc(rc.GetVirtualHosts(), func(vh *routev3.VirtualHost) bool { return vh.GetName() == name })
}

// probeHosts are the names the tables serve, as a client sends them: an
// exact domain as is and with a port, a wildcard's one-label and deeper
// names, and a name no domain holds.
func probeHosts(tables ...*routev3.RouteConfiguration) []string {
	hosts := []string{"unknown.invalid"}
	for _, rc := range tables {
		for _, vh := range rc.GetVirtualHosts() {
			for _, d := range vh.GetDomains() {
				switch {
				case d == "*":
				case strings.HasPrefix(d, "*."):
					hosts = append(hosts, "x"+d[1:], "a.b"+d[1:])
				default:
					hosts = append(hosts, d, d+":8080")
				}
			}
		}
	}
	slices.Sort(hosts)
	return slices.Compact(hosts)
}

// probePaths are the paths the tables' routes name, each as routed, one
// level deeper and as a sibling no rule names, with and without a query,
// and the ACME challenges.
func probePaths(tables ...*routev3.RouteConfiguration) []string {
	paths := []string{"/", "/no-such-path", acmeChallenge, acmeChallenge + "/t0k3n", "/.well-known/other"}
	for _, rc := range tables {
		for _, vh := range rc.GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				for _, p := range []string{r.GetMatch().GetPath(), r.GetMatch().GetPrefix()} {
					if p != "" {
						paths = append(paths, p, strings.TrimSuffix(p, "/")+"/deeper", p+"zz")
					}
				}
			}
		}
	}
	for _, p := range slices.Clone(paths) {
		paths = append(paths, p+"?q=1&r")
	}
	slices.Sort(paths)
	return slices.Compact(paths)
}

// TestRedirectOnlyPathChangeKeepsHTTPTable: with --ssl-redirect, a path
// added to a redirect-only host and to a host whose "/" forwards only the
// ACME challenges changes their https tables but leaves the http table's
// bytes as they were, so no stream is sent http again; a host that joins
// the redirect-only set changes it (its domains). Each step equals a
// from-scratch translation.
func TestRedirectOnlyPathChangeKeepsHTTPTable(t *testing.T) {
	in := readGoldenInput(t, "testdata/ssl-redirect-compact/input.yaml")
	e := NewEngine(in.Options)
	e.Sync(in.Input)
	http, https := tables(t, e)
	composed := e.httpTable.res

	apps := in.Input.Ingresses[0].DeepCopy()
	if apps.Name != "apps" {
		t.Fatalf("first Ingress %s, want apps", apps.Name)
	}
	rules := apps.Spec.Rules
	for i := range rules {
		if h := rules[i].Host; h == "a.example.com" || h == "root.example.com" {
			p := rules[i].HTTP.Paths[0]
			p.Path = "/added"
			rules[i].HTTP.Paths = append(rules[i].HTTP.Paths, p)
		}
	}
	in.Input.Ingresses[0] = apps
	e.Sync(in.Input)
	http2, https2 := tables(t, e)
	if !slices.Equal(http.Bytes, http2.Bytes) {
		t.Errorf("a path added to redirect-only hosts changed the http table (%d -> %d bytes)", len(http.Bytes), len(http2.Bytes))
	} else if e.httpTable.res != composed {
		// root.example.com's plain side (its ACME challenges and one
		// redirect) came out the same: the table must not be copied again.
		t.Errorf("a path added to redirect-only hosts composed the http table again (same bytes, new copy)")
	}
	if slices.Equal(https, https2) {
		t.Fatalf("the hosts' https tables did not change: the path was not added")
	}
	sameAsCold(t, e, in.Input)

	joined := apps.DeepCopy()
	joined.Spec.TLS[0].Hosts = append(joined.Spec.TLS[0].Hosts, "c.example.com")
	joined.Spec.Rules = append(joined.Spec.Rules, rules[1]) // b.example.com's /shop
	joined.Spec.Rules[len(joined.Spec.Rules)-1].Host = "c.example.com"
	in.Input.Ingresses[0] = joined
	e.Sync(in.Input)
	http3, _ := tables(t, e)
	if slices.Equal(http2.Bytes, http3.Bytes) {
		t.Fatalf("a host that joined the redirect-only set left the http table as it was")
	}
	rc := routeConfig(e.Output().Result(), envoy.HTTPRouteConfig)
	if got := virtualHostDomains(rc, envoy.HTTPSRedirectVirtualHost); !slices.Equal(got, []string{"a.example.com", "b.example.com", "c.example.com"}) {
		t.Fatalf("shared redirect domains %v", got)
	}
	sameAsCold(t, e, in.Input)
}

// tables are the http table and the https tables (https/<host>, their
// chains') of the two hosts the test adds a path to, one after the other.
func tables(t *testing.T, e *Engine) (http *Resource, https []byte) {
	t.Helper()
	out := e.Output()
	if out.Err != nil {
		t.Fatal(out.Err)
	}
	if http = out.Envoy.Get(KindRoute, envoy.HTTPRouteConfig); http == nil {
		t.Fatal("no http table")
	}
	for _, host := range []string{"a.example.com", "root.example.com"} {
		r := out.Envoy.Get(KindRoute, envoy.HTTPSHostRouteConfig(host))
		if r == nil {
			t.Fatalf("no https table of %s", host)
		}
		https = append(https, r.Bytes...)
	}
	return http, https
}

func sameAsCold(t *testing.T, e *Engine, in Input) {
	t.Helper()
	cold := NewEngine(e.opts)
	cold.Sync(in)
	if diff := compareOutputs(e.Output(), cold.Output()); diff != "" {
		t.Fatalf("incremental differs from scratch:\n%s", diff)
	}
}

func virtualHostDomains(rc *routev3.RouteConfiguration, name string) []string {
	for _, vh := range rc.GetVirtualHosts() {
		if vh.GetName() == name {
			return vh.GetDomains()
		}
	}
	return nil
}

// TestHTTPSRedirectNameIsNoHost: the shared redirect virtual host's name
// can never be a host's (every host is validated, and from-to-www twins
// are hosts with a "www." label), nor the catch-all's, so the http table
// never holds two virtual hosts of one name.
func TestHTTPSRedirectNameIsNoHost(t *testing.T) {
	if err := validateHost(envoy.HTTPSRedirectVirtualHost); err == nil {
		t.Fatalf("%q passes as an Ingress host", envoy.HTTPSRedirectVirtualHost)
	}
	if envoy.HTTPSRedirectVirtualHost == envoy.CatchAllVirtualHost {
		t.Fatal("the shared redirect is named as the catch-all")
	}
}
