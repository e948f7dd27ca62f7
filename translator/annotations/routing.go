package annotations

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/fairwayhq/fairway/translator/policy"
)

// routingEntries: paths, rewrites and the upstream host (use-regex,
// rewrite-target, app-root, x-forwarded-prefix, upstream-vhost).
var routingEntries = []Entry{
	{Key: "use-regex", Parse: parseUseRegex},
	{Key: "rewrite-target", Parse: parseRewriteTarget},
	{Key: "app-root", Parse: parseAppRoot},
	{Key: "x-forwarded-prefix", Parse: parseXForwardedPrefix},
	{Key: "upstream-vhost", Parse: parseUpstreamVhost},
}

// rewriteImpliesRegex: a rewrite-target makes the object's paths regexes,
// as ingress-nginx does, since its capture groups need one.
func rewriteImpliesRegex(r *policy.Route) []Finding {
	if r.Rewrite.Target != "" {
		r.Match.Regex = true
	}
	return nil
}

func parseUseRegex(value string, r *policy.Route) error {
	b, err := parseBool(value)
	if err != nil {
		return err
	}
	r.Match.Regex = r.Match.Regex || b
	return nil
}

// parseRewriteTarget takes a path with $1..$9 references. Whether each
// reference names a group of the object's paths is checked per path by
// the translator, which knows the paths.
func parseRewriteTarget(value string, r *policy.Route) error {
	if err := checkURLPath(value); err != nil {
		return err
	}
	r.Rewrite.Target = value
	return nil
}

// parseAppRoot takes the path that "/" redirects to.
func parseAppRoot(value string, r *policy.Route) error {
	if err := checkURLPath(value); err != nil {
		return err
	}
	if value == "/" {
		return fmt.Errorf("an app root of \"/\" would redirect \"/\" to itself")
	}
	r.Rewrite.AppRoot = value
	return nil
}

// parseXForwardedPrefix takes the header's value; an empty one sends no
// header, as in ingress-nginx.
func parseXForwardedPrefix(value string, r *policy.Route) error {
	if value == "" {
		return nil
	}
	if err := checkHeaderValue(value); err != nil {
		return err
	}
	r.Rewrite.XForwardedPrefix = value
	return nil
}

// parseUpstreamVhost takes the Host the backend sees: a DNS name or an
// address, with an optional port. ingress-nginx would also expand nginx
// variables in it; fairway takes the value literally, so it refuses "$".
func parseUpstreamVhost(value string, r *policy.Route) error {
	host, port := value, ""
	if strings.Count(value, ":") == 1 || strings.HasPrefix(value, "[") && !strings.HasSuffix(value, "]") {
		h, p, err := net.SplitHostPort(value)
		if err != nil {
			return fmt.Errorf("not a host with an optional port")
		}
		if p == "" {
			return fmt.Errorf("empty port")
		}
		host, port = h, p
		if strings.Contains(h, ":") {
			host = "[" + h + "]"
		}
	}
	if port != "" {
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
			return fmt.Errorf("port %q is not a number from 1 to 65535", port)
		}
	}
	if err := checkHostName(host); err != nil {
		return err
	}
	r.Rewrite.Host = value
	return nil
}

// checkURLPath accepts an absolute path without a query, fragment,
// whitespace or control characters.
func checkURLPath(value string) error {
	if !strings.HasPrefix(value, "/") {
		return fmt.Errorf("must be a path beginning with '/'")
	}
	for _, c := range []byte(value) {
		if c <= ' ' || c == 0x7f || c == '?' || c == '#' || c == '\\' {
			return fmt.Errorf("contains %q; a path cannot hold whitespace, control characters, '?', '#' or '\\'", c)
		}
	}
	return nil
}

// checkHeaderValue accepts what may be sent as one HTTP header value.
func checkHeaderValue(value string) error {
	for _, c := range []byte(value) {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return fmt.Errorf("contains the control character %q, which a header value cannot hold", c)
		}
	}
	if strings.TrimSpace(value) != value {
		return fmt.Errorf("has leading or trailing whitespace")
	}
	return nil
}

// checkHostName accepts a DNS name ([a-z0-9-.], case-insensitive), an
// IPv4 address or a bracketed IPv6 address.
func checkHostName(host string) error {
	if host == "" {
		return fmt.Errorf("empty host")
	}
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		for _, c := range host[1 : len(host)-1] {
			if !strings.ContainsRune("0123456789abcdefABCDEF:.", c) {
				return fmt.Errorf("%q is not an IPv6 address", host)
			}
		}
		return nil
	}
	if len(host) > 253 {
		return fmt.Errorf("host is longer than 253 characters")
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("%q is not a DNS name: label %q", host, label)
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Errorf("%q is not a DNS name: %q is not allowed", host, c)
			}
		}
	}
	return nil
}
