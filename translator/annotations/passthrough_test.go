package annotations

import (
	"strings"
	"testing"
)

func TestPassthroughParser(t *testing.T) {
	for value, want := range map[string]bool{"true": true, "false": false, "True": true, "0": false} {
		r, found := Parse(map[string]string{NginxPrefix + PassthroughKey: value})
		if len(found) != 0 || r.Passthrough == nil || r.Passthrough.Enabled != want {
			t.Errorf("%q: got %+v, %v; want enabled %v", value, r.Passthrough, found, want)
		}
	}
	r, found := Parse(map[string]string{NginxPrefix + PassthroughKey: "yes"})
	if len(found) != 1 || found[0].Kind != Invalid || found[0].Blocks || r.Passthrough != nil {
		t.Errorf(`"yes": got %+v, %+v; want one Invalid finding that does not block, and no passthrough`, r.Passthrough, found)
	}
}

// TestOnPassthrough: a passthrough object keeps its source ranges, is
// blocked by any auth key (implemented or not) and any other guard but
// proxy-ssl-* (the client's own TLS reaches the backend), and has
// everything else ignored.
func TestOnPassthrough(t *testing.T) {
	cases := map[string][2]bool{ // key -> honoured, blocks
		PassthroughKey:           {true, false},
		"whitelist-source-range": {true, false},
		"allowlist-source-range": {true, false},
		"denylist-source-range":  {true, false},
		"auth-url":               {false, true},
		"auth-tls-secret":        {false, true},
		"auth-type":              {false, true},
		"rewrite-target":         {false, false},
		"canary":                 {false, false},
		"backend-protocol":       {false, false},
		"proxy-ssl-verify":       {false, false},
	}
	for key, want := range cases {
		if honoured, blocks := OnPassthrough(key); honoured != want[0] || blocks != want[1] {
			t.Errorf("%s: honoured %v, blocks %v; want %v, %v", key, honoured, blocks, want[0], want[1])
		}
	}
	for _, key := range Keys() {
		if _, ok := cases[key]; ok {
			continue
		}
		if honoured, blocks := OnPassthrough(key); honoured {
			t.Errorf("%s is honoured on a passthrough object, which nothing of the chain enforces", key)
		} else if want := (table[key].Guards || strings.HasPrefix(key, "auth-")) && !strings.HasPrefix(key, "proxy-ssl-"); blocks != want {
			t.Errorf("%s: blocks a passthrough object %v, want %v (a guard the chain cannot enforce blocks it)", key, blocks, want)
		}
	}
}
