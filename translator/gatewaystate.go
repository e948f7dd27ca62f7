package translator

import (
	"slices"

	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/fairwayhq/fairway/translator/gatewayapi"
)

// gatewayState is the Gateway API's part of the engine: its objects, the
// front end's last Model, the ports that claim listeners, and the
// resources built from them, which it alone puts and removes.
type gatewayState struct {
	objs gatewayObjects
	// resolver keeps the front end's per-route work between changes, and
	// services are the Services changed since it last resolved, which are
	// all its kept routes' reads can have seen change (nil: too many to
	// list, check every read).
	resolver *gatewayapi.Resolver
	services map[types.NamespacedName]bool
	// vhosts are the virtual hosts of the Gateway ports' route
	// configurations as the last build made them, and reads counts the
	// changes of the Services and Secrets building them reads
	// (gatewayvhosts.go).
	vhosts map[vhostKey]*builtVHost
	reads  uint64
	model  *gatewayapi.Model
	ports  []*gatewayPort
	// shared are the rules the Ingress http listener serves, by host
	// (gatewayshared.go), and sharedSince the oldest Gateway with such a
	// listener, which dates the http claim beside fairway's IngressClasses.
	shared      map[string][]listenerRule
	sharedSince *gatewayv1.Gateway
	// sharedTLS are the HTTPS and TLS listeners the Ingress https
	// listener serves (gatewayhttps.go), sharedTaken which of them keep
	// a chain there (by index; tlsnames.go), httpsLost those that lost a
	// name, and sharedTLSSince the oldest Gateway with such a listener,
	// which dates the https claim beside the Ingresses with TLS.
	sharedTLS      []*sharedListener
	sharedTaken    []bool
	httpsLost      []lostListener
	sharedTLSSince *gatewayv1.Gateway
	// own are the resources of the Gateways' own ports, ownClusters
	// their clusters and ownAPIs their names for proxyless clients: with
	// the shared listeners' that keep a chain, what publishGatewayBuild
	// publishes.
	own         [NumKinds]map[string]*Resource
	ownClusters []clusterUse
	ownAPIs     []gatewayAPI
	// base is the status as the Gateway build leaves it, before the https
	// listener's outcome (finishGatewayStatus).
	base gatewayapi.Status
	// sharedOn are the listeners the shared rules were taken from.
	sharedOn []*gatewayapi.Listener
	// failed are the Gateways the pools gave no address, and why.
	failed map[*gatewayv1.Gateway]addressFailed
	// built are the resources it put, by kind and name.
	built    [NumKinds]map[string]*Resource
	clusters []clusterUse
	// apis are the names proxyless clients may dial for the Gateways'
	// own listeners, and apiBuilt the API listeners built for the names
	// asked for (gatewayproxyless.go).
	apis     map[string]*gatewayAPI
	apiBuilt map[string]*Resource
	status   gatewayapi.Status
}

func newGatewayState() gatewayState {
	g := gatewayState{objs: newGatewayObjects(), resolver: gatewayapi.NewResolver(), model: &gatewayapi.Model{}, apiBuilt: map[string]*Resource{}, services: map[types.NamespacedName]bool{}}
	for k := range g.built {
		g.built[k] = map[string]*Resource{}
	}
	return g
}

// changedServicesKept is how many changed Services are listed for the
// next resolve; past it, as a Sync of a whole cluster brings, the
// resolve checks every read instead.
const changedServicesKept = 4096

// serviceChanged notes a Service change for the next resolve. While
// there is no Gateway the engine does not resolve, so nothing is listed:
// the next resolve checks every read.
func (g *gatewayState) serviceChanged(k nsName) {
	if g.services == nil {
		return
	}
	if len(g.services) >= changedServicesKept || len(g.objs.gateways) == 0 {
		g.services = nil
		return
	}
	g.services[types.NamespacedName{Namespace: k.namespace, Name: k.name}] = true
}

// takeChangedServices hands the changed Services to a resolve and starts
// the next list.
func (g *gatewayState) takeChangedServices() map[types.NamespacedName]bool {
	out := g.services
	g.services = map[types.NamespacedName]bool{}
	return out
}

// portsKey is what the claims read of the Gateway ports: when it is
// unchanged, a route change leaves the claims alone.
func portsKey(ports []*gatewayPort) []portKeyOf {
	out := make([]portKeyOf, len(ports))
	for i, gp := range ports {
		out[i] = portKeyOf{gw: gp.gw, port: gp.port, udp: gp.udp}
	}
	return out
}

type portKeyOf struct {
	gw   *gatewayv1.Gateway
	port int32
	udp  bool
}

// refreshGateways resolves the Gateway API objects again. It reports
// whether the ports changed, which the claims must then settle anew.
func (e *Engine) refreshGateways() bool {
	before := portsKey(e.gw.ports)
	e.gw.model = e.resolveGateways()
	next := e.gatewayPorts(e.gw.model)
	sinceMoved := e.refreshShared() // the http claim's date
	// The claims and addresses of unchanged ports carry over.
	old := map[portKeyOf]*gatewayPort{}
	for _, gp := range e.gw.ports {
		old[portKeyOf{gp.gw, gp.port, gp.udp}] = gp
	}
	for _, gp := range next {
		if o := old[portKeyOf{gp.gw, gp.port, gp.udp}]; o != nil {
			gp.address, gp.claim = o.address, o.claim
		}
	}
	e.gw.ports = next
	return sinceMoved || !slices.Equal(before, portsKey(next))
}

// publishGateway replaces the resources the Gateways built with next,
// putting only those whose bytes changed, and moves the cluster uses.
func (e *Engine) publishGateway(next [NumKinds]map[string]*Resource, clusters []clusterUse) {
	for k := range next {
		for name := range e.gw.built[k] {
			if next[k][name] == nil {
				e.envoy.remove(Kind(k), name)
			}
		}
		for name, r := range next[k] {
			prev := e.gw.built[k][name]
			r = sameOr(prev, r)
			next[k][name] = r
			if r != prev {
				e.envoy.put(Kind(k), r)
			}
		}
	}
	e.gw.built = next
	e.clusters.release(e.gw.clusters)
	e.clusters.acquire(clusters)
	e.gw.clusters = clusters
}
