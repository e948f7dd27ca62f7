// Package serveproc runs `fairway serve` as a child process for black-box
// tests and the load test. fairway announces the addresses it bound in its
// JSON logs, which is how callers learn the ports the kernel chose.
package serveproc

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Process is a running `fairway serve` on loopback ports.
type Process struct {
	Cmd        *exec.Cmd
	XDS, Admin string
	exited     chan error
	stopOnce   sync.Once
	stopped    error
	took       time.Duration
}

// Start runs `bin serve args...` with both servers on 127.0.0.1:0 and JSON
// logs, hands every log line to logLine, and returns once both servers are
// up (xDS serves only after the first snapshot) or after wait.
func Start(bin string, args []string, wait time.Duration, logLine func(string)) (*Process, error) {
	args = append([]string{"serve", "--xds-address", "127.0.0.1:0", "--admin-address", "127.0.0.1:0", "--log-json"}, args...)
	p := &Process{Cmd: exec.Command(bin, args...), exited: make(chan error, 1)}
	stderr, err := p.Cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := p.Cmd.Start(); err != nil {
		return nil, err
	}
	addrs := make(chan [2]string, 2)
	logsDone := make(chan struct{})
	go func() {
		defer close(logsDone)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			logLine(sc.Text())
			var e struct {
				Message string `json:"@message"`
				Address string `json:"address"`
			}
			if json.Unmarshal(sc.Bytes(), &e) == nil && (e.Message == "serving xDS" || e.Message == "serving admin") {
				addrs <- [2]string{e.Message, e.Address}
			}
		}
	}()
	go func() {
		<-logsDone // Wait closes the pipe; read it to the end first
		p.exited <- p.Cmd.Wait()
	}()
	deadline := time.After(wait)
	for p.XDS == "" || p.Admin == "" {
		select {
		case a := <-addrs:
			if a[0] == "serving xDS" {
				p.XDS = a[1]
			} else {
				p.Admin = a[1]
			}
		case err := <-p.exited:
			p.exited <- err
			return nil, fmt.Errorf("fairway exited before serving: %v", err)
		case <-deadline:
			p.Stop(5 * time.Second)
			return nil, fmt.Errorf("fairway did not start within %v", wait)
		}
	}
	return p, nil
}

// Stop sends SIGTERM and waits up to grace for the exit, then kills. It
// returns how long the exit took and the exit error; calling it again
// returns the same.
func (p *Process) Stop(grace time.Duration) (time.Duration, error) {
	p.stopOnce.Do(func() {
		start := time.Now()
		_ = p.Cmd.Process.Signal(syscall.SIGTERM)
		select {
		case p.stopped = <-p.exited:
		case <-time.After(grace):
			_ = p.Cmd.Process.Kill()
			p.stopped = errors.New("fairway did not exit within " + grace.String() + " of SIGTERM")
		}
		p.took = time.Since(start)
	})
	return p.took, p.stopped
}
