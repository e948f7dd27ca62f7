package translator

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fairwayhq/fairway/translator/annotations"
)

// TestEveryAnnotationHasAGolden: each key of the annotation table is
// written in the input of an annotation-* golden case, so that adding an
// annotation without pinning what it emits fails here.
func TestEveryAnnotationHasAGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/annotation-*/input.yaml")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no annotation goldens: %v", err)
	}
	var all strings.Builder
	for _, p := range inputs {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(data)
	}
	for _, key := range annotations.Keys() {
		if !strings.Contains(all.String(), "/"+key+":") {
			t.Errorf("annotation %s: no testdata/annotation-*/input.yaml sets it", key)
		}
	}
}
