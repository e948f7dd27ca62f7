package translator

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// htpasswdUser is one user of a basic-auth Secret. Its hash never goes
// into a message: a message names the user and the Secret only.
type htpasswdUser struct {
	name, hash string
}

// shaPrefix marks the one hash format Envoy's basic_auth filter checks
// (v1.40): the base64 of the password's SHA-1, as `htpasswd -s` writes it.
const shaPrefix = "{SHA}"

// authFileKey is the key of an auth-file Secret, as in ingress-nginx.
const authFileKey = "auth"

// basicAuthUsers reads a Secret's users: its "auth" key's htpasswd lines
// (auth-file), or one key per user (auth-map). Any entry Envoy could not
// check fails the whole Secret: serving the others would lock that user
// out without a word, and a typo in one line is better seen at once.
func basicAuthUsers(s *corev1.Secret, authMap bool) ([]htpasswdUser, error) {
	var users []htpasswdUser
	if authMap {
		for name, hash := range s.Data {
			users = append(users, htpasswdUser{name: name, hash: strings.TrimSpace(string(hash))})
		}
	} else {
		data, ok := s.Data[authFileKey]
		if !ok {
			return nil, fmt.Errorf("has no key %q (auth-secret-type auth-file reads htpasswd lines from it)", authFileKey)
		}
		var err error
		if users, err = htpasswdLines(string(data)); err != nil {
			return nil, err
		}
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("holds no users")
	}
	slices.SortFunc(users, func(a, b htpasswdUser) int { return strings.Compare(a.name, b.name) })
	for i, u := range users {
		if err := checkUser(u); err != nil {
			return nil, err
		}
		if i > 0 && users[i-1].name == u.name {
			return nil, fmt.Errorf("names user %q twice", u.name)
		}
	}
	return users, nil
}

// htpasswdLines splits an htpasswd file: "user:hash" per line, an optional
// ":comment" after the hash (nginx's format), blank lines and "#"
// comments skipped.
func htpasswdLines(text string) ([]htpasswdUser, error) {
	var users []htpasswdUser
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, rest, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("line %d is not \"user:hash\"", i+1)
		}
		hash, _, _ := strings.Cut(rest, ":")
		users = append(users, htpasswdUser{name: name, hash: hash})
	}
	return users, nil
}

// checkUser accepts exactly what Envoy checks: a user name without
// control characters or ":", and a {SHA} hash of 20 bytes.
func checkUser(u htpasswdUser) error {
	if u.name == "" {
		return fmt.Errorf("has a user with an empty name")
	}
	if strings.ContainsFunc(u.name, func(r rune) bool { return r < 0x20 || r == 0x7f || r == ':' }) {
		return fmt.Errorf("has user %q, whose name has a control character or \":\"", u.name)
	}
	if format := hashFormat(u.hash); format != "" {
		return fmt.Errorf("has user %q with a password hash in %s format, which Envoy cannot check; want {SHA} (htpasswd -s)", u.name, format)
	}
	return nil
}

// hashFormat names a hash's format when it is not {SHA}, or "" when it
// is: the name only, for a message, never the hash.
func hashFormat(h string) string {
	if b64, ok := strings.CutPrefix(h, shaPrefix); ok {
		if raw, err := base64.StdEncoding.DecodeString(b64); err == nil && len(raw) == 20 {
			return ""
		}
		return "a malformed {SHA}"
	}
	switch {
	case h == "":
		return "an empty"
	case strings.HasPrefix(h, "$2a$"), strings.HasPrefix(h, "$2b$"), strings.HasPrefix(h, "$2y$"):
		return "bcrypt"
	case strings.HasPrefix(h, "$apr1$"):
		return "apr1 (Apache MD5)"
	case strings.HasPrefix(h, "$1$"):
		return "MD5-crypt"
	case strings.HasPrefix(h, "$5$"), strings.HasPrefix(h, "$6$"):
		return "SHA-crypt"
	case strings.HasPrefix(h, "{SSHA}"):
		return "salted SHA ({SSHA})"
	case len(h) == 13:
		return "crypt (DES) or plain-text"
	}
	return "plain-text or an unknown"
}

// htpasswdText is the users as Envoy reads them: one "user:hash" line
// each, in user order, so that the same users give the same config.
func htpasswdText(users []htpasswdUser) string {
	var b strings.Builder
	for i, u := range users {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(u.name + ":" + u.hash)
	}
	return b.String()
}
