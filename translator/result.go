package translator

import (
	"cmp"
	"slices"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/fairwayhq/fairway/translator/gatewayapi"
)

// Result is what the fleet should run, what was wrong, and which objects
// fairway admits. Every slice is sorted, so equal inputs give equal Results.
type Result struct {
	Listeners []*listenerv3.Listener
	Routes    []*routev3.RouteConfiguration
	Clusters  []*clusterv3.Cluster
	Endpoints []*endpointv3.ClusterLoadAssignment
	Secrets   []*tlsv3.Secret
	// Proxyless is for gRPC clients, when Options.Proxyless is set.
	Proxyless Proxyless
	// Problems says what was wrong with which object, one entry per fault.
	Problems []Problem
	// Admitted lists the objects that got traffic: the status writer gives
	// these, and only these, the fleet's address.
	Admitted Admitted
	// Gateway is the status of fairway's Gateway API objects, which the
	// leader's status writer makes theirs.
	Gateway gatewayapi.Status
	// err is a resource that failed validation as it was built (a
	// translator bug); Validate reports it.
	err error
}

// ObjectRef names a Kubernetes object.
type ObjectRef struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// String is "Kind namespace/name", or "Kind name" when cluster-scoped.
func (r ObjectRef) String() string { return r.Kind + " " + r.NamespacedName() }

// NamespacedName is "namespace/name", or "name" when cluster-scoped.
func (r ObjectRef) NamespacedName() string {
	if r.Namespace == "" {
		return r.Name
	}
	return r.Namespace + "/" + r.Name
}

func compareRefs(a, b ObjectRef) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
}

// Admitted lists the served objects that hold at least one listener.
type Admitted struct {
	Ingresses []ObjectRef        `json:"ingresses,omitempty"`
	Services  []ServiceAdmission `json:"services,omitempty"`
}

// ServiceAdmission is a LoadBalancer Service that holds at least one port.
// Ports lists every port with the outcome of its claim, so that the status
// writer can fill status.loadBalancer.ingress[].ports, errors included.
type ServiceAdmission struct {
	ObjectRef `json:",inline"`
	Ports     []PortAdmission `json:"ports"`
	// Addresses are the Service's own addresses when fairway allocates
	// them from Options.LBAddressPools; the status writer publishes
	// exactly these. Empty without a pool: the Service gets the fleet's.
	Addresses []string `json:"addresses,omitempty"`
	// Families are the IP families ("IPv4", "IPv6") the Service listens
	// on without a pool: the status writer gives it only the fleet's
	// addresses of these families. Empty means every family.
	Families []string `json:"families,omitempty"`
}

// PortAdmission is one Service port and whether it got its listener.
type PortAdmission struct {
	Port     int32  `json:"port"`
	Protocol string `json:"protocol"`
	// Listener is the listener serving the port; empty when it lost.
	// A dual-stack Service's port has a listener per address: this is
	// the one of its first address.
	Listener string `json:"listener,omitempty"`
	// Error is a Problem reason when the port got no listener.
	Error string `json:"error,omitempty"`
}

func (a *Admitted) sort() {
	slices.SortFunc(a.Ingresses, compareRefs)
	slices.SortFunc(a.Services, func(x, y ServiceAdmission) int { return compareRefs(x.ObjectRef, y.ObjectRef) })
}
