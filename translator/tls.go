package translator

import (
	"crypto/tls"
	"fmt"
	"maps"
	"slices"
	"strings"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/fairwayhq/fairway/envoy"
)

// tlsConfig is what the served Ingresses' spec.tls asks of the https listener.
type tlsConfig struct {
	// hostSecret maps each TLS host to the SDS secret that serves it.
	hostSecret map[string]string
	// defaultSecret serves clients whose SNI matches no host: set by a
	// spec.tls entry without hosts, which the spec calls the wildcard.
	defaultSecret string
	// secrets holds every secret that a chain uses, by SDS name.
	secrets map[string]*tlsv3.Secret
	// checked caches Secret validation across translations.
	checked map[nsName]secretMemo
	// clientAuth is the client certificate check of each TLS host that
	// has one; closed are the hosts whose check cannot be made, which get
	// no HTTPS (clientcert.go).
	clientAuth map[string]*envoy.ClientAuth
	closed     map[string]bool
	// owners are the Ingresses that hold each TLS host ("": the default
	// certificate), which date them against the Gateways' names, and
	// gatewayNames the names the Gateways hold (tlsnames.go).
	owners       map[string]*networkingv1.Ingress
	gatewayNames map[string]nameHolder
}

// secretMemo is a Secret's validation, valid while the object is the same.
type secretMemo struct {
	obj   *corev1.Secret
	check secretCheck
}

type secretCheck struct {
	secret *tlsv3.Secret
	reason Reason
	err    error
}

// tlsHosts assigns every TLS host one certificate. Ingresses are walked
// oldest first, so a host that two Ingresses give different Secrets keeps
// the older one's and the newer gets a TLSConflict. A missing or invalid
// Secret costs only the hosts of that entry their HTTPS.
func (t *translation) tlsHosts(served []*networkingv1.Ingress, checked map[nsName]secretMemo) *tlsConfig {
	c := &tlsConfig{hostSecret: map[string]string{}, secrets: map[string]*tlsv3.Secret{}, checked: checked,
		clientAuth: map[string]*envoy.ClientAuth{}, closed: map[string]bool{}, owners: map[string]*networkingv1.Ingress{}}
	owner := c.owners
	for _, ing := range served {
		ref := ObjectRef{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name}
		for ti, entry := range ing.Spec.TLS {
			field := fmt.Sprintf("spec.tls[%d]", ti)
			check := c.check(t.idx, ing.Namespace, entry.SecretName)
			if check.err != nil {
				t.problems.add(ref, check.reason, "%s.secretName: %v; %s", field, check.err, noHTTPS(entry.Hosts))
				continue
			}
			name := check.secret.Name
			used := false
			if len(entry.Hosts) == 0 {
				switch {
				case c.defaultSecret == "":
					c.defaultSecret, owner[""], used = name, ing, true
				case c.defaultSecret == name:
					used = true
				default:
					t.problems.add(ref, TLSConflict, "%s: the default certificate (an entry without hosts) is already Secret %s from Ingress %s/%s, which is older", field, c.defaultSecret, owner[""].Namespace, owner[""].Name)
					continue
				}
			}
			for hi, host := range entry.Hosts {
				if err := validateHost(host); err != nil {
					t.problems.add(ref, InvalidHost, "%s.hosts[%d]: %v", field, hi, err)
					continue
				}
				prev, taken := c.hostSecret[host]
				switch {
				case !taken:
					c.hostSecret[host], owner[host], used = name, ing, true
				case prev == name:
					used = true
				default:
					t.problems.add(ref, TLSConflict, "%s.hosts[%d]: host %q already uses Secret %s from Ingress %s/%s, which is older", field, hi, host, prev, owner[host].Namespace, owner[host].Name)
				}
			}
			if used {
				c.secrets[name] = check.secret
			}
		}
	}
	return c
}

// noHTTPS says which hosts a broken TLS entry leaves without HTTPS.
func noHTTPS(hosts []string) string {
	switch len(hosts) {
	case 0:
		return "clients whose SNI matches no host get no default certificate"
	case 1:
		return "host " + hosts[0] + " gets no HTTPS"
	default:
		return "hosts " + strings.Join(hosts, ", ") + " get no HTTPS"
	}
}

// check validates a TLS Secret once per Secret object.
func (c *tlsConfig) check(idx *index, namespace, name string) secretCheck {
	k := nsName{namespace, name}
	obj := idx.secrets[k]
	if m, ok := c.checked[k]; ok && m.obj == obj {
		return m.check
	}
	r := checkSecret(obj, namespace, name)
	c.checked[k] = secretMemo{obj: obj, check: r}
	return r
}

