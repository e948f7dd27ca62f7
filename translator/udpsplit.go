package translator

import (
	"cmp"
	"math"
	"slices"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/translator/policy"
)

// udpSplit is a UDPRoute's weighted backends as one cluster. Envoy's UDP
// proxy sends a listener's datagrams to a single cluster, so the split is
// that cluster's localities, one per backend, weighted by its share
// (envoy.SplitCluster). A clusterKey holds it by pointer: it is rare, and
// the key stays small and comparable.
type udpSplit struct {
	namespace, route string
	// shares are sorted by Service port, one each: the same port named
	// twice adds its weights.
	shares []splitShare
}

// splitShare is one backend's UDP Service port and its weight.
type splitShare struct {
	svc    nsName
	port   int32
	weight uint32
}

func (s splitShare) cluster() string {
	return envoy.ClusterName(s.svc.namespace, s.svc.name, s.port, true)
}

// newUDPSplit gathers a route's backends that take a share; nil when
// fewer than two Service ports do, which the plain cluster serves.
func newUDPSplit(route nsName, backends []policy.Backend) *udpSplit {
	var shares []splitShare
	var total uint64
	for _, be := range backends {
		if be.Weight > 0 {
			shares = append(shares, splitShare{svc: nsName{be.Namespace, be.Name}, port: be.Port, weight: uint32(be.Weight)})
			total += uint64(be.Weight)
		}
	}
	fitWeights(shares, total)
	slices.SortFunc(shares, func(a, b splitShare) int {
		return cmp.Or(cmp.Compare(a.svc.namespace, b.svc.namespace), cmp.Compare(a.svc.name, b.svc.name), cmp.Compare(a.port, b.port))
	})
	merged := shares[:0]
	for _, s := range shares {
		if n := len(merged); n > 0 && merged[n-1].svc == s.svc && merged[n-1].port == s.port {
			merged[n-1].weight += s.weight
			continue
		}
		merged = append(merged, s)
	}
	if len(merged) < 2 {
		return nil
	}
	return &udpSplit{namespace: route.namespace, route: route.name, shares: merged}
}

func (s *udpSplit) name() string {
	shares := make([]envoy.Share, len(s.shares))
	for i, sh := range s.shares {
		shares[i] = envoy.Share{Cluster: sh.cluster(), Weight: sh.weight}
	}
	return envoy.SplitClusterName(s.namespace, s.route, shares)
}

// services are the Services whose endpoints the split is made of: a
// change to any of them re-encodes its assignment.
func (s *udpSplit) services() []nsName {
	out := make([]nsName, 0, len(s.shares))
	for _, sh := range s.shares {
		if !slices.Contains(out, sh.svc) {
			out = append(out, sh.svc)
		}
	}
	return out
}

// splitLocalities are a split's localities: each backend's endpoints
// (pods or nodes, as its own cluster's) as one locality named by the
// backend's plain cluster and weighted by its share. A backend with no
// usable endpoint is left out and takes no share: the others take all
// the sessions, rather than a share of them being dropped.
func (t *translation) splitLocalities(s *udpSplit) []envoy.Locality {
	var out []envoy.Locality
	for _, sh := range s.shares {
		eps := t.portEndpoints(clusterKey{namespace: sh.svc.namespace, service: sh.svc.name, port: sh.port, udp: true})
		if len(eps) == 0 {
			continue
		}
		loc := envoy.Locality{SubZone: sh.cluster(), Weight: sh.weight}
		for _, z := range byZone(eps) {
			loc.Endpoints = append(loc.Endpoints, z.Endpoints...)
		}
		out = append(out, loc)
	}
	return out
}

// fitWeights scales the shares down, in proportion, when their sum would
// pass Envoy's limit for a priority's locality weights (2³²−1). The API
// server's bounds (16 backends of at most 1,000,000) never get near it;
// a file source's weights are not checked by one.
func fitWeights(shares []splitShare, total uint64) {
	if total <= math.MaxUint32 {
		return
	}
	for i := range shares {
		shares[i].weight = uint32(max(1, uint64(shares[i].weight)*(math.MaxUint32/2)/total))
	}
}
