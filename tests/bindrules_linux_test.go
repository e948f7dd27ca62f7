package tests

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// envoyListen binds as an Envoy listener does on Linux: SO_REUSEADDR
// always, SO_REUSEPORT by default (enable_reuse_port), IP_FREEBIND when
// the listener asks for it.
func envoyListen(t *testing.T, network, addr string, reusePort, freebind bool) (net.Listener, error) {
	t.Helper()
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		cerr := c.Control(func(fd uintptr) {
			err = errors.Join(unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1))
			if reusePort {
				err = errors.Join(err, unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1))
			}
			if freebind {
				err = errors.Join(err, unix.SetsockoptInt(int(fd), unix.SOL_IP, unix.IP_FREEBIND, 1))
			}
		})
		return errors.Join(cerr, err)
	}}
	return lc.Listen(context.Background(), network, addr)
}

// TestServiceAddressBesideWildcard pins the kernel behaviour that lets a
// pooled Service's listener (its own address) and the Ingress listener
// (the fleet's wildcard) share a port, which is why their port claims do
// not meet (README, Dedicated addresses): with SO_REUSEPORT on both, the
// specific bind succeeds beside the wildcard and a connection to the
// specific address reaches it, every other address the wildcard; without
// SO_REUSEPORT the second bind fails. And freebind binds an address the
// node does not hold, which a plain bind refuses.
func TestServiceAddressBesideWildcard(t *testing.T) {
	wild, err := envoyListen(t, "tcp4", "0.0.0.0:0", true, false)
	if err != nil {
		t.Fatal(err)
	}
	defer wild.Close()
	port := wild.Addr().(*net.TCPAddr).Port
	own := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: port}
	if l, err := envoyListen(t, "tcp4", own.String(), false, false); err == nil {
		l.Close()
		t.Error("without SO_REUSEPORT the specific bind beside the wildcard succeeded; the README says it fails")
	}
	svc, err := envoyListen(t, "tcp4", own.String(), true, false)
	if err != nil {
		t.Fatalf("specific bind beside the wildcard with SO_REUSEPORT: %v", err)
	}
	defer svc.Close()
	for _, l := range []net.Listener{wild, svc} {
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Write([]byte(l.Addr().String()))
				c.Close()
			}
		}()
	}
	for dst, want := range map[string]string{own.String(): own.String(), (&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}).String(): wild.Addr().String()} {
		c, err := net.Dial("tcp4", dst)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(c)
		c.Close()
		if string(got) != want {
			t.Errorf("a connection to %s was accepted by %s, want %s", dst, got, want)
		}
	}
	absent := "192.0.2.7:0" // TEST-NET-1: on no node
	if l, err := envoyListen(t, "tcp4", absent, true, false); err == nil {
		l.Close()
		t.Skip("192.0.2.7 is assigned to this machine")
	}
	l, err := envoyListen(t, "tcp4", absent, true, true)
	if err != nil {
		t.Fatalf("freebind bind of an address the node does not hold: %v", err)
	}
	l.Close()
}
