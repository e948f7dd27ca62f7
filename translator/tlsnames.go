package translator

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

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

// settleTLSNames gives each name a Gateway asks for to its oldest asker.
// The Ingress TLS hosts a Gateway holds lose their chain and are served
// by no other Ingress chain either (closed: their routes are the
// Ingress's, and the name's clients reach the Gateway's chain); the
// passthrough hosts it holds are not passed through. It returns the
// Ingress passthrough chains kept, and the Gateway chains taken; it
// notes which shared listeners keep a chain, and those that lost a name.
// It looks at the Gateways' names only, which are few beside the TLS
// hosts of a large fleet.
func (e *Engine) settleTLSNames(t *translation, c *tlsConfig, pass []envoy.PassthroughChain) (kept []envoy.PassthroughChain, gw []envoy.TLSChain, gwPass []envoy.PassthroughChain) {
	shared := e.gw.sharedTLS
	e.gw.httpsLost, e.gw.sharedTaken = nil, make([]bool, len(shared))
	if len(shared) == 0 {
		return pass, nil, nil
	}
	passed := make(map[string]bool, len(pass))
	for _, p := range pass {
		passed[p.ServerName] = true
	}
	holders := map[string]nameHolder{}
	for i, s := range shared {
		h := nameHolder{ref: gatewayRef(s.gw.Namespace, s.gw.Name), since: &s.gw.ObjectMeta, listener: s.l.Name, shared: i}
		for _, n := range s.names() {
			prev, ok := holders[n]
			if !ok {
				prev, ok = e.ingressHolder(c, passed, n)
			}
			if !ok || h.olderThan(prev) {
				prev = h
			}
			holders[n] = prev
		}
	}
	c.gatewayNames = map[string]nameHolder{}
	for n, h := range holders {
		if h.shared >= 0 {
			c.gatewayNames[n] = h
		}
	}
	t.ingressLost(c)
	for n := range c.gatewayNames {
		if n != "" { // SNI picks the Gateway's chain: no Ingress chain's table serves the name (httpstables.go answers it 421)
			c.close(n)
		}
	}
	for _, p := range pass {
		if h, held := c.gatewayNames[p.ServerName]; held {
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

// ingressHolder is the Ingress that holds name among the Ingresses, if
// one does: by a TLS host, the default certificate's chain ("") or a
// passthrough host (passed).
func (e *Engine) ingressHolder(c *tlsConfig, passed map[string]bool, name string) (nameHolder, bool) {
	if passed[name] {
		r := e.passHosts[name]
		return nameHolder{ref: r.origin, since: r.since, shared: -1}, true
	}
	if _, ok := c.hostSecret[name]; !ok && (name != "" || c.defaultSecret == "") {
		return nameHolder{}, false
	}
	ing := c.owners[name]
	if ing == nil {
		return nameHolder{}, false
	}
	return nameHolder{ref: ObjectRef{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name}, since: &ing.ObjectMeta, shared: -1}, true
}

// ingressLost takes from c the TLS hosts and the default certificate a
// Gateway holds, with a Problem on their Ingress naming the holder.
func (t *translation) ingressLost(c *tlsConfig) {
	lost := false
	for _, name := range slices.Sorted(maps.Keys(c.gatewayNames)) {
		h := c.gatewayNames[name]
		owner := c.owners[name]
		switch _, host := c.hostSecret[name]; {
		case host && name != "":
			c.close(name)
			t.problems.add(ObjectRef{Kind: "Ingress", Namespace: owner.Namespace, Name: owner.Name}, TLSConflict,
				"spec.tls: host %q: its server name on the https port is held by %s, which is older; this Ingress does not serve it over HTTPS (its plain HTTP routes stay)", name, h)
		case name == "" && c.defaultSecret != "":
			c.defaultSecret = ""
			t.problems.add(ObjectRef{Kind: "Ingress", Namespace: owner.Namespace, Name: owner.Name}, TLSConflict,
				"spec.tls: the default certificate (an entry without hosts) is not served: the https port's default chain is held by %s, which is older", h)
		default:
			continue
		}
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
		h, why := holders[n], "which is older"
		if h.shared >= 0 && e.gw.sharedTLS[h.shared].gw == s.gw {
			why = "which comes first in the Gateway"
		}
		held[j] = fmt.Sprintf("%s is held by %s, %s", describeName(n), h, why)
	}
	msg := fmt.Sprintf("listener %s: on the https port, %s", s.l.Name, strings.Join(held, "; "))
	if e.gw.sharedTaken[i] {
		msg += "; its other names are served"
	}
	t.problems.add(gatewayRef(s.gw.Namespace, s.gw.Name), TLSConflict, "%s", msg)
	e.gw.httpsLost = append(e.gw.httpsLost, lostListener{gw: s.gw, l: s.l, msg: msg})
	return gw, gwPass
}

func sameGatewayPass(a, b envoy.PassthroughChain) bool {
	return samePassChain(a, b) && a.Secret == b.Secret && slices.Equal(a.Weighted, b.Weighted)
}
