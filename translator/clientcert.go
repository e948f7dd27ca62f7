package translator

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"maps"
	"slices"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/translator/annotations"
	"github.com/fairwayhq/fairway/translator/policy"
)

// Client certificates (auth-tls-*) are a property of a host's TLS
// handshake, as in nginx, where they are set per server: every route of
// the host is behind them, whichever Ingress it comes from. A host's
// check comes from the oldest Ingress that sets one; a newer one that
// disagrees gets a ClientCertConflict. The check sits on the host's own
// filter chain: a host that would share a wildcard's or the default chain
// gets one of its own, with the same certificate, so the check never
// leaks onto another host, and no other chain answers for it (their
// tables answer its name with 421).

// The keys of a Secret holding a CA bundle, as ingress-nginx reads them.
const (
	caCertKey = "ca.crt"
	caCRLKey  = "ca.crl"
)

// clientCertKey is the key a client certificate Problem names, as the
// Ingress writes it.
func (st *ingressState) clientCertKey() string {
	return annotations.WrittenKey(st.obj.Annotations, "auth-tls-secret")
}

// clientCertHostless: a check on an Ingress with a rule or default
// backend without a host cannot be put on a handshake (no SNI picks those
// routes), so the Ingress is not served rather than served without it.
func clientCertHostless(st *ingressState) bool {
	if !st.clientCert().Asks() {
		return false
	}
	if st.obj.Spec.DefaultBackend != nil {
		return true
	}
	return slices.ContainsFunc(st.obj.Spec.Rules, func(r networkingv1.IngressRule) bool { return r.Host == "" })
}

// hostClaim is a host's check and the Ingress it comes from.
type hostClaim struct {
	cert  policy.ClientCert
	owner *ingressState
}

// clientCerts settles each host's check between the Ingresses that ask
// for one (oldest first), checks their CAs and puts the checks on c's
// chains. A host whose CA is missing or invalid loses its HTTPS: its
// chain is not built and no other chain serves it (fail closed).
func (t *translation) clientCerts(ings []*ingressState, c *tlsConfig) {
	claims := map[string]hostClaim{}
	for _, st := range ings {
		cert := *st.clientCert()
		cert.ErrorPage = ""
		if cert.SecretNamespace == "" {
			cert.SecretNamespace = st.obj.Namespace
		}
		for _, host := range st.hostNames() {
			prev, taken := claims[host]
			switch {
			case !taken:
				claims[host] = hostClaim{cert: cert, owner: st}
			case prev.cert != cert:
				t.problems.add(st.ref, ClientCertConflict, "metadata.annotations[%s]: host %q already checks client certificates as Ingress %s sets, which is older; this Ingress's auth-tls-* annotations are ignored for it", st.clientCertKey(), host, prev.owner.ref.NamespacedName())
			}
		}
	}
	t.gatewayHeld(c, claims)
	hosts := slices.Sorted(maps.Keys(claims))
	cas := map[*ingressState]*tlsv3.Secret{}
	for _, host := range hosts { // close first: a closed host picks no covering certificate
		cl := claims[host]
		ca, checked := cas[cl.owner]
		if !checked {
			ca = t.checkCA(cl.owner, cl.cert, claims)
			cas[cl.owner] = ca
		}
		if ca == nil {
			c.close(host)
		}
	}
	for _, host := range hosts {
		cl := claims[host]
		if ca := cas[cl.owner]; ca != nil {
			t.putClientAuth(c, host, cl, ca)
		}
	}
}

// gatewayHeld closes the hosts with a check whose server name a
// Gateway's chain holds (tlsnames.go): that chain cannot check this
// Ingress's clients, and no other chain may serve the host without the
// check (fail closed).
func (t *translation) gatewayHeld(c *tlsConfig, claims map[string]hostClaim) {
	for _, host := range slices.Sorted(maps.Keys(claims)) {
		h, held := c.gatewayNames[host]
		if !held {
			continue
		}
		if cl := claims[host]; c.owners[host] != cl.owner.obj { // a TLS host of its own that it lost said so already
			t.problems.add(cl.owner.ref, TLSConflict, "metadata.annotations[%s]: host %q: its server name on the https port is held by %s, which checks no client certificates of this Ingress; it is not served over HTTPS", cl.owner.clientCertKey(), host, h)
		}
		c.close(host)
		delete(claims, host)
	}
}

// putClientAuth gives host its own chain with the check.
func (t *translation) putClientAuth(c *tlsConfig, host string, cl hostClaim, ca *tlsv3.Secret) {
	secret := c.hostSecret[host]
	if secret == "" {
		if ch := c.chainOf(host); ch != "" {
			secret = c.hostSecret[ch]
		} else {
			secret = c.defaultSecret
		}
	}
	if secret == "" {
		if cl.cert.Verify != policy.VerifyOff {
			t.problems.add(cl.owner.ref, ClientCertUnavailable, "metadata.annotations[%s]: host %q has no certificate, so no TLS handshake can check its clients; it is not served over HTTPS, and plain HTTP redirects to https", cl.owner.clientCertKey(), host)
		}
		return
	}
	c.hostSecret[host] = secret
	if cl.cert.Verify != policy.VerifyOff { // off asks for no certificate: the CA is not sent
		c.secrets[ca.Name] = ca
	}
	c.clientAuth[host] = &envoy.ClientAuth{
		CASecret:        ca.Name,
		Verify:          envoyVerify[cl.cert.Verify],
		MaxDepth:        cl.cert.MaxDepth(),
		PassCertificate: cl.cert.PassCertificate,
	}
}

