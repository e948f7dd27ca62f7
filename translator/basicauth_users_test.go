package translator

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestBasicAuthUsers: what an htpasswd file and an auth-map give Envoy,
// and which entries fail the Secret, each message naming the user but
// never the hash.
func TestBasicAuthUsers(t *testing.T) {
	foo, admin := shaHash("bar"), shaHash("s3cret")
	file := func(text string) *corev1.Secret {
		return &corev1.Secret{Data: map[string][]byte{"auth": []byte(text)}}
	}
	users, err := basicAuthUsers(file("# staff\r\n\nfoo:"+foo+"\r\n  admin:"+admin+":the admin\n"), false)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := htpasswdText(users), "admin:"+admin+"\nfoo:"+foo; got != want {
		t.Errorf("users %q, want %q", got, want)
	}
	users, err = basicAuthUsers(&corev1.Secret{Data: map[string][]byte{"foo": []byte(foo + "\n"), "admin": []byte(admin)}}, true)
	if err != nil || htpasswdText(users) != "admin:"+admin+"\nfoo:"+foo {
		t.Errorf("auth-map: %q, %v", htpasswdText(users), err)
	}
	for name, c := range map[string]struct {
		secret  *corev1.Secret
		authMap bool
		want    string
	}{
		"no auth key":  {&corev1.Secret{Data: map[string][]byte{"users": []byte("foo:" + foo)}}, false, `has no key "auth"`},
		"no users":     {file("# nobody\n"), false, "holds no users"},
		"twice":        {file("foo:" + foo + "\nfoo:" + admin), false, `names user "foo" twice`},
		"no colon":     {file("foo" + foo), false, `line 1 is not "user:hash"`},
		"empty user":   {file(":" + foo), false, "a user with an empty name"},
		"short sha":    {file("foo:{SHA}abcd"), false, `user "foo" with a password hash in a malformed {SHA} format`},
		"bcrypt":       {file("alice:$2y$05$pthxvn2t8b9rF9gF1FhvrutHKik/goGxVx5cOZ2fcXwrJ5Nwz5r"), false, `user "alice" with a password hash in bcrypt format`},
		"apr1 map":     {&corev1.Secret{Data: map[string][]byte{"bob": []byte("$apr1$qICNZ61Q$2iooiJVUAMmprq258/ChP1")}}, true, `user "bob" with a password hash in apr1`},
		"sha-crypt":    {file("carol:$6$salt$abcdef"), false, `user "carol" with a password hash in SHA-crypt format`},
		"plain":        {file("dave:hunter2-but-longer"), false, `user "dave" with a password hash in plain-text or an unknown format`},
		"control char": {&corev1.Secret{Data: map[string][]byte{"e\tve": []byte(foo)}}, true, "has a control character"},
	} {
		_, err := basicAuthUsers(c.secret, c.authMap)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", name, err, c.want)
			continue
		}
		for _, secret := range []string{"$2y$05$pthx", "$apr1$qICN", "hunter2", "{SHA}abcd", "$6$salt"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: the message shows the hash: %v", name, err)
			}
		}
	}
}
