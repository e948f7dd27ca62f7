package translator

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fairwayhq/fairway/envoy"
)

// One server name of the https listener picks one filter chain, and
// Envoy refuses a listener whose chains ask for the same name twice. The
// Ingress TLS hosts (and the default certificate of an entry without
// hosts), the ssl-passthrough hosts and the Gateways' HTTPS and TLS
// listeners on the port may all ask for one name, so the name goes to
// the oldest of them, as a port or a path does elsewhere in fairway: by
// creationTimestamp, then namespace/name, then kind (then, within one
// Gateway, listener order). A new object never takes a name from traffic
// that already flows. The Ingresses have settled their own names among
// themselves already (tls.go, passthrough.go); this settles them against
// the Gateways'. The default chain ("", a listener or entry without a
// hostname) is one more name.

// nameHolder is an object that asks the https listener for a name.
type nameHolder struct {
	ref   ObjectRef
	since *metav1.ObjectMeta
	// listener is a Gateway listener's name, and shared its index in the
	// shared listeners; -1 for an Ingress.
	listener string
	shared   int
}

func (h nameHolder) olderThan(o nameHolder) bool {
	return cmp.Or(compareAge(h.since, o.since), cmp.Compare(h.ref.Kind, o.ref.Kind), cmp.Compare(h.shared, o.shared)) < 0
}

func (h nameHolder) String() string {
	if h.shared >= 0 {
		return fmt.Sprintf("listener %s of Gateway %s", h.listener, h.ref.NamespacedName())
	}
	return "Ingress " + h.ref.NamespacedName()
}

// settleTLSNames gives each name to its oldest holder. The Ingress TLS
// hosts a Gateway holds lose their chain and are served by no other
// Ingress chain either (closed: their routes are the Ingress's, and the
// name's clients reach the Gateway's chain); the passthrough hosts it
// holds are not passed through. It returns the Ingress passthrough
// chains kept, and the Gateway chains taken; it notes which shared
// listeners keep a chain, and those that lost a name.
func (e *Engine) settleTLSNames(t *translation, c *tlsConfig, pass []envoy.PassthroughChain) (kept []envoy.PassthroughChain, gw []envoy.TLSChain, gwPass []envoy.PassthroughChain) {
	shared := e.gw.sharedTLS
	e.gw.httpsLost, e.gw.sharedTaken = nil, make([]bool, len(shared))
	if len(shared) == 0 {
		return pass, nil, nil
	}
	holders := e.ingressNames(c, pass)
	for i, s := range shared {
		h := nameHolder{ref: ObjectRef{Kind: "Gateway", Namespace: s.gw.Namespace, Name: s.gw.Name}, since: &s.gw.ObjectMeta, listener: s.l.Name, shared: i}
		for _, n := range s.names() {
			if prev, ok := holders[n]; !ok || h.olderThan(prev) {
				holders[n] = h
			}
		}
	}
	c.gatewayNames = map[string]nameHolder{}
	for n, h := range holders {
		if h.shared >= 0 {
			c.gatewayNames[n] = h
		}
	}
	t.ingressLost(c, holders)
	for _, p := range pass {
		if h := holders[p.ServerName]; h.shared >= 0 {
			t.problems.add(e.passHosts[p.ServerName].origin, TLSConflict, "host %q: its server name on the https port is held by %s, which is older; it is not passed through", p.ServerName, h)
			continue
		}
		kept = append(kept, p)
	}
	for i, s := range shared {
		gw, gwPass = e.takeShared(t, i, s, holders, gw, gwPass)
	}
	return kept, gw, gwPass
}

// ingressNames are the names the Ingresses hold among themselves: their
// TLS hosts, the default certificate's chain, the passthrough hosts.
func (e *Engine) ingressNames(c *tlsConfig, pass []envoy.PassthroughChain) map[string]nameHolder {
	holders := make(map[string]nameHolder, len(c.hostSecret)+len(pass)+1)
	add := func(name string, ing *networkingv1.Ingress) {
		if ing != nil {
			holders[name] = nameHolder{ref: ObjectRef{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name}, since: &ing.ObjectMeta, shared: -1}
		}
	}
	for host := range c.hostSecret {
		add(host, c.owners[host])
	}
	if c.defaultSecret != "" {
		add("", c.owners[""])
	}
	for _, p := range pass {
		r := e.passHosts[p.ServerName]
		holders[p.ServerName] = nameHolder{ref: r.origin, since: r.since, shared: -1}
	}
	return holders
}

// ingressLost takes from c the TLS hosts and the default certificate a
// Gateway holds, with a Problem on their Ingress naming the holder.
func (t *translation) ingressLost(c *tlsConfig, holders map[string]nameHolder) {
	lost := false
	for _, host := range slices.Sorted(maps.Keys(c.hostSecret)) {
		h := holders[host]
		if h.shared < 0 {
			continue
		}
		if owner := c.owners[host]; owner != nil {
			t.problems.add(ObjectRef{Kind: "Ingress", Namespace: owner.Namespace, Name: owner.Name}, TLSConflict,
				"spec.tls: host %q: its server name on the https port is held by %s, which is older; this Ingress does not serve it over HTTPS (its plain HTTP routes stay)", host, h)
		}
		c.close(host)
		lost = true
	}
	if h := holders[""]; c.defaultSecret != "" && h.shared >= 0 {
		if owner := c.owners[""]; owner != nil {
			t.problems.add(ObjectRef{Kind: "Ingress", Namespace: owner.Namespace, Name: owner.Name}, TLSConflict,
				"spec.tls: the default certificate (an entry without hosts) is not served: the https port's default chain is held by %s, which is older", h)
		}
		c.defaultSecret = ""
		lost = true
	}
	if lost {
		c.dropUnusedSecrets()
	}
}

// takeShared adds the chains of shared listener i whose names it holds
// to gw and gwPass, and notes the names it lost.
func (e *Engine) takeShared(t *translation, i int, s *sharedListener, holders map[string]nameHolder, gw []envoy.TLSChain, gwPass []envoy.PassthroughChain) ([]envoy.TLSChain, []envoy.PassthroughChain) {
	var lost []string
	if s.https != nil {
		if name := chainHost(*s.https); holders[name].shared == i {
			gw = append(gw, *s.https)
		} else {
			lost = append(lost, name)
		}
	}
	for _, p := range s.pass {
		if holders[p.ServerName].shared == i {
			gwPass = append(gwPass, p)
		} else {
			lost = append(lost, p.ServerName)
		}
	}
	e.gw.sharedTaken[i] = len(lost) < len(s.names())
	if len(lost) == 0 {
		return gw, gwPass
	}
	held := make([]string, len(lost))
	for j, n := range lost {
		held[j] = fmt.Sprintf("%s is held by %s, which is older", describeName(n), holders[n])
	}
	msg := fmt.Sprintf("listener %s: on the https port, %s", s.l.Name, strings.Join(held, "; "))
	if e.gw.sharedTaken[i] {
		msg += "; its other names are served"
	}
	t.problems.add(ObjectRef{Kind: "Gateway", Namespace: s.gw.Namespace, Name: s.gw.Name}, TLSConflict, "%s", msg)
	e.gw.httpsLost = append(e.gw.httpsLost, lostListener{gw: s.gw, l: s.l, msg: msg})
	return gw, gwPass
}

func sameGatewayPass(a, b envoy.PassthroughChain) bool {
	return samePassChain(a, b) && a.Secret == b.Secret && slices.Equal(a.Weighted, b.Weighted)
}