var envoyVerify = map[policy.ClientVerify]envoy.ClientVerify{
	policy.VerifyOn:           envoy.ClientVerifyOn,
	policy.VerifyOff:          envoy.ClientVerifyOff,
	policy.VerifyOptional:     envoy.ClientVerifyOptional,
	policy.VerifyOptionalNoCA: envoy.ClientVerifyOptionalNoCA,
}

// checkCA turns an Ingress's CA Secret into its SDS secret, or gives the
// Problem that closes the Ingress's hosts and returns nil.
func (t *translation) checkCA(st *ingressState, cert policy.ClientCert, claims map[string]hostClaim) *tlsv3.Secret {
	ns, name := cert.SecretNamespace, cert.SecretName
	s := t.idx.secrets[nsName{ns, name}]
	ca, reason, err := caSecret(s, ns, name)
	if err == nil {
		return ca
	}
	var owned []string
	for host, cl := range claims {
		if cl.owner == st {
			owned = append(owned, host)
		}
	}
	slices.Sort(owned)
	t.problems.add(st.ref, reason, "metadata.annotations[%s]: %v; the client certificate check cannot be made, so %s", st.clientCertKey(), err, noHTTPS(owned))
	return nil
}

// caSecret validates a CA Secret: data[ca.crt] must be PEM certificates
// only, each of which parses (Envoy refuses the whole listener update
// otherwise); data[ca.crl], when present, must be PEM revocation lists.
func caSecret(s *corev1.Secret, namespace, name string) (*tlsv3.Secret, Reason, error) {
	if s == nil {
		return nil, SecretNotFound, fmt.Errorf("Secret %s/%s not found", namespace, name)
	}
	ca := s.Data[caCertKey]
	if len(ca) == 0 {
		return nil, SecretInvalid, fmt.Errorf("Secret %s/%s has no data[%s]", namespace, name, caCertKey)
	}
	if err := eachPEM(ca, "CERTIFICATE", func(der []byte) error { _, err := x509.ParseCertificate(der); return err }); err != nil {
		return nil, SecretInvalid, fmt.Errorf("Secret %s/%s data[%s]: %v", namespace, name, caCertKey, err)
	}
	crl := s.Data[caCRLKey]
	if len(crl) > 0 {
		if err := eachPEM(crl, "X509 CRL", func(der []byte) error { _, err := x509.ParseRevocationList(der); return err }); err != nil {
			return nil, SecretInvalid, fmt.Errorf("Secret %s/%s data[%s]: %v", namespace, name, caCRLKey, err)
		}
	}
	return envoy.CASecret(envoy.CASecretName(namespace, name), ca, crl), "", nil
}

// eachPEM parses every PEM block of data, which must all be of typ, and
// at least one. Text between blocks is skipped, as Envoy skips it (CA
// bundles often carry each certificate's description).
func eachPEM(data []byte, typ string, parse func(der []byte) error) error {
	n := 0
	for rest := data; ; n++ {
		block, next := pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != typ {
			return fmt.Errorf("block %d is %q, want %q", n+1, block.Type, typ)
		}
		if err := parse(block.Bytes); err != nil {
			return fmt.Errorf("block %d: %v", n+1, err)
		}
		rest = next
	}
	if n == 0 {
		return fmt.Errorf("holds no PEM %s", typ)
	}
	return nil
}

// close takes a host off HTTPS: no chain of its own, and no other chain's
// table serves it.
func (c *tlsConfig) close(host string) {
	delete(c.hostSecret, host)
	c.closed[host] = true
}

// hostNames are the names an Ingress's rules serve, with its aliases.
func (st *ingressState) hostNames() []string {
	out := make([]string, 0, len(st.hosts)+len(st.wwwHosts))
	for _, h := range st.hosts {
		if h.host != "" {
			out = append(out, h.host)
		}
	}
	return append(out, st.wwwHosts...)
}

// asksClientCert: some Ingress on the host checks client certificates.
// Its plain-HTTP side then redirects every route to https, where the
// check is: serving it in the clear would skip the check (nginx's
// ssl_verify_client applies to TLS connections only).
func (e *Engine) asksClientCert(host string) bool {
	return host != "" && slices.ContainsFunc(e.contrib[host], func(st *ingressState) bool { return st.clientCert().Asks() })
}

// clientCertChanged: an Ingress change that can move a host's check.
func clientCertChanged(prev, next *ingressState) bool {
	a, b := prev.clientCert(), next.clientCert()
	switch {
	case a == nil && b == nil:
		return false
	case a == nil || b == nil:
		return true
	}
	return *a != *b || prev.served != next.served || !prev.obj.CreationTimestamp.Equal(&next.obj.CreationTimestamp) ||
		!slices.Equal(prev.hostNames(), next.hostNames())
}

// clientCert is the Ingress's check; a canary's is ignored (and
// reported IgnoredOnCanary), as ingress-nginx ignores a canary's
// annotations other than its canary-*, balancing and affinity ones.
func (st *ingressState) clientCert() *policy.ClientCert {
	if st == nil || st.policy == nil || st.isCanary() {
		return nil
	}
	return st.policy.ClientCert
}

// chainTail is the encoding of a chain's route configuration after its
// virtual hosts: the ssl-client-* headers when the chain checks client
// certificates, else the shared tail.
func chainTail(ch envoy.TLSChain) []byte {
	if ch.ClientAuth == nil {
		return nil
	}
	const name = "t"
	full, err := marshalOptions.Marshal(envoy.ClientCertRouteConfiguration(name, nil, ch.ClientAuth))
	if err != nil {
		panic(fmt.Sprintf("encode route configuration tail: %v", err))
	}
	head, _ := routeConfigParts(name)
	return slices.Clip(full[len(head):])
}
