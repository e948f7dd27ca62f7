package translator

import (
	"fmt"
	"hash/fnv"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

func init() { routeEffects = append(routeEffects, hashEffect) }

// hashEffect follows a forwarding route's hash policy: the key that picks
// its endpoint and the cookie Envoy issues. A hash setting it does not
// know fails the test.
func hashEffect(t *testing.T, _ *routev3.VirtualHost, r *routev3.Route, req request, out *outcome) {
	t.Helper()
	policies := r.GetRoute().GetHashPolicy()
	if len(policies) == 0 {
		return
	}
	if len(policies) > 1 {
		t.Fatalf("route %s: %d hash policies; this evaluator follows one", r.GetName(), len(policies))
	}
	hp := policies[0]
	if hp.GetTerminal() {
		t.Fatalf("route %s: a terminal hash policy this evaluator does not follow", r.GetName())
	}
	switch p := hp.GetPolicySpecifier().(type) {
	case *routev3.RouteAction_HashPolicy_Cookie_:
		out.hashKey, out.setCookie = cookieHash(t, r.GetName(), p.Cookie, req)
	case *routev3.RouteAction_HashPolicy_ConnectionProperties_:
		if !p.ConnectionProperties.GetSourceIp() {
			t.Fatalf("route %s: connection properties without source_ip", r.GetName())
		}
		out.hashKey = "ip:" + req.client.String()
	case *routev3.RouteAction_HashPolicy_Header_:
		v := requestHeader(req, p.Header.GetHeaderName())
		if rw := p.Header.GetRegexRewrite(); rw != nil && rw.GetSubstitution() != "" {
			t.Fatalf("route %s: a header hash substitution this evaluator does not follow: %v", r.GetName(), rw)
		}
		if rw := p.Header.GetRegexRewrite(); rw != nil && v != "" {
			v = regexp.MustCompile(rw.GetPattern().GetRegex()).ReplaceAllLiteralString(v, rw.GetSubstitution())
		}
		if v != "" {
			out.hashKey = "header:" + v
		}
	default:
		t.Fatalf("route %s: a hash policy this evaluator does not follow: %T", r.GetName(), p)
	}
}

// cookieHash is Envoy's cookie hash: the cookie's value when the request
// has it; else, with a ttl, a value Envoy makes from the client's address
// and sends in Set-Cookie; else no hash. setCookie is written here as
// name=value, then Max-Age (a ttl above 0; 0 is a session cookie), Path,
// the attributes in order and HttpOnly.
func cookieHash(t *testing.T, route string, c *routev3.RouteAction_HashPolicy_Cookie, req request) (key, setCookie string) {
	t.Helper()
	if v, ok := requestCookie(req, c.GetName()); ok {
		return "cookie:" + v, ""
	}
	if c.GetTtl() == nil {
		return "", ""
	}
	h := fnv.New64a()
	h.Write([]byte(req.client.String()))
	value := fmt.Sprintf("%016x", h.Sum64())
	parts := []string{c.GetName() + "=" + value}
	if ttl := c.GetTtl().AsDuration(); ttl > 0 {
		parts = append(parts, fmt.Sprintf("Max-Age=%d", int64(ttl.Seconds())))
	}
	if c.GetPath() != "" {
		parts = append(parts, "Path="+c.GetPath())
	}
	for _, a := range c.GetAttributes() {
		switch {
		case a.GetName() == "SameSite" && (a.GetValue() == "None" || a.GetValue() == "Lax" || a.GetValue() == "Strict"):
			parts = append(parts, "SameSite="+a.GetValue())
		case a.GetName() == "Secure" && a.GetValue() == "":
			parts = append(parts, "Secure")
		default:
			t.Fatalf("route %s: a cookie attribute this evaluator does not know: %v", route, a)
		}
	}
	return "cookie:" + value, strings.Join(append(parts, "HttpOnly"), "; ")
}

// requestHeader is a header of req by its lower-case name, pseudo-headers
// included.
func requestHeader(req request, name string) string {
	switch name {
	case ":path":
		return req.path
	case ":authority":
		return req.authority
	}
	for k, v := range req.headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// requestCookie is the value of the cookie name in req's Cookie header.
func requestCookie(req request, name string) (string, bool) {
	for _, c := range strings.Split(requestHeader(req, "cookie"), ";") {
		if k, v, ok := strings.Cut(strings.TrimSpace(c), "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}

// affinityCase is a request to a golden's host and the affinity it gets:
// the cluster, the Set-Cookie after the cookie's value (its attributes),
// and whether the request is hashed at all.
type affinityCase struct {
	golden, host, path string
	headers            map[string]string
	cluster            string
	cookie             string // name of the issued cookie; "" for none
	attrs              string // Set-Cookie after "name=value"
	hashed             bool
}

var affinityCases = []affinityCase{
	{golden: "annotation-affinity", host: "sticky.example.com", path: "/app/cart", cluster: "default/web/80/maglev", cookie: "INGRESSCOOKIE", attrs: "; Path=/app; HttpOnly", hashed: true},
	{golden: "annotation-affinity", host: "sticky-ewma.example.com", path: "/", cluster: "default/web/80/maglev", cookie: "INGRESSCOOKIE", attrs: "; Path=/; HttpOnly", hashed: true},
	{golden: "annotation-affinity", host: "plain.example.com", path: "/", cluster: "default/web/80"},
	{golden: "annotation-affinity-invalid", host: "ip.example.com", path: "/", cluster: "default/web/80"},
	{golden: "annotation-session-cookie-name", host: "named.example.com", path: "/", cluster: "default/web/80/maglev", cookie: "route", attrs: "; Path=/; HttpOnly", hashed: true},
	{golden: "annotation-session-cookie-path", host: "pathed.example.com", path: "/app", cluster: "default/web/80/maglev", cookie: "INGRESSCOOKIE", attrs: "; Path=/shop; HttpOnly", hashed: true},
	{golden: "annotation-session-cookie-max-age", host: "aged.example.com", path: "/", cluster: "default/web/80/maglev", cookie: "INGRESSCOOKIE", attrs: "; Max-Age=3600; Path=/; HttpOnly", hashed: true},
	{golden: "annotation-session-cookie-expires", host: "both.example.com", path: "/", cluster: "default/web/80/maglev", cookie: "INGRESSCOOKIE", attrs: "; Max-Age=60; Path=/; HttpOnly", hashed: true},
	{golden: "annotation-session-cookie-samesite", host: "none.example.com", path: "/", cluster: "default/web/80/maglev", cookie: "INGRESSCOOKIE", attrs: "; Path=/; SameSite=None; Secure; HttpOnly", hashed: true},
	{golden: "annotation-upstream-hash-by", host: "remote-addr.example.com", path: "/", cluster: "default/web/80/maglev", hashed: true},
	{golden: "annotation-upstream-hash-by", host: "uri.example.com", path: "/a?b", cluster: "default/web/80/maglev", hashed: true},
	{golden: "annotation-upstream-hash-by", host: "header.example.com", path: "/", headers: map[string]string{"X-User-Id": "42"}, cluster: "default/web/80/maglev", hashed: true},
	{golden: "annotation-upstream-hash-by", host: "header.example.com", path: "/", cluster: "default/web/80/maglev"},
	{golden: "annotation-upstream-hash-by", host: "cookie.example.com", path: "/", headers: map[string]string{"Cookie": "a=1; session=abc"}, cluster: "default/web/80/maglev", hashed: true},
	{golden: "annotation-upstream-hash-by", host: "cookie.example.com", path: "/", cluster: "default/web/80/maglev"},
}

// TestAffinityOutcomes: a request without the affinity cookie gets a
// Set-Cookie of that name, and the requests that send it back reach one
// endpoint (one hash key) whoever sends them; the upstream-hash-by forms
// hash what they name, and a request without it is not hashed and gets
// no cookie.
func TestAffinityOutcomes(t *testing.T) {
	tables := map[string]*routev3.RouteConfiguration{}
	for _, c := range affinityCases {
		rc := tables[c.golden]
		if rc == nil {
			in := readGoldenInput(t, "testdata/"+c.golden+"/input.yaml")
			rc = Translate(in.Input, in.Options).Routes[0]
			tables[c.golden] = rc
		}
		req := request{authority: c.host, path: c.path, headers: c.headers, client: netip.MustParseAddr("203.0.113.7")}
		got := evaluate(t, rc, req)
		if got.status != 0 || got.cluster != c.cluster || (got.hashKey != "") != c.hashed {
			t.Errorf("%s %s%s: status %d cluster %q key %q; want cluster %q hashed %v", c.golden, c.host, c.path, got.status, got.cluster, got.hashKey, c.cluster, c.hashed)
			continue
		}
		if c.cookie == "" {
			if got.setCookie != "" {
				t.Errorf("%s %s: Set-Cookie %q, want none", c.golden, c.host, got.setCookie)
			}
			continue
		}
		checkAffinityCookie(t, rc, c, req, got)
	}
}

// checkAffinityCookie follows the issued cookie: sent back, from another
// client, it reaches the same endpoint and is not issued again; another
// value reaches its own.
func checkAffinityCookie(t *testing.T, rc *routev3.RouteConfiguration, c affinityCase, req request, first outcome) {
	t.Helper()
	value, attrs, ok := strings.Cut(strings.TrimPrefix(first.setCookie, c.cookie+"="), ";")
	if !strings.HasPrefix(first.setCookie, c.cookie+"=") || !ok || "; "+strings.TrimSpace(attrs) != c.attrs {
		t.Errorf("%s %s: Set-Cookie %q, want %s=<value>%s", c.golden, c.host, first.setCookie, c.cookie, c.attrs)
		return
	}
	back := req
	back.client = netip.MustParseAddr("198.51.100.9")
	back.headers = map[string]string{"cookie": "other=1; " + c.cookie + "=" + value}
	if again := evaluate(t, rc, back); again.setCookie != "" || again.hashKey != first.hashKey || again.cluster != first.cluster {
		t.Errorf("%s %s: with the cookie: key %q Set-Cookie %q; want key %q and no cookie", c.golden, c.host, again.hashKey, again.setCookie, first.hashKey)
	}
	back.headers = map[string]string{"cookie": c.cookie + "=another"}
	if other := evaluate(t, rc, back); other.hashKey == first.hashKey || other.setCookie != "" {
		t.Errorf("%s %s: another cookie value has the same key %q", c.golden, c.host, other.hashKey)
	}
}

// TestHashByURI: $request_uri hashes the path with its query, $uri the
// path alone, as nginx's variables are.
func TestHashByURI(t *testing.T) {
	in := readGoldenInput(t, "testdata/annotation-upstream-hash-by/input.yaml")
	rc := Translate(in.Input, in.Options).Routes[0]
	key := func(host, path string) string {
		return evaluate(t, rc, request{authority: host, path: path, client: netip.MustParseAddr("203.0.113.7")}).hashKey
	}
	if a, b := key("uri.example.com", "/cart?item=1"), key("uri.example.com", "/cart?item=2"); a != b || a != "header:/cart" {
		t.Errorf("$uri: keys %q and %q, want both header:/cart", a, b)
	}
	if a, b := key("request-uri.example.com", "/cart?item=1"), key("request-uri.example.com", "/cart?item=2"); a == b || a != "header:/cart?item=1" {
		t.Errorf("$request_uri: keys %q and %q, want the query in each", a, b)
	}
}
