package file

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fairwayhq/fairway/translator"
)

// manifestExtensions are the file endings read from a directory. A file
// named directly is read whatever its name.
var manifestExtensions = []string{".yaml", ".yml", ".json"}

// IsManifest reports whether a file in a directory is read as a manifest.
func IsManifest(path string) bool {
	base := filepath.Base(path)
	if strings.HasPrefix(base, ".") {
		return false // editor swap and backup files, hidden by convention
	}
	return slices.Contains(manifestExtensions, strings.ToLower(filepath.Ext(base)))
}

// Files lists the manifest files of path: the file itself, or the manifests
// under a directory, recursively, in lexical order.
func Files(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != path && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if !d.IsDir() && IsManifest(p) {
			files = append(files, p)
		}
		return nil
	})
	return files, err
}

// Load reads every manifest under each path into one Input. When two
// documents define the same object, the later one wins, as with kubectl
// apply, and a Note says so. A file that cannot be read or parsed is an
// error naming the file (and document).
func Load(paths ...string) (translator.Input, []Note, error) {
	var in translator.Input
	var notes []Note
	for _, root := range paths {
		files, err := Files(root)
		if err != nil {
			return in, notes, err
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return in, notes, err
			}
			part, ns, err := Decode(f, data)
			notes = append(notes, ns...)
			if err != nil {
				return in, notes, err
			}
			in.Append(part)
		}
	}
	in, dups := Dedupe(in)
	for _, d := range dups {
		notes = append(notes, Note{File: "(all files)", Message: fmt.Sprintf("%s is defined more than once; the last definition wins", d)})
	}
	return in, notes, nil
}
