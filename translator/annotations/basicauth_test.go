package annotations

import "testing"

func TestBasicAuthKeys(t *testing.T) {
	r, found := Parse(map[string]string{
		NginxPrefix + "auth-type":        "basic",
		NginxPrefix + "auth-secret":      "default/users",
		NginxPrefix + "auth-secret-type": "auth-map",
		NginxPrefix + "auth-realm":       "Staff only",
	})
	if len(found) != 0 {
		t.Fatalf("findings %+v", found)
	}
	a := r.BasicAuth
	if a == nil || !a.Type || a.Digest || a.SecretNamespace != "default" || a.SecretName != "users" || !a.Map || a.Realm != "Staff only" {
		t.Fatalf("got %+v", a)
	}
}

// TestBasicAuthFailsClosed: what would leave an Ingress open, or cannot
// be checked as asked, blocks it.
func TestBasicAuthFailsClosed(t *testing.T) {
	for name, c := range map[string]struct {
		annotations map[string]string
		kind        Kind
	}{
		"digest":          {map[string]string{"auth-type": "digest", "auth-secret": "s"}, Refused},
		"unknown type":    {map[string]string{"auth-type": "ntlm", "auth-secret": "s"}, Invalid},
		"no type":         {map[string]string{"auth-secret": "s"}, Invalid},
		"no secret":       {map[string]string{"auth-type": "basic"}, Invalid},
		"bad secret":      {map[string]string{"auth-type": "basic", "auth-secret": "a/b/c"}, Invalid},
		"bad secret type": {map[string]string{"auth-type": "basic", "auth-secret": "s", "auth-secret-type": "file"}, Invalid},
	} {
		in := map[string]string{}
		for k, v := range c.annotations {
			in[NginxPrefix+k] = v
		}
		r, found := Parse(in)
		if len(found) == 0 || found[0].Kind != c.kind || !found[0].Blocks {
			t.Errorf("%s: got %+v, want a blocking finding of kind %d", name, found, c.kind)
		}
		if c.kind == Refused && r.BasicAuth != nil {
			t.Errorf("%s: the refused policy was kept", name)
		}
	}
}

// TestBasicAuthRealm: a realm that would break out of WWW-Authenticate's
// quotes is ignored and reported, and does not block.
func TestBasicAuthRealm(t *testing.T) {
	for _, realm := range []string{`say "hi"`, `back\slash`, "line\nbreak", ""} {
		r, found := Parse(map[string]string{NginxPrefix + "auth-type": "basic", NginxPrefix + "auth-secret": "s", NginxPrefix + "auth-realm": realm})
		if len(found) != 1 || found[0].Kind != Invalid || found[0].Blocks || r.BasicAuth.Realm != "" {
			t.Errorf("%q: got %+v, %+v", realm, found, r.BasicAuth)
		}
	}
}
