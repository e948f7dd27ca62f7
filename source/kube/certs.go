package kube

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/fairwayhq/fairway/pki"
)

// The Secrets of the xDS mTLS install. Their names are a contract with
// the manifests that mount them and with the cert-manager component, which
// makes the same three.
const (
	CASecret        = "fairway-ca"
	ServerSecret    = "fairway-xds-server"
	FleetSecret     = "fairway-fleet-client"
	ProxylessSecret = "fairway-xds-client"
	// CAKey is the key of each Secret that holds the CA certificate that
	// the peer must trust, as cert-manager names it.
	CAKey = "ca.crt"
)

// CertConfig is what `fairway certgen` is asked to keep current.
type CertConfig struct {
	Namespace           string
	TrustDomain         string
	ServiceName         string
	ProxylessNamespaces []string
	CertValidity        time.Duration
	CAValidity          time.Duration
	RenewBefore         time.Duration
}

// CertChange is one Secret that certgen wrote, and why.
type CertChange struct {
	Namespace, Name string
	Reason          string
}

// Certgen keeps the CA and the leaf certificates in their Secrets. A run
// that finds everything valid writes nothing, so it can run as often as
// wanted; every write carries the resourceVersion it read, so two runs
// racing never leave two CAs or a leaf signed by the losing one.
type Certgen struct {
	Client kubernetes.Interface
	Config CertConfig
	Now    func() time.Time
	Log    hclog.Logger
}

// attempts bounds the re-reads after a write lost a race: each loss means
// another run has just written a good Secret, so a second read settles it.
const attempts = 3

// Run makes every Secret valid and returns the ones it wrote. A leaf that
// cannot be written (a proxyless namespace that does not exist) does not
// stop the others; its error is returned with theirs.
func (g *Certgen) Run(ctx context.Context) ([]CertChange, error) {
	var changes []CertChange
	ca, change, err := g.ensureCA(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w", g.Config.Namespace, CASecret, err)
	}
	if change != nil {
		changes = append(changes, *change)
	}
	var errs []error
	for _, w := range g.wanted() {
		change, err := g.ensureLeaf(ctx, w, ca)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s/%s: %w", w.namespace, w.name, err))
		}
		if change != nil {
			changes = append(changes, *change)
		}
	}
	return changes, errors.Join(errs...)
}

type wantedLeaf struct {
	namespace, name string
	leaf            pki.Leaf
}

func (g *Certgen) wanted() []wantedLeaf {
	c := g.Config
	out := []wantedLeaf{
		{c.Namespace, ServerSecret, pki.ServerLeaf(c.TrustDomain, c.ServiceName, c.Namespace)},
		{c.Namespace, FleetSecret, pki.FleetLeaf(c.TrustDomain)},
	}
	for _, ns := range c.ProxylessNamespaces {
		out = append(out, wantedLeaf{ns, ProxylessSecret, pki.ProxylessLeaf(c.TrustDomain, ns)})
	}
	return out
}

// ensureCA returns the CA to sign with: the stored one while it is good,
// else a new one (which makes every leaf re-issued, as none chains to it).
func (g *Certgen) ensureCA(ctx context.Context) (*pki.KeyPair, *CertChange, error) {
	secrets := g.Client.CoreV1().Secrets(g.Config.Namespace)
	for range attempts {
		s, err := secrets.Get(ctx, CASecret, metav1.GetOptions{})
		reason := "missing"
		var ca *pki.KeyPair
		switch {
		case apierrors.IsNotFound(err):
			s = nil
		case err != nil:
			return nil, nil, err
		default:
			if ca, err = pki.ParseKeyPair(s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey]); err != nil {
				reason = err.Error()
			} else if reason = pki.CAProblem(ca, g.Now(), g.Config.RenewBefore); reason == "" {
				return ca, nil, nil
			}
		}
		if ca, err = pki.NewCA("fairway-ca", g.Config.CAValidity, g.Now()); err != nil {
			return nil, nil, err
		}
		// Opaque, not kubernetes.io/tls: fairway caches only TLS Secrets'
		// keys (its Opaque watch, for basic-auth users, drops PEM
		// blocks), so the CA's key never enters its cache, SDS or the
		// fleet.
		if err := g.write(ctx, s, g.Config.Namespace, CASecret, corev1.SecretTypeOpaque, ca, ca.CertPEM); err != nil {
			if lostRace(err) {
				g.Log.Debug("another writer got there first; reading again", "secret", CASecret, "error", err)
				continue
			}
			return nil, nil, err
		}
		g.Log.Info("issued a new CA; every leaf certificate is re-issued", "secret", CASecret, "reason", reason)
		return ca, &CertChange{g.Config.Namespace, CASecret, reason}, nil
	}
	return nil, nil, errors.New("lost every race to write the CA")
}

