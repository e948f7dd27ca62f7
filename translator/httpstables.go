package translator

import (
	"bytes"
	"maps"
	"slices"
	"strings"

	"github.com/fairwayhq/fairway/envoy"
)

// The https listener has a filter chain per TLS host, each routed by its
// own route configuration (https/<host>), and the default chain routed by
// the https table; a TLS host's Ingress change then re-sends its own small
// table, not every host's. A table answers exactly what the one table of
// every covered host used to answer for the names whose SNI picks its
// chain, and 421 Misdirected Request for a Host that SNI would have sent
// to another chain: a client that reused a connection for another host
// its certificate covers (HTTP/2 coalescing) retries on a connection of
// its own, and one chain never serves another host's routes.
//
// Which chain a name's SNI picks is Envoy's server_names rule: the exact
// name, else the longest "*.<suffix>" of it, at any depth, else the
// default chain.

// chainTable is one chain's route configuration and the virtual hosts
// made for it alone.
type chainTable struct {
	table routeTable
	// landing is the virtual host that a TLS host without one of its own
	// answers with: the one its name fell to in the single table (a
	// wildcard's, the catch-all's), renamed to the host; from is its
	// source, so it is renamed again only when that changes.
	landing, from *Resource
	// misdirect answers 421 on the domains other chains serve.
	misdirect *Resource
	domains   []string
}

// chainOf is the TLS host whose chain a name's SNI picks ("" for the
// default chain). For a wildcard virtual host it is the chain of the names
// it serves, which is the same walk.
func (c *tlsConfig) chainOf(host string) string {
	if host == "" {
		return ""
	}
	if _, ok := c.hostSecret[host]; ok {
		return host
	}
	for rest := host; ; {
		_, after, ok := strings.Cut(rest, ".")
		if !ok {
			return ""
		}
		if _, ok := c.hostSecret["*."+after]; ok {
			return "*." + after
		}
		rest = after
	}
}

// hostsUnder lists, per wildcard TLS host, the other TLS hosts its names
// include: SNI picks their own chains for them, so its table answers
// their names with 421. Sorted.
func (c *tlsConfig) hostsUnder() map[string][]string {
	under := map[string][]string{}
	for host := range c.hostSecret {
		for rest := host; ; {
			_, after, ok := strings.Cut(rest, ".")
			if !ok {
				break
			}
			if w := "*." + after; w != host {
				if _, ok := c.hostSecret[w]; ok {
					under[w] = append(under[w], host)
				}
			}
			rest = after
		}
	}
	for _, hosts := range under {
		slices.Sort(hosts)
	}
	return under
}

// composeHTTPSTables brings the tables of the https listener's chains up
// to date after the virtual hosts of changed (hosts re-encoded, added or
// removed) moved: each virtual host with a certificate sits in the table
// of the chain its name picks. Only the tables those hosts reach are
// composed again, so an Ingress change costs its own host's table; all of
// them when the chains themselves changed (e.httpsStale).
func (e *Engine) composeHTTPSTables(changed []string) {
	c := e.tls.config
	if c == nil || e.envoy.Get(KindListener, envoy.HTTPSListenerName) == nil {
		e.dropHTTPSTables(nil)
		return
	}
	if e.httpsStale || len(e.https) == 0 {
		e.rebuildHTTPSTables()
		return
	}
	dirty := map[string]bool{}
	for _, host := range changed {
		dirty[c.chainOf(host)] = true
		if host == "" || isWildcard(host) { // what hosts without a virtual host land on
			for chain := range e.landed {
				dirty[chain] = true
			}
		}
	}
	var shared []string // wildcard and default chains: many hosts each
	for chain := range dirty {
		if t := e.https[chain]; t != nil && chain != "" && !isWildcard(chain) {
			e.composeChain(chain, t, e.ownVirtualHost(chain))
		} else if t != nil {
			shared = append(shared, chain)
		}
	}
	if len(shared) > 0 {
		members := e.httpsMembers(shared)
		for _, chain := range shared {
			e.composeChain(chain, e.https[chain], members[chain])
		}
	}
}

// rebuildHTTPSTables composes the table of every chain, and drops those of
// chains gone.
func (e *Engine) rebuildHTTPSTables() {
	e.httpsStale = false
	if len(e.https) == 0 { // the first build: ten thousand tables, no regrowth
		e.https = make(map[string]*chainTable, len(e.tls.chains))
	}
	under := e.tls.config.hostsUnder()
	live := make(map[string]bool, len(e.tls.chains))
	var shared []string
	for _, ch := range e.tls.chains {
		host := chainHost(ch)
		live[host] = true
		t := e.https[host]
		if t == nil {
			t = &chainTable{table: routeTable{name: ch.RouteConfig}}
			e.https[host] = t
		}
		t.misdirected(e.misdirectedDomains(host, under))
		if tail := chainTail(ch); !bytes.Equal(tail, t.table.tail) {
			t.table.tail, t.table.res = tail, nil // headers changed: compose afresh
		}
		if host == "" || isWildcard(host) {
			shared = append(shared, host)
		} else {
			e.composeChain(host, t, e.ownVirtualHost(host))
		}
	}
	members := e.httpsMembers(shared)
	for _, host := range shared {
		e.composeChain(host, e.https[host], members[host])
	}
	e.dropHTTPSTables(live)
}

