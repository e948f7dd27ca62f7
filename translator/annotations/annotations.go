// Package annotations is the Ingress front end's table of annotations:
// each key with its parser, which turns the value into typed fields of a
// policy.Route. Values are parsed, never pasted into configuration text
// (the CVE-2025-1974 family came from templating annotation text into
// nginx.conf). It imports neither Envoy nor Kubernetes types.
//
// Keys are read under ingress-nginx's prefix and fairway's own, with the
// same meaning; fairway's wins when both are set. What is not honoured is
// never silent: an unknown key is Unsupported, a key that guards access
// and is not implemented (or any snippet) is Refused and blocks the
// object, a malformed value is Invalid and is ignored, unless the key
// guards access, when it blocks the object too (fail closed).
//
// Adding an annotation is one Entry in one of the group files
// (routing.go, redirect.go, limits.go, access.go, backend.go, tls.go,
// affinity.go, canary.go, passthrough.go, ratelimit.go, clientcert.go,
// proxyssl.go, basicauth.go, extauth.go).
package annotations

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/fairwayhq/fairway/translator/policy"
)

// The two prefixes annotations are read under.
const (
	NginxPrefix   = "nginx.ingress.kubernetes.io/"
	FairwayPrefix = "fairway.dev/"
)

// Entry is one annotation: its key without a prefix and its parser.
type Entry struct {
	Key string
	// Guards: the annotation restricts who gets in, so a value that
	// cannot be honoured exactly blocks the object rather than being
	// ignored.
	Guards bool
	// Parse sets the annotation's fields of r from its value, or says why
	// the value is malformed. Entries are applied in key order.
	Parse func(value string, r *policy.Route) error
}

// Kind is what became of an annotation that is not simply honoured.
type Kind int

const (
	Unsupported Kind = iota + 1 // an unknown key: ignored
	Refused                     // a snippet, or an access guard fairway lacks
	Invalid                     // a malformed value
)

// Finding is one annotation that is not honoured as written.
type Finding struct {
	Key  string // as written, with its prefix
	Kind Kind
	// Message says what is wrong and what fairway does about it, without
	// the key.
	Message string
	// Blocks: the object must not be served.
	Blocks bool
}

// groups are the Entries by concern, each in its own file.
var groups = [][]Entry{routingEntries, redirectEntries, limitsEntries, accessEntries, backendEntries, tlsEntries, affinityEntries, canaryEntries, passthroughEntries, rateLimitEntries, clientCertEntries, proxySSLEntries, basicAuthEntries, extAuthEntries}

// table is every Entry by key.
var table = func() map[string]Entry {
	t := map[string]Entry{}
	for _, g := range groups {
		for _, e := range g {
			if _, dup := t[e.Key]; dup {
				panic("annotations: two entries for " + e.Key)
			}
			t[e.Key] = e
		}
	}
	return t
}()

// Keys are the implemented keys, sorted, without a prefix.
func Keys() []string {
	keys := make([]string, 0, len(table))
	for k := range table {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Parse reads an object's annotations. It returns nil and no findings
// when the object has none under either prefix, which is most objects:
// that path allocates nothing.
func Parse(annotations map[string]string) (*policy.Route, []Finding) {
	var keys []string // unprefixed keys present, fairway's winning
	for full := range annotations {
		if key, ok := unprefixed(full); ok && !slices.Contains(keys, key) {
			keys = append(keys, key)
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	slices.Sort(keys)
	r := &policy.Route{}
	var found []Finding
	for _, key := range keys {
		full, value := lookup(annotations, key)
		if reason := refusal(key); reason != "" {
			found = append(found, Finding{Key: full, Kind: Refused, Blocks: true, Message: reason + "; the Ingress is not served"})
			continue
		}
		e, ok := table[key]
		if !ok {
			found = append(found, Finding{Key: full, Kind: Unsupported, Message: "fairway does not implement this annotation; it is ignored"})
			continue
		}
		if err := e.Parse(value, r); err != nil {
			if u := (unsupportedError{}); errors.As(err, &u) {
				found = append(found, Finding{Key: full, Kind: Unsupported, Message: u.msg})
				continue
			}
			f := Finding{Key: full, Kind: Invalid, Blocks: e.Guards, Message: fmt.Sprintf("%q: %v; the annotation is ignored", value, err)}
			if errors.As(err, new(partialError)) && !e.Guards {
				f.Message = fmt.Sprintf("%q: %v; the rest of the value applies", value, err)
			}
			if e.Guards {
				f.Message = fmt.Sprintf("%q: %v; it guards access, so the Ingress is not served", value, err)
			}
			found = append(found, f)
		}
	}
	found = append(found, check(r)...)
	return r, found
}

// unprefixed is a key without its prefix, if it has one of ours.
func unprefixed(full string) (string, bool) {
	if k, ok := strings.CutPrefix(full, FairwayPrefix); ok {
		return k, k != ""
	}
	if k, ok := strings.CutPrefix(full, NginxPrefix); ok {
		return k, k != ""
	}
	return "", false
}

// lookup is the key as written and its value: fairway's when both are set.
func lookup(annotations map[string]string, key string) (full, value string) {
	if v, ok := annotations[FairwayPrefix+key]; ok {
		return FairwayPrefix + key, v
	}
	return NginxPrefix + key, annotations[NginxPrefix+key]
}

// check settles what depends on several annotations at once, after each
// was parsed on its own (a cors-* key without enable-cors, a redirect code
// without its redirect, ...).
func check(r *policy.Route) []Finding {
	var found []Finding
	for _, c := range checks {
		found = append(found, c(r)...)
	}
	return found
}

// partialError is a parse error of a list value whose malformed items
// were left out while the rest was applied, as ingress-nginx does for
// lists where dropping an item narrows what is allowed (CORS origins).
type partialError struct{ error }

// checks are the cross-annotation rules, each beside its group's entries.
var checks = []func(r *policy.Route) []Finding{rewriteImpliesRegex, corsWithoutEnable, sessionCookieWithoutAffinity, hashByUnderAffinity, canaryChecks, rateWithoutLimit, clientCertChecks, proxySSLWithoutSecret, serverNameWithoutName, legacyProtocolsWithoutCiphers, basicAuthChecks, extAuthWithoutURL}