// checkSecret turns a Secret into an SDS secret if it holds a PEM
// certificate chain and the private key that matches it, of a type Envoy
// loads. Expiry is not checked here: the translator has no clock.
func checkSecret(s *corev1.Secret, namespace, name string) secretCheck {
	switch {
	case name == "":
		return secretCheck{reason: SecretNotFound, err: fmt.Errorf("is empty; terminating TLS needs a certificate")}
	case s == nil:
		return secretCheck{reason: SecretNotFound, err: fmt.Errorf("Secret %s/%s not found", namespace, name)}
	case s.Type != corev1.SecretTypeTLS:
		return secretCheck{reason: SecretInvalid, err: fmt.Errorf("Secret %s/%s has type %q, want %q", namespace, name, s.Type, corev1.SecretTypeTLS)}
	}
	cert, key := s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey]
	if len(cert) == 0 || len(key) == 0 {
		return secretCheck{reason: SecretInvalid, err: fmt.Errorf("Secret %s/%s needs both data[%s] and data[%s]", namespace, name, corev1.TLSCertKey, corev1.TLSPrivateKeyKey)}
	}
	pair, err := tls.X509KeyPair(cert, key)
	if err != nil {
		return secretCheck{reason: SecretInvalid, err: fmt.Errorf("Secret %s/%s: %v", namespace, name, err)}
	}
	if err := checkEnvoyKey(pair.Certificate[0]); err != nil {
		return secretCheck{reason: SecretInvalid, err: fmt.Errorf("Secret %s/%s: %v", namespace, name, err)}
	}
	return secretCheck{secret: envoy.TLSSecret(envoy.SecretName(namespace, name), cert, key)}
}

// chains gives every TLS host its own SNI filter chain, even when hosts
// share a Secret, each routed by the host's own route configuration
// (https/<host>), plus the default chain with the https table. Sorted by
// host, so the listener is stable.
func (c *tlsConfig) chains() []envoy.TLSChain {
	hosts := slices.Sorted(maps.Keys(c.hostSecret))
	out := make([]envoy.TLSChain, 0, len(hosts)+1)
	for _, host := range hosts {
		out = append(out, envoy.TLSChain{Secret: c.hostSecret[host], ServerNames: []string{host}, RouteConfig: envoy.HTTPSHostRouteConfig(host), ClientAuth: c.clientAuth[host]})
	}
	if c.defaultSecret != "" {
		out = append(out, envoy.TLSChain{Secret: c.defaultSecret, RouteConfig: envoy.HTTPSRouteConfig})
	}
	return out
}

// covers reports whether a virtual host belongs in the https route table:
// its host has a certificate, directly or through a wildcard TLS host. The
// catch-all is always there, since rules without a host apply to every host,
// and a default certificate (the spec's wildcard) covers every host.
func (c *tlsConfig) covers(host string) bool {
	if c.closed[host] {
		return false
	}
	if host == "" || c.defaultSecret != "" {
		return true
	}
	if _, ok := c.hostSecret[host]; ok {
		return true
	}
	if isWildcard(host) {
		return false
	}
	_, parent, found := strings.Cut(host, ".")
	if !found {
		return false
	}
	_, ok := c.hostSecret["*."+parent]
	return ok
}

// tlsState is the https listener's outcome: the certificate of each TLS
// host, the chains and the secrets.
type tlsState struct {
	config *tlsConfig
	chains []envoy.TLSChain
	pass   []envoy.PassthroughChain // passthrough.go
	// gw are the chains of Gateways' HTTPS listeners (gatewayhttps.go),
	// after the Ingress chains on the listener; their route
	// configurations are the Gateways', not the https tables. gwPass are
	// their TLS listeners' chains, after the passthrough hosts'.
	gw      []envoy.TLSChain
	gwPass  []envoy.PassthroughChain
	port    uint32
	secrets map[string]*corev1.Secret // SDS name -> the object it came from
}

