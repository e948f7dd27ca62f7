package serveproc

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Race reports whether this build has the race detector, which slows
// fairway and its test clients several times over: a test's timing
// bounds say what they allow for it.
const Race = raceEnabled

// Build compiles fairway into dir for a test run, with the race detector
// when the tests themselves run with it, so that a race inside the served
// process fails the run too.
func Build(dir string) (string, error) {
	return BuildAs(dir, "fairway", raceEnabled)
}

// BuildAs compiles fairway into dir/name, with the race detector or
// without it whatever the tests' own build.
func BuildAs(dir, name string, race bool) (string, error) {
	bin := filepath.Join(dir, name)
	args := []string{"build", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "github.com/fairwayhq/fairway/cmd/fairway")...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building fairway: %w", err)
	}
	return bin, nil
}
