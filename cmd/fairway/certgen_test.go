package main

import (
	"strings"
	"testing"
)

// TestCertgenRefusesLifetimesThatCannotWork: lifetimes that would re-issue
// on every run, or a CA that ends before its certificates, and a trust
// domain that makes no valid SPIFFE ID, are usage errors (exit 2) before
// any cluster is contacted.
func TestCertgenRefusesLifetimesThatCannotWork(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--cert-validity=720h", "--renew-before=720h"}, "--cert-validity"},
		{[]string{"--ca-validity=8000h"}, "--ca-validity"},
		{[]string{"--renew-before=0s", "--cert-validity=1h"}, "--renew-before"},
		{[]string{"--trust-domain=Prod/1"}, "--trust-domain"},
		{[]string{"--namespace="}, "--namespace"},
	} {
		args := append([]string{"certgen", "--kubeconfig=/nonexistent"}, c.args...)
		code, _, stderr := runCLI(t, args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d naming %s", c.args, code, stderr, exitUsage, c.want)
		}
	}
}
