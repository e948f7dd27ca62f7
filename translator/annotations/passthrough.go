package annotations

import (
	"strings"

	"github.com/fairwayhq/fairway/translator/policy"
)

// passthroughEntries: ssl-passthrough, which hands the object's TLS
// connections to its backend unopened. Its consequences for the rest of
// the object (which annotations still apply) are the translator's, which
// sees the whole object.
var passthroughEntries = []Entry{
	{Key: PassthroughKey, Parse: parsePassthrough},
}

// PassthroughKey is ssl-passthrough without a prefix.
const PassthroughKey = "ssl-passthrough"

func parsePassthrough(value string, r *policy.Route) error {
	b, err := parseBool(value)
	if err != nil {
		return err
	}
	r.Passthrough = &policy.Passthrough{Enabled: b}
	return nil
}

// OnPassthrough says what becomes of an annotation (without its prefix)
// on an object that is passed through. ingress-nginx documents that
// passthrough invalidates every other annotation, since it works on
// layer 4; fairway says so per key, and never lets a guard quietly go:
//   - honoured: ssl-passthrough itself, and the source ranges, which the
//     connection's address can still be held to exactly;
//   - blocks: an auth-* key or any other guard, which a connection
//     fairway never opens cannot be held to, so the object is not served
//     (fail closed);
//   - otherwise the key is ignored, proxy-ssl-* too: the TLS of a
//     passed-through connection is the client's own with the backend,
//     which fairway neither opens nor makes.
func OnPassthrough(key string) (honoured, blocks bool) {
	switch {
	case key == PassthroughKey, key == "whitelist-source-range", key == "allowlist-source-range", key == "denylist-source-range":
		return true, false
	case strings.HasPrefix(key, "proxy-ssl-"):
		return false, false
	case strings.HasPrefix(key, "auth-"), table[key].Guards:
		return false, true
	}
	return false, false
}

// Unprefixed is a key without its prefix, if it has one of ours.
func Unprefixed(full string) (string, bool) { return unprefixed(full) }
