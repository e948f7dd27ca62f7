package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"sigs.k8s.io/yaml"

	"github.com/fairwayhq/fairway/translator/translatortest"
)

// goodIngressManifests is a healthy Ingress with one path per version the
// test asks for: editing the version is the change whose latency the test
// measures.
const goodIngressManifests = `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: fairway}
spec: {controller: fairway.dev/ingress-controller}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: apps}
spec:
  ports:
  - {name: http, port: 80}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: apps, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints: [{addresses: [10.0.0.7], conditions: {ready: true}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: good, namespace: apps}
spec:
  ingressClassName: fairway
  rules:
  - host: good.example.com
    http:
      paths:
      - {path: /v0, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
`

// Bounds of the test, with -race on a shared 2-core machine (the README
// gives the figures measured): poisonRefusedWithin is from writing the
// poison's file to its Problem on /debug/snapshot, which includes reading
// and decoding up to 1 MiB of YAML (about 0.1 s, 0.9 s with -race) and
// the loop's holdoff; poisonLatencySlack is what an edit of the good Ingress may take beyond
// its usual latency while the poison is there.
const (
	poisonRefusedWithin = 5 * time.Second
	poisonLatencySlack  = 500 * time.Millisecond
)

// TestPoisonObjectDoesNotStallTheOthers feeds a real `fairway serve
// --manifests` each of the issue's poison Ingresses (a 1 MiB annotation,
// 5,000 paths, 1,000 TLS hosts) beside a healthy Ingress. The poison is
// refused with an ObjectTooLarge that /debug/snapshot and /metrics show,
// within poisonRefusedWithin, and none of its hosts is served; while it is
// there, an edit of the healthy Ingress reaches a connected stream within
// its usual latency plus poisonLatencySlack. Removing it clears the
// Problem.
func TestPoisonObjectDoesNotStallTheOthers(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	writeFile(t, good, goodIngressManifests)
	f := startFairway(t, dir)
	v := watchADS(t, f.xds, "envoy-0")
	version := 0
	edit := func() time.Duration {
		t.Helper()
		start := time.Now()
		editFile(t, good, fmt.Sprintf("path: /v%d,", version), fmt.Sprintf("path: /v%d,", version+1))
		version++
		want := fmt.Sprintf("/v%d", version)
		v.waitFor(10*time.Second, "the good Ingress's "+want, func() bool { return slices.Contains(goodPaths(v), want) })
		return time.Since(start)
	}
	v.waitFor(5*time.Second, "the good Ingress", func() bool { return slices.Contains(goodPaths(v), "/v0") })
	var usual time.Duration
	for range 3 {
		usual = max(usual, edit())
	}
	t.Logf("usual latency of an edit (worst of 3): %v", usual)

	cert := translatortest.MustCertPair(t, "tls.example.com")
	for _, p := range []translatortest.Poison{
		translatortest.HugeAnnotation("apps", 1<<20),
		translatortest.ManyPaths("apps", 5000),
		translatortest.ManyTLSHosts("apps", 1000, cert),
	} {
		poison := filepath.Join(dir, "poison.yaml")
		manifest := poisonManifest(t, p)
		start := time.Now()
		writeFile(t, poison, manifest)
		eventually(t, poisonRefusedWithin, p.Name+": an ObjectTooLarge Problem", func() bool {
			return hasProblem(f.snapshot(), p.Ingress.Name, "ObjectTooLarge")
		})
		refused := time.Since(start)
		if refused > poisonRefusedWithin {
			t.Errorf("%s: refused %v after its file was written, more than %v", p.Name, refused, poisonRefusedWithin)
		}
		latency := edit()
		t.Logf("%s: refused %v after its file was written; then an edit of the good Ingress took %v", p.Name, refused, latency)
		if latency > usual+poisonLatencySlack {
			t.Errorf("%s: the good edit took %v, more than its usual %v plus %v", p.Name, latency, usual, poisonLatencySlack)
		}
		checkRefused(t, f, v, p.Name)
		if err := os.Remove(poison); err != nil {
			t.Fatal(err)
		}
		eventually(t, 5*time.Second, p.Name+": the Problem cleared", func() bool {
			return !hasProblem(f.snapshot(), p.Ingress.Name, "ObjectTooLarge")
		})
	}
	v.alive()
}

// checkRefused: /metrics counts the one ObjectTooLarge, and the stream
// has only the good host and no https listener.
func checkRefused(t *testing.T, f *fairway, v *adsView, name string) {
	t.Helper()
	if n := f.metric(`fairway_problems{reason="ObjectTooLarge"}`); n != 1 {
		t.Errorf("%s: fairway_problems{reason=\"ObjectTooLarge\"} = %v, want 1", name, n)
	}
	for _, vh := range v.virtualHosts("http") {
		if vh != "good.example.com" {
			t.Errorf("%s: host %s is served", name, vh)
		}
	}
	if v.has("type.googleapis.com/envoy.config.listener.v3.Listener", "https") {
		t.Errorf("%s: the refused Ingress's TLS got an https listener", name)
	}
}

// goodPaths are the path prefixes of good.example.com's routes.
func goodPaths(v *adsView) []string {
	var out []string
	for _, vh := range v.routes("http").GetVirtualHosts() {
		if slices.Contains(vh.GetDomains(), "good.example.com") {
			for _, r := range vh.GetRoutes() {
				out = append(out, routePath(r))
			}
		}
	}
	return out
}

func routePath(r *routev3.Route) string {
	m := r.GetMatch()
	return m.GetPrefix() + m.GetPath() + m.GetPathSeparatedPrefix()
}

func hasProblem(s debugSnapshot, name, reason string) bool {
	return slices.ContainsFunc(s.Problems, func(p struct{ Kind, Name, Reason, Message string }) bool {
		return p.Kind == "Ingress" && p.Name == name && p.Reason == reason
	})
}

// poisonManifest is the poison's objects as one multi-document YAML file.
func poisonManifest(t *testing.T, p translatortest.Poison) string {
	t.Helper()
	docs := []any{p.Ingress}
	for _, s := range p.Secrets {
		s := s.DeepCopy()
		s.APIVersion, s.Kind = "v1", "Secret"
		docs = append(docs, s)
	}
	var parts []string
	for _, d := range docs {
		b, err := yaml.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, string(b))
	}
	return strings.Join(parts, "---\n")
}
