package annotations

import (
	"testing"
)

func TestParseIgnoresOtherPrefixes(t *testing.T) {
	r, found := Parse(map[string]string{
		"kubectl.kubernetes.io/last-applied-configuration": "{}",
		"cert-manager.io/cluster-issuer":                   "letsencrypt",
		"kubernetes.io/ingress.class":                      "fairway",
	})
	if r != nil || found != nil {
		t.Fatalf("annotations under other prefixes: got %+v, %v; want nil, nil", r, found)
	}
}

func TestParseUnknownKeyIsUnsupported(t *testing.T) {
	for _, key := range []string{NginxPrefix + "no-such-thing", FairwayPrefix + "no-such-thing"} {
		_, found := Parse(map[string]string{key: "x"})
		if len(found) != 1 || found[0].Kind != Unsupported || found[0].Blocks || found[0].Key != key {
			t.Errorf("%s: got %+v, want one Unsupported finding that does not block", key, found)
		}
	}
}

func TestParseRefusesSnippetsAndUnimplementedGuards(t *testing.T) {
	for _, key := range []string{
		"configuration-snippet", "server-snippet", "auth-snippet", "stream-snippet", "some-future-snippet",
		"auth-signin", "auth-method", "auth-proxy-set-headers", "auth-tls-match-cn", "satisfy", "enable-modsecurity", "modsecurity-snippet",
		"limit-connections",
	} {
		_, found := Parse(map[string]string{NginxPrefix + key: "on"})
		if len(found) != 1 || found[0].Kind != Refused || !found[0].Blocks {
			t.Errorf("%s: got %+v, want one Refused finding that blocks", key, found)
		}
	}
}

// TestParseFairwayPrefixWins: with both prefixes set, the finding names
// fairway's key, the one that is read.
func TestParseFairwayPrefixWins(t *testing.T) {
	_, found := Parse(map[string]string{NginxPrefix + "no-such-thing": "a", FairwayPrefix + "no-such-thing": "b"})
	if len(found) != 1 || found[0].Key != FairwayPrefix+"no-such-thing" {
		t.Fatalf("got %+v, want one finding for the fairway.dev key", found)
	}
}

// TestTableKeysAreUnprefixed: an entry's key is written without a prefix
// and is not also refused.
func TestTableKeysAreUnprefixed(t *testing.T) {
	for _, k := range Keys() {
		if _, ok := unprefixed(NginxPrefix + k); !ok || k == "" {
			t.Errorf("entry %q", k)
		}
		if _, refused := refusedKeys[k]; refused {
			t.Errorf("entry %q is also in refusedKeys", k)
		}
	}
}
