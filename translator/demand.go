package translator

import (
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/fairwayhq/fairway/envoy"
)

// demandState is what proxyless clients asked for, with
// Options.ProxylessOnDemand: the Services and Ingress hosts whose
// gRPC-only resources are built. Without a client the proxyless set then
// holds only the gRPC server listeners, and the cold build costs what it
// costs without proxyless. The engine records names, not subscriptions:
// when to let a name go is the serving side's decision (Release).
type demandState struct {
	names    map[string]bool // every name asked for that names something
	services map[nsName]int  // how many of them name each Service
	hosts    map[string]bool // the Ingress hosts among them
	// implied counts, per Service, the demanded hosts whose API listener
	// routes to one of its clusters: a client that dials the host is
	// sent those clusters next, so they are built as long as it may ask.
	implied map[nsName]int
	// apiServices are the Services each published host API listener
	// names, to move the implied counts when it changes.
	apiServices map[string][]nsName
	// servers are the Services with a port of appProtocol grpc, whose
	// server listeners are built whether asked for or not.
	servers map[nsName]bool
}

func newDemandState() demandState {
	return demandState{names: map[string]bool{}, services: map[nsName]int{}, hosts: map[string]bool{}, implied: map[nsName]int{}, apiServices: map[string][]nsName{}, servers: map[nsName]bool{}}
}

// onDemand reports whether proxyless resources wait to be asked for.
func (e *Engine) onDemand() bool { return e.opts.Proxyless && e.opts.ProxylessOnDemand }

// serviceWanted reports whether a Service's API listeners, clusters and
// endpoint assignments are built.
func (e *Engine) serviceWanted(k nsName) bool {
	return !e.opts.ProxylessOnDemand || e.demand.services[k] > 0 || e.demand.implied[k] > 0
}

// hostWanted reports whether an Ingress host's API listener is built.
func (e *Engine) hostWanted(host string) bool {
	return !e.opts.ProxylessOnDemand || e.demand.hosts[host]
}

// Demand records that proxyless clients ask for names: a Service's target
// (ProxylessTargets), a cluster or endpoint assignment name, or an Ingress
// host. A name for an object that does not exist yet is kept, so that the
// object is built when it appears. It reports whether the next Output has
// anything to build; without ProxylessOnDemand everything is built anyway
// and it does nothing.
func (e *Engine) Demand(names []string) bool {
	return e.setDemand(names, true)
}

// Release forgets names Demand recorded: once no client asks for them,
// their resources go at the next Output (unless another demanded name
// still needs them). It reports whether the next Output has anything to
// remove.
func (e *Engine) Release(names []string) bool {
	return e.setDemand(names, false)
}

func (e *Engine) setDemand(names []string, on bool) bool {
	if !e.onDemand() {
		return false
	}
	changed := false
	for _, name := range names {
		svc, host, ok := parseDemand(name)
		if !ok || e.demand.names[name] == on {
			continue
		}
		if on {
			e.demand.names[name] = true
		} else {
			delete(e.demand.names, name)
		}
		if host != "" {
			if on {
				e.demand.hosts[host] = true
			} else {
				delete(e.demand.hosts, host)
			}
			e.dirty.apiHosts[host] = true
			changed = true
			continue
		}
		was := e.serviceWanted(svc)
		if on {
			e.demand.services[svc]++
		} else if e.demand.services[svc]--; e.demand.services[svc] == 0 {
			delete(e.demand.services, svc)
		}
		if e.serviceWanted(svc) != was {
			e.dirty.services[svc] = true
			changed = true
		}
	}
	return changed
}

