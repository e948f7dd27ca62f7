package envoy

import (
	"net/netip"

	xdscorev3 "github.com/cncf/xds/go/xds/core/v3"
	xdsmatcherv3 "github.com/cncf/xds/go/xds/type/matcher/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	udpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/udp/udp_proxy/v3"
	networkinputsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/matching/common_inputs/network/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Extension names of the source range matchers.
const (
	sourceIPInput  = "envoy.matching.inputs.source_ip"
	ipRangeMatcher = "envoy.matching.custom_matchers.ip_range_matcher"
)

// cidrRanges turns canonical CIDRs ("10.0.0.0/8") into Envoy's ranges.
// The translator hands over only masked, parsed prefixes, so a value
// that does not parse is a bug there: it panics rather than opening the
// listener.
func cidrRanges(cidrs []string) []*corev3.CidrRange {
	out := make([]*corev3.CidrRange, len(cidrs))
	for i, c := range cidrs {
		out[i] = cidrRange(netip.MustParsePrefix(c))
	}
	return out
}

// cidrRange is p as Envoy writes a range: the address and its length.
func cidrRange(p netip.Prefix) *corev3.CidrRange {
	return &corev3.CidrRange{AddressPrefix: p.Addr().String(), PrefixLen: wrapperspb.UInt32(uint32(p.Bits()))}
}

// sourceChainMatch restricts a TCP listener's one filter chain to the
// allowed sources. With no other chain, a connection from elsewhere
// matches none and Envoy closes it before any filter runs, so no
// upstream connection is made (a network RBAC filter in front of
// tcp_proxy would let tcp_proxy connect first: Envoy #9023). The match
// runs after the listener filters, so behind the fleet's PROXY protocol
// it sees the client the header names. No ranges: any source.
func sourceChainMatch(cidrs []string) *listenerv3.FilterChainMatch {
	if len(cidrs) == 0 {
		return nil
	}
	return &listenerv3.FilterChainMatch{SourcePrefixRanges: cidrRanges(cidrs)}
}

// udpRouteMatcher routes a datagram to cluster: every datagram with no
// ranges, else only those whose source address is in one of them. A
// datagram from elsewhere matches nothing, and with no on_no_match the
// udp_proxy drops it (counted as no route) and opens no session.
func udpRouteMatcher(cluster string, cidrs []string) *xdsmatcherv3.Matcher {
	route := &xdsmatcherv3.Matcher_OnMatch{OnMatch: &xdsmatcherv3.Matcher_OnMatch_Action{
		Action: &xdscorev3.TypedExtensionConfig{
			Name:        udpProxyRoute,
			TypedConfig: mustAny(&udpproxyv3.Route{Cluster: cluster}),
		},
	}}
	if len(cidrs) == 0 {
		return &xdsmatcherv3.Matcher{OnNoMatch: route}
	}
	ranges := make([]*xdscorev3.CidrRange, len(cidrs))
	for i, r := range cidrRanges(cidrs) {
		ranges[i] = &xdscorev3.CidrRange{AddressPrefix: r.AddressPrefix, PrefixLen: r.PrefixLen}
	}
	ipMatcher := &xdsmatcherv3.IPMatcher{RangeMatchers: []*xdsmatcherv3.IPMatcher_IPRangeMatcher{{Ranges: ranges, OnMatch: route}}}
	return &xdsmatcherv3.Matcher{MatcherType: &xdsmatcherv3.Matcher_MatcherTree_{MatcherTree: &xdsmatcherv3.Matcher_MatcherTree{
		Input: &xdscorev3.TypedExtensionConfig{Name: sourceIPInput, TypedConfig: mustAny(&networkinputsv3.SourceIPInput{})},
		TreeType: &xdsmatcherv3.Matcher_MatcherTree_CustomMatch{CustomMatch: &xdscorev3.TypedExtensionConfig{
			Name: ipRangeMatcher, TypedConfig: mustAny(ipMatcher),
		}},
	}}}
}
