package e2e

import (
	"bytes"
	"crypto/rand"
	"io"
	"net"
	"strconv"
	"testing"
	"time"
)

// TestLoadBalancerTCP connects to the LoadBalancer Service's port on Envoy:
// tcp_proxy passes the bytes to the echo backend and back, both small
// messages and a payload larger than any socket buffer, streamed.
func TestLoadBalancerTCP(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	c, err := net.DialTimeout("tcp", s.lbAddr(), 5*time.Second)
	mustOK(t, err)
	defer c.Close()
	for _, msg := range []string{"hello\n", "\x00\x01binary\xff", "again\n"} {
		if err := exchange(c, msg, 5*time.Second); err != nil {
			t.Fatalf("through %s: %v", s.lbAddr(), err)
		}
	}
	payload := make([]byte, 4<<20)
	_, _ = rand.Read(payload)
	mustOK(t, c.SetDeadline(time.Now().Add(20*time.Second)))
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(payload)
		werr <- err
	}()
	back := make([]byte, len(payload))
	if _, err := io.ReadFull(c, back); err != nil {
		t.Fatalf("reading %d bytes back: %v", len(payload), err)
	}
	if err := <-werr; err != nil {
		t.Fatalf("writing %d bytes: %v", len(payload), err)
	}
	if !bytes.Equal(back, payload) {
		t.Fatal("the payload came back changed")
	}
}

// TestTCPSurvivesIngressEdit holds a TCP connection through the
// LoadBalancer listener while an Ingress changes in a way that changes
// other listeners (the https filter chain's server names) and the route
// tables. fairway sends only the changed listeners, so Envoy must not
// touch the LoadBalancer listener: same version, same last_updated, and
// the connection keeps its upstream and carries data after the change.
func TestTCPSurvivesIngressEdit(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	c, err := net.DialTimeout("tcp", s.lbAddr(), 5*time.Second)
	mustOK(t, err)
	defer c.Close()
	if err := exchange(c, "before the edit\n", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	lbName := "tcp-" + strconv.Itoa(s.fx.lbPort)
	dump, err := s.envoy.configDump()
	mustOK(t, err)
	lbBefore, httpsBefore := activeState(t, dump, lbName), activeState(t, dump, "https")
	// Every upstream connection so far, the readiness probe's included,
	// was accepted before this connection's exchange could complete.
	accepted := s.tcpEcho.accepted.Load()

	before, after := s.edit("ingress-secure.yaml", secureIngressYAML(secureHost, secureHost2))
	for _, typ := range []string{"listener", "route"} {
		if before.envoyVersion(typ) == after.envoyVersion(typ) {
			t.Fatalf("the edit did not change the %s version (%s); the test proves nothing", typ, after.envoyVersion(typ))
		}
	}
	dump, err = s.envoy.configDump()
	mustOK(t, err)
	if lbAfter := activeState(t, dump, lbName); *lbAfter != *lbBefore {
		t.Errorf("listener %s changed from %+v to %+v; an Ingress edit must not touch it", lbName, *lbBefore, *lbAfter)
	}
	if httpsAfter := activeState(t, dump, "https"); httpsAfter.VersionInfo == httpsBefore.VersionInfo {
		t.Errorf("listener https kept version %s: the edit did not reach it", httpsAfter.VersionInfo)
	}
	if err := exchange(c, "after the edit\n", 5*time.Second); err != nil {
		t.Fatalf("the connection opened before the edit: %v", err)
	}
	if n := s.tcpEcho.accepted.Load(); n != accepted {
		t.Errorf("the echo backend accepted %d connections during the edit, want none: the upstream was re-established", n-accepted)
	}
	// The edit itself took effect (workers get a new route table a moment
	// after the main thread reports it).
	wantBackend(t, s.getEventually(secureHost2, "/", "secure"), "secure", secureHost2, "/")
}

// activeState is the active state of the named listener in a config dump.
func activeState(t *testing.T, d *envoyDump, name string) *listenerState {
	t.Helper()
	l := d.listener(name)
	if l == nil || l.ActiveState == nil {
		t.Fatalf("envoy has no active listener %s", name)
	}
	return l.ActiveState
}