// parseDemand tells what a proxyless name is the name of: a Service (by a
// target it dials or the name of one of its plain clusters) or an exact
// Ingress host. Server listener names, wildcards (a host pattern, or the
// "*" of a delta wildcard subscription) and names that are none
// of these are not demands: server listeners are always built (a gRPC
// server must get its listener to serve at all), and nothing else is
// built on demand.
func parseDemand(name string) (svc nsName, host string, ok bool) {
	switch {
	case name == "" || strings.HasPrefix(name, envoy.GRPCServerListenerPrefix) || strings.Contains(name, "*"):
		return nsName{}, "", false
	case strings.Contains(name, "/"):
		return parseClusterDemand(name)
	case strings.Contains(name, ":"):
		if svc, _, ok := parseTargetDemand(name); ok {
			return svc, "", true
		}
		if parseGatewayAPIName(name) { // a Gateway's hostname on its port
			return nsName{}, name, true
		}
		return nsName{}, "", false
	}
	return nsName{}, name, true
}

// parseClusterDemand reads <namespace>/<service>/<port>, the only cluster
// names proxyless clients are sent.
func parseClusterDemand(name string) (nsName, string, bool) {
	parts := strings.Split(name, "/")
	if len(parts) != 3 {
		return nsName{}, "", false
	}
	port, err := strconv.ParseInt(parts[2], 10, 32)
	if err != nil || envoy.ClusterName(parts[0], parts[1], int32(port), false) != name {
		return nsName{}, "", false
	}
	return nsName{parts[0], parts[1]}, "", true
}

// parseTargetDemand reads the three target forms ProxylessTargets makes.
func parseTargetDemand(name string) (nsName, string, bool) {
	i := strings.LastIndexByte(name, ':')
	port, err := strconv.ParseInt(name[i+1:], 10, 32)
	if err != nil {
		return nsName{}, "", false
	}
	short := strings.TrimSuffix(strings.TrimSuffix(name[:i], ".svc."+ClusterDomain), ".svc")
	svc, ns, found := strings.Cut(short, ".")
	targets := ProxylessTargets(ns, svc, int32(port))
	if !found || svc == "" || ns == "" || strings.Contains(ns, ".") || !slices.Contains(targets[:], name) {
		return nsName{}, "", false
	}
	return nsName{ns, svc}, "", true
}

// implyServices moves the implied demand of the Services a host's API
// listener routes to, from what it named before to what api names now;
// a Service that becomes wanted, or stops being wanted, is rebuilt.
func (e *Engine) implyServices(host string, api *Resource) {
	if !e.onDemand() {
		return
	}
	var next []nsName
	if api != nil {
		for _, ref := range api.Refs {
			if k, _, ok := parseClusterDemand(ref.Name); ok && !slices.Contains(next, k) {
				next = append(next, k)
			}
		}
	}
	d := &e.demand
	old := d.apiServices[host]
	for _, k := range next {
		if !e.serviceWanted(k) {
			e.dirty.services[k] = true
		}
		d.implied[k]++
	}
	for _, k := range old {
		if d.implied[k]--; d.implied[k] == 0 {
			delete(d.implied, k)
		}
		if !e.serviceWanted(k) {
			e.dirty.services[k] = true
		}
	}
	if len(next) == 0 {
		delete(d.apiServices, host)
	} else {
		d.apiServices[host] = next
	}
}

// rebuildHostAPIs builds or removes the API listeners of the hosts whose
// demand changed and which this round did not encode anyway.
func (e *Engine) rebuildHostAPIs(encoded []string) {
	for host := range e.dirty.apiHosts {
		if slices.Contains(encoded, host) {
			continue
		}
		st := e.hosts[host]
		if st == nil {
			continue
		}
		st.api = nil
		if t := e.routesOf(host, st); len(t.table) > 0 && st.pass == nil { // a passed-through host has no routes, for gRPC clients either
			st.api = e.hostAPI(host, t)
		}
		e.publishHostAPI(host, st)
	}
}

// noteServers keeps track of the Services that have gRPC server
// listeners to build, when proxyless resources are built on demand.
func (e *Engine) noteServers(k nsName, svc *corev1.Service) {
	if !e.onDemand() {
		return
	}
	if svc != nil && slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool {
		return p.AppProtocol != nil && *p.AppProtocol == GRPCAppProtocol
	}) {
		e.demand.servers[k] = true
	} else {
		delete(e.demand.servers, k)
	}
}
