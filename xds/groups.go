// Package xds publishes the translator's results over ADS: it versions and
// validates snapshots, serves them with go-control-plane's server to Envoys
// (state of the world and delta) and to proxyless gRPC clients, tracks what
// every node has ACKed or NACKed, and exposes that in metrics and the admin
// endpoints.
package xds

import (
	"fmt"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// GroupBy says how nodes are grouped into snapshots.
type GroupBy string

const (
	// GroupByNone gives every Envoy the fleet snapshot.
	GroupByNone GroupBy = ""
	// GroupByCluster keys the snapshot by node.cluster, so that several
	// fleets can later get different configs.
	GroupByCluster GroupBy = "cluster"
)

// ParseGroupBy reads the --node-group-by flag.
func ParseGroupBy(s string) (GroupBy, error) {
	switch GroupBy(s) {
	case GroupByNone, "none":
		return GroupByNone, nil
	case GroupByCluster:
		return GroupByCluster, nil
	}
	return "", fmt.Errorf("node grouping %q: must be none or cluster", s)
}

// Group names.
const (
	FleetGroup     = "fleet"
	ProxylessGroup = "proxyless"
)

// ProxylessMetadataKey marks a node as a proxyless client in its metadata,
// for xDS clients that do not call themselves gRPC.
const ProxylessMetadataKey = "fairway.dev/proxyless"

// IsProxyless reports whether node is a gRPC client that speaks xDS itself:
// its user agent is gRPC's, or its metadata says so.
func IsProxyless(node *corev3.Node) bool {
	if strings.HasPrefix(node.GetUserAgentName(), "gRPC") {
		return true
	}
	v := node.GetMetadata().GetFields()[ProxylessMetadataKey]
	return v.GetBoolValue() || v.GetStringValue() == "true"
}

// groups maps a node to its snapshot key. It is the caches' NodeHash.
type groups struct{ by GroupBy }

// ID is the node's group: "fleet" or "proxyless", followed by
// "/<node.cluster>" when grouping by cluster.
func (g groups) ID(node *corev3.Node) string {
	base := FleetGroup
	if IsProxyless(node) {
		base = ProxylessGroup
	}
	if g.by == GroupByCluster && node.GetCluster() != "" {
		return base + "/" + node.GetCluster()
	}
	return base
}
