package file

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/hashicorp/go-hclog"

	"github.com/fairwayhq/fairway/translator"
)

// InvalidManifest is the Problem reason of a file that cannot be parsed.
const InvalidManifest translator.Reason = "InvalidManifest"

// Source watches a file or directory of manifests and holds the objects of
// every file as last read successfully. A file that stops parsing keeps its
// previous objects, and its error is a Problem until it parses again; the
// other files are not affected.
type Source struct {
	root    string
	log     hclog.Logger
	changed chan struct{}

	mu    sync.Mutex
	files map[string]*fileState
}

type fileState struct {
	// stamp is the size and modification time at the last read: a file
	// whose stamp is unchanged is not read again.
	stamp fileStamp
	sum   [sha256.Size]byte
	input translator.Input
	err   error // the last read's error; input is from the last good read
}

type fileStamp struct {
	size    int64
	modTime time.Time
}

// NewSource reads root once. It fails only if root cannot be listed; files
// that do not parse become Problems.
func NewSource(root string, log hclog.Logger) (*Source, error) {
	s := &Source{root: root, log: log, changed: make(chan struct{}, 1), files: map[string]*fileState{}}
	if err := s.rescan(); err != nil {
		return nil, err
	}
	return s, nil
}

// Changed receives a value after the objects changed. It is buffered, so
// several changes between two reads show as one.
func (s *Source) Changed() <-chan struct{} { return s.changed }

// Input returns the current objects, de-duplicated as Load does, and a
// Problem per file that failed its last read.
func (s *Source) Input() (translator.Input, []translator.Problem) {
	s.mu.Lock()
	defer s.mu.Unlock()
	paths := slices.Sorted(func(yield func(string) bool) {
		for p := range s.files {
			if !yield(p) {
				return
			}
		}
	})
	var in translator.Input
	var problems []translator.Problem
	for _, p := range paths {
		f := s.files[p]
		in.Append(f.input)
		if f.err != nil {
			problems = append(problems, translator.Problem{
				ObjectRef: translator.ObjectRef{Kind: "File", Name: p},
				Reason:    InvalidManifest,
				Message:   fmt.Sprintf("%v; the file's last good objects stay in use", withoutFile(f.err)),
			})
		}
	}
	in, _ = Dedupe(in)
	return in, problems
}

// Sync brings an engine up to date with the files, and returns a Problem
// per file that failed its last read.
func (s *Source) Sync(e *translator.Engine) []translator.Problem {
	in, problems := s.Input()
	e.Sync(in)
	return problems
}

// Run watches until ctx ends. Every event leads to a rescan: editors save by
// renaming a new file over the old, Kubernetes swaps ConfigMap volumes by a
// symlink, and a rescan that compares contents handles all of them alike.
func (s *Source) Run(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch %s: %w", s.root, err)
	}
	defer w.Close()
	if err := s.watchDirs(w); err != nil {
		return err
	}
	if err := s.rescan(); err != nil { // catch changes made before the watch began
		s.log.Error("rescan failed", "path", s.root, "error", err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			s.log.Warn("watch error; rescanning", "error", err)
		case _, ok := <-w.Events:
			if !ok {
				return nil
			}
		}
		settle(ctx, w.Events)
		if err := s.watchDirs(w); err != nil {
			s.log.Warn("cannot watch", "error", err)
		}
		if err := s.rescan(); err != nil {
			s.log.Error("rescan failed", "path", s.root, "error", err)
		}
	}
}

// Settling: a write is truncate-then-write, so reading at the first event
// can see an empty file and drop its objects. Waiting until the events stop
// for settleQuiet (at most settleMax) lets the writer finish; one rescan
// then covers every event.
const (
	settleQuiet = 50 * time.Millisecond
	settleMax   = time.Second
)

func settle(ctx context.Context, events <-chan fsnotify.Event) {
	limit := time.NewTimer(settleMax)
	defer limit.Stop()
	quiet := time.NewTimer(settleQuiet)
	defer quiet.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-limit.C:
			return
		case <-quiet.C:
			return
		case <-events:
			quiet.Reset(settleQuiet)
		}
	}
}

// watchDirs watches root's directories (fsnotify is not recursive), or the
// directory holding root when root is a file, so that a file replaced by
// rename is still seen.
func (s *Source) watchDirs(w *fsnotify.Watcher) error {
	info, err := os.Stat(s.root)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return w.Add(filepath.Dir(s.root))
	}
	return filepath.WalkDir(s.root, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if p != s.root && d.Name()[0] == '.' {
			return filepath.SkipDir
		}
		if slices.Contains(w.WatchList(), p) {
			return nil
		}
		return w.Add(p)
	})
}

// rescan reads every manifest, decodes those whose contents changed, and
// forgets removed files. It signals Changed when objects or errors changed.
func (s *Source) rescan() error {
	paths, err := Files(s.root)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := false
	present := make(map[string]bool, len(paths))
	for _, p := range paths {
		present[p] = true
		if s.reload(p) {
			changed = true
		}
	}
	for p := range s.files {
		if !present[p] {
			delete(s.files, p)
			s.log.Info("manifest removed", "file", p)
			changed = true
		}
	}
	if changed {
		select {
		case s.changed <- struct{}{}:
		default:
		}
	}
	return nil
}

// reload reads one file and reports whether its objects or error changed.
// A file whose size and modification time (nanoseconds, on Linux file
// systems) are what they were is not read: a large directory costs a stat
// per file per change, not a read and parse.
func (s *Source) reload(path string) bool {
	f := s.files[path]
	if f == nil {
		f = &fileState{}
		s.files[path] = f
	}
	info, err := os.Stat(path)
	if err == nil && f.err == nil && f.stamp == (fileStamp{info.Size(), info.ModTime()}) {
		return false
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return f.setError(err, s.log, path)
	}
	if info != nil {
		f.stamp = fileStamp{info.Size(), info.ModTime()}
	}
	sum := sha256.Sum256(data)
	if sum == f.sum && f.err == nil && f.sum != ([sha256.Size]byte{}) {
		return false
	}
	in, notes, err := Decode(path, data)
	for _, n := range notes {
		s.log.Info("note", "file", n.File, "document", n.Document, "message", n.Message)
	}
	if err != nil {
		return f.setError(err, s.log, path)
	}
	f.sum, f.input, f.err = sum, in, nil
	s.log.Debug("manifest loaded", "file", path)
	return true
}

// withoutFile drops the file name from a parse error, since the Problem
// names the file already.
func withoutFile(err error) error {
	var pe *ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("document %d: %w", pe.Document, pe.Err)
	}
	return err
}

// setError records a read or parse error once, keeping the last good
// objects, and reports whether anything changed.
func (f *fileState) setError(err error, log hclog.Logger, path string) bool {
	if f.err != nil && f.err.Error() == err.Error() {
		return false
	}
	f.err = err
	f.sum = [sha256.Size]byte{}
	log.Error("cannot use manifest; keeping its last good objects", "file", path, "error", err)
	return true
}