// ensureLeaf re-issues a leaf certificate only when LeafProblem, or the
// Secret's copy of the CA, says it must.
func (g *Certgen) ensureLeaf(ctx context.Context, w wantedLeaf, ca *pki.KeyPair) (*CertChange, error) {
	for range attempts {
		s, err := g.Client.CoreV1().Secrets(w.namespace).Get(ctx, w.name, metav1.GetOptions{})
		reason := "missing"
		switch {
		case apierrors.IsNotFound(err):
			s = nil
		case err != nil:
			return nil, err
		default:
			if reason = g.leafProblem(s, w.leaf, ca); reason == "" {
				return nil, nil
			}
		}
		leaf, err := ca.Issue(w.leaf, g.Config.CertValidity, g.Now())
		if err != nil {
			return nil, err
		}
		if err := g.write(ctx, s, w.namespace, w.name, corev1.SecretTypeTLS, leaf, ca.CertPEM); err != nil {
			if lostRace(err) {
				g.Log.Debug("another writer got there first; reading again", "secret", w.namespace+"/"+w.name, "error", err)
				continue
			}
			return nil, err
		}
		g.Log.Info("issued a certificate", "secret", w.namespace+"/"+w.name, "reason", reason, "not_after", leaf.Cert.NotAfter)
		return &CertChange{w.namespace, w.name, reason}, nil
	}
	return nil, errors.New("lost every race to write the certificate")
}

func (g *Certgen) leafProblem(s *corev1.Secret, l pki.Leaf, ca *pki.KeyPair) string {
	leaf, err := pki.ParseKeyPair(s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey])
	if err != nil {
		return err.Error()
	}
	if !bytes.Equal(s.Data[CAKey], ca.CertPEM) {
		return CAKey + " is not the current CA"
	}
	return pki.LeafProblem(leaf, ca.Cert, l, g.Now(), g.Config.RenewBefore)
}

// write creates the Secret when old is nil, else replaces its three keys,
// conditional on the resourceVersion that was read.
func (g *Certgen) write(ctx context.Context, old *corev1.Secret, ns, name string, typ corev1.SecretType, kp *pki.KeyPair, caPEM []byte) error {
	data := map[string][]byte{corev1.TLSCertKey: kp.CertPEM, corev1.TLSPrivateKeyKey: kp.KeyPEM, CAKey: caPEM}
	secrets := g.Client.CoreV1().Secrets(ns)
	if old == nil {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{
				"app.kubernetes.io/part-of": "fairway", "app.kubernetes.io/managed-by": "fairway-certgen",
			}},
			Type: typ,
			Data: data,
		}
		_, err := secrets.Create(ctx, s, metav1.CreateOptions{})
		return err
	}
	s := old.DeepCopy()
	s.Data = data
	_, err := secrets.Update(ctx, s, metav1.UpdateOptions{})
	return err
}

// lostRace is a write that another writer beat: read again and decide
// from what it wrote.
func lostRace(err error) bool { return apierrors.IsAlreadyExists(err) || apierrors.IsConflict(err) }
