package file

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/fairwayhq/fairway/translator"
)

func service(name string, port int) string {
	return "apiVersion: v1\nkind: Service\nmetadata: {name: " + name + "}\nspec: {ports: [{port: " + itoa(port) + "}]}\n"
}

func itoa(i int) string { return strconv.Itoa(i) }

type state = func(map[string]int32, []translator.Problem) bool

// watched starts a Source on root and returns it with a func that waits
// until a change brings the wanted state (a write can show as several
// events, the first of which may see a half-written file).
func watched(t *testing.T, root string) (*Source, func(string, state)) {
	t.Helper()
	s, err := NewSource(root, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	<-s.Changed() // the initial read
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	time.Sleep(50 * time.Millisecond) // let the watch begin
	waitFor := func(what string, want state) {
		t.Helper()
		deadline := time.After(3 * time.Second)
		for {
			select {
			case <-s.Changed():
				if got, problems := ports(s); want(got, problems) {
					return
				}
			case <-deadline:
				got, problems := ports(s)
				t.Fatalf("%s: not seen within 3s; have %v, problems %v", what, got, problems)
			}
		}
	}
	return s, waitFor
}

func ports(s *Source) (map[string]int32, []translator.Problem) {
	in, problems := s.Input()
	out := map[string]int32{}
	for _, svc := range in.Services {
		out[svc.Name] = svc.Spec.Ports[0].Port
	}
	return out, problems
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSourceFollowsTheDirectory(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.yaml"), service("a", 1))
	_, next := watched(t, dir)

	write(t, filepath.Join(dir, "a.yaml"), service("a", 2))
	next("after an edit", func(got map[string]int32, _ []translator.Problem) bool { return got["a"] == 2 })

	write(t, filepath.Join(dir, "b.yaml"), service("b", 3))
	next("after adding a file", func(got map[string]int32, _ []translator.Problem) bool { return got["b"] == 3 })

	write(t, filepath.Join(dir, "sub", "c.yml"), service("c", 4))
	next("after adding a file in a new directory", func(got map[string]int32, _ []translator.Problem) bool { return got["c"] == 4 })

	// An editor's save: write a temporary file, rename it over the old one.
	tmp := filepath.Join(dir, ".a.yaml.swp")
	write(t, tmp, service("a", 5))
	if err := os.Rename(tmp, filepath.Join(dir, "a.yaml")); err != nil {
		t.Fatal(err)
	}
	next("after rename-on-save", func(got map[string]int32, _ []translator.Problem) bool { return got["a"] == 5 })

	if err := os.Remove(filepath.Join(dir, "b.yaml")); err != nil {
		t.Fatal(err)
	}
	next("after removing a file", func(got map[string]int32, _ []translator.Problem) bool {
		_, has := got["b"]
		return len(got) == 2 && !has
	})
}

func TestSourceKeepsTheLastGoodObjectsOfABrokenFile(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.yaml"), service("a", 1))
	write(t, filepath.Join(dir, "b.yaml"), service("b", 2))
	_, next := watched(t, dir)

	write(t, filepath.Join(dir, "a.yaml"), service("a", 7)+"---\nkind: [broken\n")
	next("a broken file keeps its last good objects, with a Problem naming it", func(got map[string]int32, problems []translator.Problem) bool {
		return got["a"] == 1 && got["b"] == 2 && len(problems) == 1 && problems[0].Reason == InvalidManifest &&
			strings.Contains(problems[0].Message, "document 2") && problems[0].Name == filepath.Join(dir, "a.yaml")
	})
	write(t, filepath.Join(dir, "a.yaml"), service("a", 8))
	next("after the fix", func(got map[string]int32, problems []translator.Problem) bool {
		return got["a"] == 8 && len(problems) == 0
	})
}

func TestSourceWatchesASingleFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "only.yaml")
	write(t, path, service("a", 1))
	write(t, filepath.Join(dir, "other.yaml"), service("other", 9))
	_, next := watched(t, path)

	tmp := filepath.Join(dir, "only.yaml.new")
	write(t, tmp, service("a", 2))
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	next("rename-on-save of the watched file, and no other file read", func(got map[string]int32, _ []translator.Problem) bool {
		return got["a"] == 2 && len(got) == 1
	})
}
