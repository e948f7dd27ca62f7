package e2e

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// echo is what every HTTP backend answers: its own name and the request as
// it arrived, so a test can tell which backend Envoy chose and that the
// Host header and path reached it unchanged.
type echo struct {
	Backend string `json:"backend"`
	Host    string `json:"host"`
	Path    string `json:"path"`
}

// backendHeader names the answering backend too, for a quick look in logs.
const backendHeader = "X-E2E-Backend"

// httpBackendNames are the Services of the fixtures, one echo server each.
var httpBackendNames = []string{
	"exact-host", "wildcard-host", "shared", "foo", "foo-bar", "foo-bar-exact",
	"docs", "version", "secure", "fallback",
}

// startHTTPBackends starts one echo server per name on 127.0.0.1 at a port
// the kernel picks, and returns the ports by name. They stop with the test.
func startHTTPBackends(t *testing.T, names []string) map[string]int {
	t.Helper()
	ports := map[string]int{}
	for _, name := range names {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: echoHandler(name), ReadHeaderTimeout: 5 * time.Second}
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = srv.Serve(lis)
		}()
		t.Cleanup(func() {
			_ = srv.Close()
			<-done
		})
		ports[name] = lis.Addr().(*net.TCPAddr).Port
	}
	return ports
}

func echoHandler(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set(backendHeader, name)
		_ = json.NewEncoder(w).Encode(echo{Backend: name, Host: r.Host, Path: r.URL.Path})
	})
}

// tcpEcho is a TCP server that writes back every byte it reads. It counts
// the connections it accepted, so a test can tell that a proxied connection
// kept its upstream instead of being re-established.
type tcpEcho struct {
	lis      net.Listener
	accepted atomic.Int64
	mu       sync.Mutex
	conns    map[net.Conn]bool
	wg       sync.WaitGroup
}

// startTCPEcho starts the echo server on 127.0.0.1; it stops with the test,
// closing the connections still open so no goroutine outlives it.
func startTCPEcho(t *testing.T) *tcpEcho {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &tcpEcho{lis: lis, conns: map[net.Conn]bool{}}
	e.wg.Add(1)
	go e.serve()
	t.Cleanup(e.close)
	return e
}

func (e *tcpEcho) port() int { return e.lis.Addr().(*net.TCPAddr).Port }

func (e *tcpEcho) serve() {
	defer e.wg.Done()
	for {
		c, err := e.lis.Accept()
		if err != nil {
			return
		}
		e.accepted.Add(1)
		e.mu.Lock()
		e.conns[c] = true
		e.mu.Unlock()
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			_, _ = io.Copy(c, c)
			e.mu.Lock()
			delete(e.conns, c)
			e.mu.Unlock()
			_ = c.Close()
		}()
	}
}

func (e *tcpEcho) close() {
	_ = e.lis.Close()
	e.mu.Lock()
	for c := range e.conns {
		_ = c.Close()
	}
	e.mu.Unlock()
	e.wg.Wait()
}

// exchange writes msg on c and reads it back within d: the connection is
// alive end to end. A reset or EOF is an error that says which.
func exchange(c net.Conn, msg string, d time.Duration) error {
	if err := c.SetDeadline(time.Now().Add(d)); err != nil {
		return err
	}
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, msg); err != nil {
		return errors.New("write: " + err.Error())
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil {
		return errors.New("read back " + strconv.Quote(msg) + ": " + err.Error())
	}
	if string(buf) != msg {
		return errors.New("read back " + strconv.Quote(string(buf)) + ", want " + strconv.Quote(msg))
	}
	return nil
}

// freePorts returns n distinct ports that were free on every interface a
// moment ago, for the listeners Envoy binds (fairway puts them on 0.0.0.0).
// All n are held until all are chosen, so they differ from each other.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var held []net.Listener
	defer func() {
		for _, l := range held {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", ":0")
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}
