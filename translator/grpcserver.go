package translator

import (
	"maps"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/fairwayhq/fairway/envoy"
)

// GRPCAppProtocol marks a Service port whose pods are xDS-enabled gRPC
// servers: each gets a server listener for its own address.
const GRPCAppProtocol = "grpc"

// grpcServerListeners builds the server listeners of a Service port with
// appProtocol grpc, one per pod address:port, sorted by name. Every
// endpoint counts, ready or not: an xDS gRPC server serves nothing until
// it has its listener, so a pod whose readiness hangs on its gRPC port
// would otherwise never become ready. A listener's name fixes its whole
// content, so one already published is reused, not encoded again: every
// endpoint change of the Service comes through here.
func (t *translation) grpcServerListeners(svc *corev1.Service, sp *corev1.ServicePort, published *ResourceSet) ([]*Resource, error) {
	if sp.AppProtocol == nil || *sp.AppProtocol != GRPCAppProtocol {
		return nil, nil
	}
	addrs := map[string]netip.AddrPort{} // by listener name: a pod in two slices counts once
	for _, es := range t.idx.slices[nsName{svc.Namespace, svc.Name}] {
		if es.AddressType != discoveryv1.AddressTypeIPv4 && es.AddressType != discoveryv1.AddressTypeIPv6 {
			continue
		}
		port, ok := slicePort(es, sp)
		if !ok {
			continue
		}
		for _, ep := range es.Endpoints {
			if len(ep.Addresses) == 0 {
				continue
			}
			addr, err := netip.ParseAddr(ep.Addresses[0])
			if err != nil { // podEndpoints reports it
				continue
			}
			ap := netip.AddrPortFrom(addr.Unmap(), uint16(port))
			addrs[envoy.GRPCServerListenerName(ap.Addr().String(), port)] = ap
		}
	}
	out := make([]*Resource, 0, len(addrs))
	for _, name := range slices.Sorted(maps.Keys(addrs)) {
		if r := published.Get(KindListener, name); r != nil {
			out = append(out, r)
			continue
		}
		ap := addrs[name]
		r, err := encode(name, envoy.GRPCServerListener(name, ap.Addr().String(), uint32(ap.Port())), nil)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// serverListeners counts, per server listener, the Service ports that
// want it: one pod can back several Services, and its listener goes only
// when the last of them lets go.
type serverListeners map[string]int

// swap moves one Service's claims from old to next, publishing a listener
// on its first claim and removing it after its last.
func (c serverListeners) swap(set *ResourceSet, old []string, next []*Resource) {
	for _, r := range next {
		if c[r.Name]++; c[r.Name] == 1 {
			set.put(KindListener, r)
		}
	}
	for _, name := range old {
		if c[name]--; c[name] == 0 {
			delete(c, name)
			set.remove(KindListener, name)
		}
	}
}
