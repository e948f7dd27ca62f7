package translator

import (
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/translator/gatewayapi"
)

// A Gateway listener with an Envoy listener of its own (an address from
// the pool, or a port other than the fleet's http port) serves its exact
// hostnames to proxyless gRPC clients as <host>:<port>, the Gateway
// listener's port included: with a pool, several Gateways serve one
// hostname on one port at different addresses, and the same hostname is
// also an Ingress host's name (dialled without a port). A proxyless
// client never reaches the Gateway's address, so the port is only part
// of the name: the client dials the pods itself, as for an Ingress host.
// The rules of a Gateway on the fleet's shared http port are the Ingress
// host's, dialled as <host> (virtualhost.go).

// gatewayAPI is one dialable name's route table, as the Gateway build
// leaves it; the API listener is built from it when a client asks.
type gatewayAPI struct {
	name  string
	specs []envoy.RouteSpec // the fleet's
	// plains are the routes' plain clusters, by index, where the fleet's
	// is a variant; nil for none.
	plains map[int]string
	owner  ObjectRef
}

// GatewayAPIName is the name a proxyless client dials for a hostname a
// Gateway serves on a listener of its own: <host>:<port>.
func GatewayAPIName(host string, port int32) string {
	return host + ":" + strconv.FormatInt(int64(port), 10)
}

// parseGatewayAPIName reads <host>:<port> with host an exact DNS name;
// false for anything else.
func parseGatewayAPIName(name string) bool {
	i := strings.LastIndexByte(name, ':')
	if i <= 0 {
		return false
	}
	port, err := strconv.ParseInt(name[i+1:], 10, 32)
	if err != nil || !validPort(int32(port)) || strconv.FormatInt(port, 10) != name[i+1:] {
		return false
	}
	return len(validation.IsDNS1123Subdomain(name[:i])) == 0
}

// noteAPI keeps the route table of an exact domain that a Gateway
// listener serves on its port. The proxyless form is made only for a
// name a client asks for.
func (b *gatewayBuild) noteAPI(owner *gatewayapi.Listener, port int32, domain string, specs []envoy.RouteSpec, plains map[int]string) {
	if port == 0 || domain == "*" || isWildcard(domain) || !b.e.opts.Proxyless {
		return
	}
	b.apis = append(b.apis, gatewayAPI{
		name: GatewayAPIName(domain, port), specs: specs, plains: plains,
		owner: gatewayRef(owner.Gateway.Namespace, owner.Gateway.Name),
	})
}

// listener is the name's API listener: its proxyless table.
func (a *gatewayAPI) listener() *Resource {
	var refs []Ref
	for _, s := range a.specs {
		if s.Cluster != "" {
			refs = append(refs, Ref{Kind: KindCluster, Name: s.Cluster})
		}
	}
	table, refs := proxylessTable(a.specs, refs, a.plains, nil)
	return newResource(a.name, envoy.AppendAPIListener(nil, a.name, table), refs)
}

// setGatewayAPIs keeps the build's dialable names, the first of each (the
// oldest Gateway's) winning, and publishes what changed. A name that is
// also a Service's target (<service>.<namespace>:<port>) is the
// Service's: clients that dial it get the Service.
func (e *Engine) setGatewayAPIs(apis []gatewayAPI, ps *problems) {
	next := make(map[string]*gatewayAPI, len(apis))
	for i := range apis {
		a := &apis[i]
		if held := next[a.name]; held != nil {
			if held.owner != a.owner {
				ps.add(a.owner, ProxylessConflict, "proxyless clients that dial %s get Gateway %s, which is older", a.name, held.owner.NamespacedName())
			}
			continue
		}
		if _, _, ok := parseTargetDemand(a.name); ok {
			ps.add(a.owner, ProxylessConflict, "proxyless clients that dial %s get the Service of that name, not this Gateway", a.name)
			continue
		}
		next[a.name] = a
	}
	old := e.gw.apis
	e.gw.apis = next
	for name := range old {
		if next[name] == nil {
			e.publishGatewayAPI(name)
		}
	}
	for name := range next {
		if e.hostWanted(name) || e.gw.apiBuilt[name] != nil {
			e.publishGatewayAPI(name)
		}
	}
}

// publishGatewayAPI builds, keeps or removes the API listener of one
// dialable Gateway name, as its table and the clients' demand say.
func (e *Engine) publishGatewayAPI(name string) {
	var api *Resource
	if a := e.gw.apis[name]; a != nil && e.hostWanted(name) {
		api = sameOr(e.gw.apiBuilt[name], a.listener())
	}
	prev := e.gw.apiBuilt[name]
	switch {
	case api == prev: // unchanged (or still none): its Services' demand stays as it is
		return
	case api == nil:
		delete(e.gw.apiBuilt, name)
		e.grpc.remove(KindListener, name)
	default:
		e.gw.apiBuilt[name] = api
		e.grpc.put(KindListener, api)
	}
	e.syncUnresolved()
	e.implyServices(name, api)
}

// rebuildGatewayAPIs publishes the Gateway names whose demand changed.
func (e *Engine) rebuildGatewayAPIs() {
	for name := range e.dirty.apiHosts {
		if parseGatewayAPIName(name) {
			e.publishGatewayAPI(name)
		}
	}
}
