package main

import (
	"slices"
	"strings"
	"testing"
)

// TestLBAddressPoolFlagErrors: a bad --lb-address-pool stops translate
// and serve with a usage error (exit 2) naming the flag and the fault;
// good pools translate.
func TestLBAddressPoolFlagErrors(t *testing.T) {
	cases := []struct {
		name   string
		values []string
		stderr string
	}{
		{"malformed", []string{"192.0.2.0/33"}, "not a CIDR"},
		{"first after last", []string{"192.0.2.9-192.0.2.1"}, "FIRST 192.0.2.9 is after LAST 192.0.2.1"},
		{"mixed families", []string{"192.0.2.1-2001:db8::1"}, "different IP families"},
		{"overlap", []string{"192.0.2.0/24", "192.0.2.7/32"}, `"192.0.2.7/32" overlaps "192.0.2.0/24"`},
	}
	for _, cmd := range [][]string{{"translate", "-f", examples}, {"serve", "--manifests", examples}} {
		for _, c := range cases {
			args := slices.Clone(cmd)
			for _, v := range c.values {
				args = append(args, "--lb-address-pool", v)
			}
			code, _, stderr := runCLI(t, args...)
			if code != 2 || !strings.Contains(stderr, c.stderr) || !strings.Contains(stderr, "--lb-address-pool") {
				t.Errorf("%s %s: exit %d, stderr %q; want exit 2 naming --lb-address-pool and %q", cmd[0], c.name, code, stderr, c.stderr)
			}
		}
	}
	code, _, stderr := runCLI(t, "translate", "-f", examples, "--listen-address", "192.0.2.3", "--lb-address-pool", "192.0.2.0/29")
	if code != 2 || !strings.Contains(stderr, "--lb-address-pool") || !strings.Contains(stderr, "listen address 192.0.2.3") {
		t.Errorf("a pool holding the listen address: exit %d, stderr %q; want exit 2 naming --lb-address-pool", code, stderr)
	}
	code, stdout, stderr := runCLI(t, "translate", "-f", examples, "--lb-address-pool", "192.0.2.0/29", "--lb-address-pool", "2001:db8::/126")
	if code != 0 || !strings.Contains(stdout, "freebind: true") {
		t.Errorf("good pools: exit %d, stderr %q; want listeners with freebind", code, stderr)
	}
}
