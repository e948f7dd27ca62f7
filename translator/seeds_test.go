package translator

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestSeedsArePublishable holds the rule that one bad object never blocks
// the others: for every input the fuzzer starts from (the golden inputs and
// its saved corpus, which keeps the inputs that once broke it), the
// publisher's checks pass, with proxyless clients on and off, since the
// proxyless set has references of its own.
func TestSeedsArePublishable(t *testing.T) {
	seeds := fuzzSeeds(t)
	if len(seeds) == 0 {
		t.Fatal("no seeds found")
	}
	for name, data := range seeds {
		var in goldenInput
		if err := yaml.Unmarshal(data, &in); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if in.Options.Validate() != nil {
			in.Options = Options{}
		}
		for _, proxyless := range []bool{false, true} {
			opts := in.Options
			opts.Proxyless = proxyless
			t.Run(name+"/proxyless="+strconv.FormatBool(proxyless), func(t *testing.T) {
				checkPublishable(t, in.Input, opts)
			})
		}
	}
}

// fuzzSeeds reads the golden inputs and the corpus files of FuzzTranslate
// ("go test fuzz v1" files holding one []byte), by name.
func fuzzSeeds(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	golden, _ := filepath.Glob("testdata/*/input.yaml")
	for _, p := range golden {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(filepath.Dir(p))] = data
	}
	corpus, _ := filepath.Glob("testdata/fuzz/FuzzTranslate/*")
	for _, p := range corpus {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out["corpus/"+filepath.Base(p)] = corpusBytes(t, p, string(data))
	}
	return out
}

// corpusBytes decodes a corpus file of one []byte value.
func corpusBytes(t *testing.T, path, file string) []byte {
	t.Helper()
	header, body, ok := strings.Cut(file, "\n")
	body = strings.TrimSpace(body)
	if !ok || header != "go test fuzz v1" || !strings.HasPrefix(body, "[]byte(") || !strings.HasSuffix(body, ")") {
		t.Fatalf("%s: not a one-[]byte corpus file", path)
	}
	s, err := strconv.Unquote(body[len("[]byte(") : len(body)-1])
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return []byte(s)
}
