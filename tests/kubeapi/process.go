package kubeapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stopGrace is how long a process gets to exit on SIGTERM before SIGKILL.
// etcd and kube-apiserver both shut down in well under a second when idle;
// the bound only matters when one hangs, and then a test should not.
const stopGrace = 10 * time.Second

// process is one child binary. Its output goes, line by line and prefixed
// with its name, to the shared log writer; the last lines are also kept so a
// failed start can say why even when the caller discards the log.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *lineWriter
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result; read only after done is closed
}

// startProcess starts bin with args. Output goes to logw (nil discards it).
func startProcess(name, bin string, args []string, logw io.Writer, logMu *sync.Mutex) (*process, error) {
	out := &lineWriter{w: logw, mu: logMu, prefix: name + ": "}
	cmd := exec.Command(bin, args...)
	// One writer for both streams: exec then uses a single pipe, so lines
	// from stdout and stderr cannot interleave mid-line.
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has already exited, with the reason.
func (p *process) exited() (bool, error) {
	select {
	case <-p.done:
		return true, fmt.Errorf("%s exited early (%v); last output:\n%s", p.name, p.err, p.out.tail())
	default:
		return false, nil
	}
}

// stop terminates the process gracefully (SIGTERM), then forcefully. A
// non-zero exit after SIGTERM is the expected outcome, not an error; only
// failing to make the process go away is.
func (p *process) stop() error {
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal %s: %w", p.name, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(stopGrace):
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
		return fmt.Errorf("%s ignored SIGTERM for %v and was killed", p.name, stopGrace)
	case <-time.After(stopGrace):
		return fmt.Errorf("%s did not exit after SIGKILL", p.name)
	}
}

// kill ends the process at once, as a crash would, and waits for it.
func (p *process) kill() error {
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
		return nil
	case <-time.After(stopGrace):
		return fmt.Errorf("%s did not exit after SIGKILL", p.name)
	}
}

// tailLines is how many lines of a process's output an early-exit error shows.
const tailLines = 30

// lineWriter forwards whole lines to w with a prefix, holding mu (shared by
// all processes of a control plane) so lines of different processes never mix.
type lineWriter struct {
	w      io.Writer
	mu     *sync.Mutex
	prefix string
	buf    []byte
	last   []string
}

func (l *lineWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, b...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		line := string(l.buf[:i])
		l.buf = l.buf[i+1:]
		l.last = append(l.last, line)
		if len(l.last) > tailLines {
			l.last = l.last[len(l.last)-tailLines:]
		}
		if l.w != nil {
			// A failing log writer must not kill the child through a broken
			// pipe, so its error is dropped.
			_, _ = io.WriteString(l.w, l.prefix+line+"\n")
		}
	}
	return len(b), nil
}

// tail returns the last lines written, including an unterminated one.
func (l *lineWriter) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := append([]string(nil), l.last...)
	if len(l.buf) > 0 {
		lines = append(lines, string(l.buf))
	}
	return strings.Join(lines, "\n")
}

// freePort asks the kernel for an unused loopback port. The port is released
// before the child binds it, so another process could take it in between;
// on a test machine that window is small enough, and a clash fails loudly.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
