package translator

import (
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

// composeHTTPSTables rebuilds the tables of the https listener's chains
// from the covered virtual hosts (states, in host order): each virtual
// host goes to the table of the chain its name picks. Only the tables
// whose virtual hosts changed are composed again.
func (e *Engine) composeHTTPSTables(order []string, states []*hostState) {
	c := e.tls.config
	if c == nil || e.envoy.Get(KindListener, envoy.HTTPSListenerName) == nil {
		e.dropHTTPSTables(nil)
		return
	}
	members := map[string][]*Resource{}
	for i, st := range states {
		if host := order[i]; st != nil && st.vhost != nil && c.covers(host) {
			chain := c.chainOf(host)
			members[chain] = append(members[chain], st.vhost)
		}
	}
	under := c.hostsUnder()
	live := make(map[string]bool, len(e.tls.chains))
	for _, ch := range e.tls.chains {
		host := ""
		if len(ch.ServerNames) > 0 {
			host = ch.ServerNames[0]
		}
		live[host] = true
		t := e.https[host]
		if t == nil {
			t = &chainTable{table: routeTable{name: ch.RouteConfig}}
			e.https[host] = t
		}
		var parts []*Resource
		if host != "" && (e.hosts[host] == nil || e.hosts[host].vhost == nil) {
			parts = append(parts, t.land(host, e.landing(host)))
		}
		parts = append(parts, members[host]...)
		if m := t.misdirected(e.misdirectedDomains(host, under)); m != nil {
			parts = append(parts, m)
		}
		if t.table.res != nil && slices.Equal(parts, t.table.parts) && e.envoy.Get(KindRoute, ch.RouteConfig) == t.table.res {
			continue
		}
		e.envoy.put(KindRoute, t.table.compose(parts))
	}
	e.dropHTTPSTables(live)
}

// dropHTTPSTables removes the tables of the chains not live.
func (e *Engine) dropHTTPSTables(live map[string]bool) {
	for host, t := range e.https {
		if !live[host] {
			e.envoy.remove(KindRoute, t.table.name)
			delete(e.https, host)
		}
	}
}

// misdirectedDomains are the names that a chain's table answers with 421:
// for the default chain every TLS host (its catch-all would take them);
// for a wildcard host the TLS hosts under it, and every other name; for an
// exact host every other name.
func (e *Engine) misdirectedDomains(host string, under map[string][]string) []string {
	switch {
	case host == "":
		return slices.Sorted(maps.Keys(e.tls.config.hostSecret))
	case isWildcard(host):
		return append(slices.Clip(under[host]), "*")
	}
	return []string{"*"}
}

// misdirected is the table's 421 virtual host over domains, encoded again
// only when they change; nil for none.
func (t *chainTable) misdirected(domains []string) *Resource {
	if len(domains) == 0 {
		t.misdirect, t.domains = nil, nil
		return nil
	}
	if t.misdirect == nil || !slices.Equal(domains, t.domains) {
		t.misdirect = newResource(envoy.MisdirectedVirtualHost, envoy.AppendMisdirectedVirtualHost(nil, domains), nil)
		t.domains = domains
	}
	return t.misdirect
}

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
