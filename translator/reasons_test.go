package translator

import (
	"os"
	"regexp"
	"slices"
	"testing"
)

// TestReasonsListsEveryReason keeps Reasons in step with the constants.
func TestReasonsListsEveryReason(t *testing.T) {
	src, err := os.ReadFile("problem.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?m)^\t(\w+) Reason = "(\w+)"$`).FindAllStringSubmatch(string(src), -1) {
		if !slices.Contains(Reasons, Reason(m[2])) {
			t.Errorf("Reasons lacks %s", m[1])
		}
	}
}