func chainHost(ch envoy.TLSChain) string {
	if len(ch.ServerNames) == 0 {
		return ""
	}
	return ch.ServerNames[0]
}

// ownVirtualHost is an exact TLS host's table's one member: its own
// virtual host, if it has one.
func (e *Engine) ownVirtualHost(host string) []*Resource {
	if st := e.hosts[host]; st != nil && st.vhost != nil {
		return []*Resource{st.vhost}
	}
	return nil
}

// httpsMembers are, for each of the chains, the covered virtual hosts
// whose names pick it, in host order.
func (e *Engine) httpsMembers(chains []string) map[string][]*Resource {
	want := make(map[string]bool, len(chains))
	for _, ch := range chains {
		want[ch] = true
	}
	c := e.tls.config
	members := map[string][]*Resource{}
	states := e.hostTable()
	for i, st := range states {
		host := e.hostOrder[i]
		if st == nil || st.vhost == nil || !c.covers(host) {
			continue
		}
		if chain := c.chainOf(host); want[chain] {
			members[chain] = append(members[chain], st.vhost)
		}
	}
	return members
}

// composeChain puts a chain's table if its parts changed: the landing
// virtual host of a TLS host without one of its own, the members, the 421
// virtual host.
func (e *Engine) composeChain(host string, t *chainTable, members []*Resource) {
	var parts []*Resource
	delete(e.landed, host)
	if host != "" && (e.hosts[host] == nil || e.hosts[host].vhost == nil) {
		parts = append(parts, t.land(host, e.landing(host)))
		e.landed[host] = true
	}
	parts = append(parts, members...)
	if t.misdirect != nil {
		parts = append(parts, t.misdirect)
	}
	if t.table.res != nil && slices.Equal(parts, t.table.parts) && e.envoy.Get(KindRoute, t.table.name) == t.table.res {
		return
	}
	e.envoy.put(KindRoute, t.table.compose(parts))
}

// dropHTTPSTables removes the tables of the chains not live.
func (e *Engine) dropHTTPSTables(live map[string]bool) {
	for host, t := range e.https {
		if !live[host] {
			e.envoy.remove(KindRoute, t.table.name)
			delete(e.https, host)
			delete(e.landed, host)
		}
	}
}

// misdirectedDomains are the names that a chain's table answers with 421:
// for the default chain every TLS host (its catch-all would take them);
// for a wildcard host the TLS hosts under it, and every other name; for an
// exact host every other name. Passed-through hosts count as TLS hosts
// here: their SNI picks a chain of their own too.
func (e *Engine) misdirectedDomains(host string, under map[string][]string) []string {
	switch {
	case host == "":
		return e.tls.withPassthrough(slices.Sorted(maps.Keys(e.tls.config.hostSecret)), "")
	case isWildcard(host):
		return append(e.tls.withPassthrough(slices.Clip(under[host]), host), "*")
	}
	return anyOtherName
}

// anyOtherName is an exact TLS host's misdirected domains: every name but
// its own, which its own virtual host takes first. Shared; read-only.
var anyOtherName = []string{"*"}

// misdirected is the table's 421 virtual host over domains, encoded again
// only when they change; nil for none.
func (t *chainTable) misdirected(domains []string) *Resource {
	if len(domains) == 0 {
		t.misdirect, t.domains = nil, nil
		return nil
	}
	switch {
	case len(domains) == 1 && domains[0] == "*":
		t.misdirect, t.domains = misdirectAny, nil
	case t.misdirect == nil || t.misdirect == misdirectAny || !slices.Equal(domains, t.domains):
		t.misdirect = newResource(envoy.MisdirectedVirtualHost, envoy.AppendMisdirectedVirtualHost(nil, domains), nil)
		t.domains = domains
	}
	return t.misdirect
}

// misdirectAny is the 421 virtual host of every exact TLS host's table,
// which takes any other name: one encoding for ten thousand tables.
var misdirectAny = newResource(envoy.MisdirectedVirtualHost, envoy.AppendMisdirectedVirtualHost(nil, []string{"*"}), nil)

// landing finds the virtual host that a name without one of its own fell
// to in the single https table: the longest covered wildcard over it,
// else the catch-all; nil when there is none (the name got 404).
func (e *Engine) landing(host string) *Resource {
	c := e.tls.config
	for rest := host; ; {
		_, after, ok := strings.Cut(rest, ".")
		if !ok {
			break
		}
		if w := "*." + after; w != host && c.covers(w) {
			if st := e.hosts[w]; st != nil && st.vhost != nil {
				return st.vhost
			}
		}
		rest = after
	}
	if st := e.hosts[""]; st != nil {
		return st.vhost
	}
	return nil
}

// land is the host's landing virtual host: from renamed to the host alone,
// or one without routes (Envoy's 404) when there is nothing to land on.
func (t *chainTable) land(host string, from *Resource) *Resource {
	if t.landing != nil && t.from == from {
		return t.landing
	}
	t.from = from
	if from == nil {
		t.landing = newResource(host, envoy.AppendVirtualHost(nil, host, []string{host}, nil), nil)
	} else {
		t.landing = newResource(host, envoy.RenameVirtualHost(from.Bytes, host, host), from.Refs)
	}
	return t.landing
}
