package annotations

import (
	"testing"

	"github.com/fairwayhq/fairway/translator/policy"
)

func TestParseSSLRedirect(t *testing.T) {
	for _, c := range []struct {
		value string
		want  policy.TLSRedirect
	}{
		{"true", policy.TLSRedirect{Set: true, Enabled: true}},
		{"false", policy.TLSRedirect{Set: true, Enabled: false}},
		{"True", policy.TLSRedirect{Set: true, Enabled: true}},
		{"1", policy.TLSRedirect{Set: true, Enabled: true}},
		{"0", policy.TLSRedirect{Set: true, Enabled: false}},
	} {
		var r policy.Route
		if err := parseSSLRedirect(c.value, &r); err != nil || r.TLSRedirect != c.want {
			t.Errorf("%q: got %+v, %v; want %+v", c.value, r.TLSRedirect, err, c.want)
		}
	}
}

func TestParseForceSSLRedirect(t *testing.T) {
	for _, c := range []struct {
		value string
		want  bool
	}{{"true", true}, {"false", false}, {"TRUE", true}, {"f", false}} {
		var r policy.Route
		if err := parseForceSSLRedirect(c.value, &r); err != nil || r.TLSRedirect != (policy.TLSRedirect{Force: c.want}) {
			t.Errorf("%q: got %+v, %v; want Force %v only", c.value, r.TLSRedirect, err, c.want)
		}
	}
}

// TestParseTLSRedirectMalformed: every malformed kind is an error and
// leaves the policy as it was.
func TestParseTLSRedirectMalformed(t *testing.T) {
	for _, parse := range []func(string, *policy.Route) error{parseSSLRedirect, parseForceSSLRedirect} {
		for _, v := range []string{"", "yes", "on", "no", "tru", "tRuE", " true", "true ", "2", "-1", `"true"`} {
			var r policy.Route
			if err := parse(v, &r); err == nil || r.TLSRedirect != (policy.TLSRedirect{}) {
				t.Errorf("%q: got %+v, %v; want an error and no change", v, r.TLSRedirect, err)
			}
		}
	}
}

// TestParseTLSRedirectFindings: through Parse, both keys are honoured
// under either prefix, and a malformed value is Invalid, named, ignored
// and does not block the Ingress (a redirect guards no access).
func TestParseTLSRedirectFindings(t *testing.T) {
	r, found := Parse(map[string]string{NginxPrefix + "ssl-redirect": "false", FairwayPrefix + "force-ssl-redirect": "true"})
	if len(found) != 0 || r.TLSRedirect != (policy.TLSRedirect{Set: true, Force: true}) {
		t.Fatalf("got %+v, %v", r.TLSRedirect, found)
	}
	r, found = Parse(map[string]string{NginxPrefix + "ssl-redirect": "off", FairwayPrefix + "ssl-redirect": "true"})
	if len(found) != 0 || !r.TLSRedirect.Enabled {
		t.Fatalf("fairway.dev's value must win: got %+v, %v", r.TLSRedirect, found)
	}
	r, found = Parse(map[string]string{NginxPrefix + "force-ssl-redirect": "always"})
	if len(found) != 1 || found[0].Kind != Invalid || found[0].Blocks || found[0].Key != NginxPrefix+"force-ssl-redirect" || r.TLSRedirect.Force {
		t.Fatalf("got %+v, %+v; want one Invalid finding that does not block", r.TLSRedirect, found)
	}
}