// recomputeTLS assigns certificates to TLS hosts and rebuilds the https
// listener and the secrets that changed. The listener exists while the
// https claim holds and at least one certificate is usable.
func (e *Engine) recomputeTLS() error {
	var withTLS []*networkingv1.Ingress
	var withClientCert []*ingressState
	for _, st := range e.ingresses {
		if st.served && st.hasTLS() && !st.isPassthrough() {
			withTLS = append(withTLS, st.obj)
		}
		if st.served && st.clientCert() != nil {
			withClientCert = append(withClientCert, st)
		}
	}
	slices.SortFunc(withTLS, func(a, b *networkingv1.Ingress) int { return compareAge(&a.ObjectMeta, &b.ObjectMeta) })
	slices.SortFunc(withClientCert, func(a, b *ingressState) int { return compareAge(&a.obj.ObjectMeta, &b.obj.ObjectMeta) })
	t := e.scope()
	next := tlsState{secrets: map[string]*corev1.Secret{}}
	if e.claims.httpsWon {
		next.config = t.tlsHosts(withTLS, e.secretChecks)
		pass := t.passthroughChains(e.passHosts, next.config, withTLS)
		next.pass, next.gw, next.gwPass = e.settleTLSNames(t, next.config, pass)
		t.clientCerts(withClientCert, next.config)
		next.chains = next.config.chains()
		next.port = uint32(e.opts.HTTPSPort)
	} else {
		e.gw.httpsLost, e.gw.sharedTaken = nil, nil
	}
	e.setProblems(slot{piece: slotTLS}, t.problems)
	if err := e.replaceSecrets(next); err != nil {
		return err
	}
	prev := e.tls
	e.tls = next
	if len(next.chains) == 0 && len(next.pass) == 0 && len(next.gw) == 0 && len(next.gwPass) == 0 {
		e.envoy.remove(KindListener, envoy.HTTPSListenerName)
		return nil
	}
	if prev.port == next.port && slices.EqualFunc(prev.chains, next.chains, sameChain) && slices.EqualFunc(prev.pass, next.pass, samePassChain) &&
		slices.EqualFunc(prev.gw, next.gw, sameChain) && slices.EqualFunc(prev.gwPass, next.gwPass, sameGatewayPass) &&
		e.envoy.Get(KindListener, envoy.HTTPSListenerName) != nil {
		return nil
	}
	e.httpsStale = true
	e.putHTTPSListener(next)
	return nil
}

// putHTTPSListener encodes the https listener of next's chains: the
// Ingress TLS hosts', the Gateways' (gatewayhttps.go) and the
// passthrough hosts'.
func (e *Engine) putHTTPSListener(next tlsState) {
	refs := make([]Ref, 0, len(next.chains)+len(next.config.secrets)+len(next.pass))
	for _, c := range next.chains {
		refs = append(refs, Ref{KindRoute, c.RouteConfig})
	}
	for _, c := range next.pass {
		refs = append(refs, Ref{KindCluster, c.Cluster})
	}
	// A Secret once, though a wildcard's hosts each have a chain with it.
	for _, name := range slices.Sorted(maps.Keys(next.config.secrets)) {
		refs = append(refs, Ref{KindSecret, name})
	}
	for _, c := range next.gw { // a Gateway listener's own route configuration and certificate
		refs = append(refs, Ref{KindRoute, c.RouteConfig}, Ref{KindSecret, c.Secret})
	}
	for _, c := range next.gwPass { // a TLS listener's clusters, and a Terminate listener's certificate
		refs = append(refs, l4Refs(c.Cluster, c.Weighted)...)
		if c.Secret != "" {
			refs = append(refs, Ref{KindSecret, c.Secret})
		}
	}
	// A chain per TLS host: encoded from the parts every chain shares.
	x := envoy.NewHTTPSListenerEncoder(envoy.HTTPSListenerName, e.opts.ListenAddress, next.port, e.logs.HTTP, e.opts.clientAddress())
	chains, pass := next.chains, next.pass
	if len(next.gw) > 0 {
		chains = append(slices.Clip(chains), next.gw...)
	}
	if len(next.gwPass) > 0 {
		pass = append(slices.Clip(pass), next.gwPass...)
	}
	e.envoy.put(KindListener, newResource(envoy.HTTPSListenerName, x.AppendWithPassthrough(nil, chains, pass, e.logs.TCP), refs))
}

func sameChain(a, b envoy.TLSChain) bool {
	return a.Secret == b.Secret && a.RouteConfig == b.RouteConfig && slices.Equal(a.ServerNames, b.ServerNames) &&
		(a.ClientAuth == b.ClientAuth || a.ClientAuth != nil && b.ClientAuth != nil && *a.ClientAuth == *b.ClientAuth)
}

// replaceSecrets puts the secrets the chains use, encoding only those whose
// Secret object changed, and removes the rest.
func (e *Engine) replaceSecrets(next tlsState) error {
	if next.config != nil {
		for name, s := range next.config.secrets {
			obj := e.idx.secrets[secretKey(name)]
			next.secrets[name] = obj
			if e.tls.secrets[name] == obj && e.envoy.Get(KindSecret, name) != nil {
				continue
			}
			r, err := encode(name, s, nil)
			if err != nil {
				return err
			}
			e.envoy.put(KindSecret, r)
		}
	}
	for name := range e.tls.secrets {
		if _, ok := next.secrets[name]; !ok {
			e.envoy.remove(KindSecret, name)
		}
	}
	return nil
}

// secretKey is the Secret behind an SDS name (see envoy.SecretName and
// envoy.CASecretName).
func secretKey(sdsName string) nsName {
	ns, rest, _ := strings.Cut(sdsName, "/")
	name, _, _ := strings.Cut(rest, "/")
	return nsName{ns, name}
}
