// Command fairway is a sidecar-free xDS control plane: it turns Kubernetes
// Services and Ingresses into Envoy configuration for a fleet of Envoys.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	// exitUsage is for input that cannot be used at all: bad flags, or files
	// that cannot be read or parsed.
	exitUsage = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the CLI and returns the process exit code; tests call it
// in-process with their own writers.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "fairway: %v\n", err)
	var ce *codeError
	if errors.As(err, &ce) {
		return ce.code
	}
	return exitError
}

// codeError carries the exit code an error should produce.
type codeError struct {
	code int
	err  error
}

func (e *codeError) Error() string { return e.err.Error() }
func (e *codeError) Unwrap() error { return e.err }

func usageError(err error) error { return &codeError{code: exitUsage, err: err} }

func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "fairway",
		Short: "A sidecar-free xDS control plane: Kubernetes Services and Ingresses for a fleet of Envoys",
		Long: `fairway turns Kubernetes LoadBalancer Services into layer-4 listeners and
Ingresses into layer-7 routes with TLS, and serves them to a fleet of Envoys.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	root.AddCommand(newServeCommand(), newTranslateCommand(), newBootstrapCommand(), newCertgenCommand(), newDrainCommand(), newVersionCommand())
	return root
}
