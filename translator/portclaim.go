package translator

import (
	"cmp"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// portClaim is one request for an (address, port, protocol): a
// LoadBalancer Service port, or the Ingress http or https listener.
type portClaim struct {
	// address is a Service's own address from a pool; empty for the
	// fleet's addresses (the Ingress listeners, and every Service without
	// a pool). A Service's own address and the fleet's wildcard on one
	// port do not claim against each other: the kernel sends a
	// connection to the most specific bound socket (see the README).
	address  string
	port     int32
	protocol corev1.Protocol
	// since dates the claim: the claiming object's metadata. The http
	// listener is dated by fairway's oldest IngressClass, the https one by
	// the oldest Ingress with TLS.
	since *metav1.ObjectMeta
	ref   ObjectRef
	// what names the claim in messages.
	what string
	// seq breaks ties between claims of one object (file input can repeat a
	// port in one Service); lower is earlier in the object.
	seq int
	// heldBy is the winning claim when this one lost; nil when it won.
	heldBy *portClaim
}

func (c *portClaim) won() bool { return c.heldBy == nil }

// settleClaims decides every (address, port, protocol) first come, first
// served: the oldest claim wins and holds it. Newer claims lose and say who holds the
// port. Age is the only criterion, so adding an object never takes a port
// from traffic that already flows; nothing else changes when one loses.
func settleClaims(claims []*portClaim) {
	sorted := slices.Clone(claims)
	slices.SortFunc(sorted, func(a, b *portClaim) int {
		return cmp.Or(
			cmp.Compare(a.address, b.address),
			cmp.Compare(a.port, b.port),
			cmp.Compare(a.protocol, b.protocol),
			compareAge(a.since, b.since),
			cmp.Compare(a.ref.Kind, b.ref.Kind),
			cmp.Compare(a.seq, b.seq),
		)
	})
	var holder *portClaim
	for _, c := range sorted {
		if holder != nil && holder.address == c.address && holder.port == c.port && holder.protocol == c.protocol {
			c.heldBy = holder
			continue
		}
		holder = c
	}
}

// conflictMessage says why c lost, naming the holder.
func (c *portClaim) conflictMessage() string {
	where := ""
	if c.address != "" {
		where = " on " + c.address
	}
	return fmt.Sprintf("%s: port %d/%s%s is already held by %s, which is older", c.what, c.port, c.protocol, where, c.heldBy.holderName())
}

func (c *portClaim) holderName() string {
	if c.ref.Kind == "Service" {
		return fmt.Sprintf("Service %s (%s)", c.ref.NamespacedName(), c.what)
	}
	return fmt.Sprintf("%s (since %s %s)", c.what, c.ref.Kind, c.ref.NamespacedName())
}
