package xds

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"sync"
	"time"
)

// ServerTLS loads the serving certificate, and the CA that client
// certificates must chain to when clientCA is set. Both are read again
// when their files change, and take effect at the next handshake: a
// Secret rotated in a mounted volume needs no restart. A reload that fails
// (a rotation half done) keeps what was loaded last.
func ServerTLS(certFile, keyFile, clientCA string) (*tls.Config, error) {
	certs := &certReloader{certFile: certFile, keyFile: keyFile}
	if _, err := certs.get(nil); err != nil {
		return nil, fmt.Errorf("xds tls: %w", err)
	}
	cfg := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"h2"},
		GetCertificate: certs.get,
	}
	if clientCA == "" {
		return cfg, nil
	}
	cas := &caReloader{file: clientCA}
	pool, err := cas.get()
	if err != nil {
		return nil, fmt.Errorf("xds tls client ca: %w", err)
	}
	// ClientCAs on the base config keeps it self-contained (and visible to
	// callers); each handshake gets a copy with the current pool.
	cfg.ClientCAs = pool
	cfg.ClientAuth = tls.RequireAndVerifyClientCert
	base := cfg.Clone()
	cfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		pool, err := cas.get()
		if err != nil {
			return nil, err
		}
		c := base.Clone()
		c.ClientCAs = pool
		return c, nil
	}
	return cfg, nil
}

// certReloader serves a key pair from files, reloading it when they change.
type certReloader struct {
	certFile, keyFile string
	mu                sync.Mutex
	stamp             time.Time
	cert              *tls.Certificate
}

func (r *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	stamp := time.Time{}
	for _, f := range []string{r.certFile, r.keyFile} {
		info, err := os.Stat(f)
		if err != nil {
			return r.keep(err)
		}
		if info.ModTime().After(stamp) {
			stamp = info.ModTime()
		}
	}
	if r.cert != nil && stamp.Equal(r.stamp) {
		return r.cert, nil
	}
	c, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return r.keep(err)
	}
	r.cert, r.stamp = &c, stamp
	return r.cert, nil
}

func (r *certReloader) keep(err error) (*tls.Certificate, error) {
	if r.cert != nil {
		return r.cert, nil
	}
	return nil, err
}

// caReloader serves the client CA pool from a file. It compares the
// file's bytes rather than its modification time: the file is small, a
// handshake is rare next to the stream it opens, and a rewrite within the
// file system's timestamp granularity is still seen.
type caReloader struct {
	file string
	mu   sync.Mutex
	pem  []byte
	pool *x509.CertPool
}

func (r *caReloader) get() (*x509.CertPool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	data, err := os.ReadFile(r.file)
	if err != nil {
		return r.keep(err)
	}
	if r.pool != nil && bytes.Equal(data, r.pem) {
		return r.pool, nil
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return r.keep(fmt.Errorf("%s: no PEM certificates", r.file))
	}
	r.pem, r.pool = data, pool
	return pool, nil
}

func (r *caReloader) keep(err error) (*x509.CertPool, error) {
	if r.pool != nil {
		return r.pool, nil
	}
	return nil, err
}
