package translator

import (
	"fmt"
	"sync"

	"github.com/fairwayhq/fairway/envoy"
)

// The share of a Gateway API rule's requests whose backends do not
// resolve is sent to envoy.UnresolvedBackendCluster. The fleet has no
// such cluster, and Envoy answers that share 500 (the route's
// cluster_not_found_response_code). A proxyless client must not be told
// of a cluster that is not there: grpc-go waits its resource timer (15 s)
// for a named cluster no response holds before it routes anything of the
// table. So the proxyless set holds the cluster, with no endpoints, while
// a published API listener names it: grpc-go then fails the calls of
// that share at once (UNAVAILABLE), and routes the rest.

// unresolvedResources are the proxyless cluster of the unresolved share
// and its empty endpoints; read-only.
var unresolvedResources = sync.OnceValues(func() ([2]*Resource, error) {
	name := envoy.UnresolvedBackendCluster
	cluster, err := encodeCluster(name)
	if err != nil {
		return [2]*Resource{}, err
	}
	load, err := encode(name, envoy.ClusterLoadAssignment(name, nil), nil)
	if err != nil {
		return [2]*Resource{}, fmt.Errorf("the unresolved share's endpoints: %w", err)
	}
	return [2]*Resource{cluster, load}, nil
})

// syncUnresolved puts the unresolved share's cluster in the proxyless set
// while an API listener references it, and removes it when none does.
func (e *Engine) syncUnresolved() {
	ref := Ref{Kind: KindCluster, Name: envoy.UnresolvedBackendCluster}
	want, have := e.grpc.refs[ref] > 0, e.grpc.Get(KindCluster, ref.Name) != nil
	switch {
	case want && !have:
		rs, err := unresolvedResources()
		if err != nil {
			panic(fmt.Sprintf("encode the unresolved share's cluster: %v", err)) // fixed input: a failure is a bug
		}
		e.grpc.put(KindEndpoint, rs[1])
		e.grpc.put(KindCluster, rs[0])
	case !want && have:
		e.grpc.remove(KindCluster, ref.Name)
		e.grpc.remove(KindEndpoint, ref.Name)
	}
}
