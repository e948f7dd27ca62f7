package translator_test

import (
	"fmt"
	mrand "math/rand/v2"
	"testing"

	"github.com/fairwayhq/fairway/translator"
	"github.com/fairwayhq/fairway/translator/translatortest"
)

// TestHTTPSSplitAcrossChanges: in the states of the property test's random
// universe (nested wildcards, shared and broken Secrets, default
// certificates, host-less rules), every Result passes validation (unique
// domains in each table, every RDS name there), and each chain's table
// answers as the single https table did, or 421.
func TestHTTPSSplitAcrossChanges(t *testing.T) {
	seeds, steps := 40, 12
	if testing.Short() {
		seeds = 10
	}
	certs := [2][2][]byte{translatortest.MustCertPair(t, "x.com"), translatortest.MustCertPair(t, "y.com")}
	checked := 0
	for seed := range seeds {
		r := mrand.New(mrand.NewPCG(uint64(seed), 7))
		u := translatortest.NewUniverse(r, certs)
		opts := translator.Options{SSLRedirect: seed%2 == 1}
		var in translator.Input
		for step := range steps {
			for range 1 + r.IntN(3) {
				u.Mutate(&in)
			}
			label := fmt.Sprintf("seed %d step %d", seed, step)
			res := translator.Translate(in, opts)
			if err := res.Validate(); err != nil {
				t.Fatalf("%s: %v", label, err)
			}
			checked += translator.CheckHTTPSSplit(t, label, in, opts)
		}
	}
	if checked == 0 {
		t.Error("no state of the universe had an https listener")
	}
	t.Logf("%d requests compared", checked)
}
