// Package goldentest is the loop both translation stages' golden tests
// share: every testdata/<case>/input.yaml against its output.yaml, the
// outputs rewritten on -update, and cases whose input is gone deleted.
// It imports neither stage, so each can use it from its own tests.
package goldentest

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Run builds every case under testdata with build (given the path of its
// input.yaml) and compares the bytes with its output.yaml; with update it
// writes them instead and deletes stale cases. regenerate is the command
// that rewrites the outputs, named when one is missing.
func Run(t *testing.T, update bool, regenerate string, build func(t *testing.T, input string) []byte) {
	t.Helper()
	inputs, err := filepath.Glob("testdata/*/input.yaml")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden cases found: %v", err)
	}
	for _, inPath := range inputs {
		dir := filepath.Dir(inPath)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			got := build(t, inPath)
			outPath := filepath.Join(dir, "output.yaml")
			if update {
				if err := os.WriteFile(outPath, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(outPath)
			if err != nil {
				t.Fatalf("%v (run %s)", err, regenerate)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs (-want +got):\n%s", outPath, cmp.Diff(string(want), string(got)))
			}
		})
	}
	if update {
		deleteStale(t)
	}
}

// deleteStale removes case directories that no longer have an input: an
// output.yaml left alone. Other fixtures under testdata (a fuzzer's
// corpus, the conformance suite's manifests) have neither, and stay.
func deleteStale(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/*")
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "output.yaml")); err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "input.yaml")); os.IsNotExist(err) {
			t.Logf("deleting stale golden %s", dir)
			if err := os.RemoveAll(dir); err != nil {
				t.Error(err)
			}
		}
	}
}

// Shuffle is a shuffled copy of s: informers list in map order, so a
// stage's output must not depend on the order of its input.
func Shuffle[T any](r *rand.Rand, s []T) []T {
	out := slices.Clone(s)
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}
