package envoy

import (
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// The Append* functions write the deterministic protobuf encoding of what
// the constructors of the same name build, without building it: fairway's
// bulk resources (endpoints, virtual hosts, API listeners) are encoded
// straight from their inputs, which skips a dozen allocations per endpoint
// or route and the generic marshaller. Tests hold each encoding
// byte-identical to proto.Marshal of the constructor's message (protobuf-go
// writes fields outside oneofs first, by number, then oneof fields), and
// the translator's tests validate the decoded results.

type wire = protowire.Number

func appendString(b []byte, num wire, s string) []byte {
	return protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), s)
}

func appendVarint(b []byte, num wire, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), v)
}

// appendMessage appends a length-delimited field whose body has size n,
// then the body itself via body.
func appendMessage(b []byte, num wire, n int, body func([]byte) []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return body(protowire.AppendVarint(b, uint64(n)))
}

func sizeString(num wire, s string) int { return protowire.SizeTag(num) + protowire.SizeBytes(len(s)) }
func sizeVarint(num wire, v uint64) int { return protowire.SizeTag(num) + protowire.SizeVarint(v) }
func sizeMessage(num wire, n int) int   { return protowire.SizeTag(num) + protowire.SizeBytes(n) }

// AppendClusterLoadAssignment appends the encoding of
// ClusterLoadAssignment(cluster, localities).
//
// b is grown once to the exact size first: the bytes are kept for as long
// as the assignment is published, and growing by doubling cost five
// allocations per Service in a cold build and kept up to half of each
// buffer unused.
func AppendClusterLoadAssignment(b []byte, cluster string, localities []Locality) []byte {
	n := sizeString(1, cluster)
	for _, loc := range localities {
		if len(loc.Endpoints) > 0 {
			n += sizeMessage(2, sizeLocality(loc))
		}
	}
	b = slices.Grow(b, n)
	b = appendString(b, 1, cluster)
	for _, loc := range localities {
		if len(loc.Endpoints) == 0 {
			continue
		}
		b = appendMessage(b, 2, sizeLocality(loc), func(b []byte) []byte { return appendLocality(b, loc) })
	}
	return b
}

func sizeLocality(loc Locality) int {
	n := sizeMessage(1, zoneSize(loc)) + sizeMessage(3, sizeVarint(1, uint64(loc.weight())))
	for _, ep := range loc.Endpoints {
		n += sizeMessage(2, sizeLbEndpoint(ep))
	}
	return n
}

// zoneSize is the size of Locality{zone: 2, sub_zone: 3}; each only
// when set.
func zoneSize(loc Locality) int {
	n := 0
	if loc.Zone != "" {
		n += sizeString(2, loc.Zone)
	}
	if loc.SubZone != "" {
		n += sizeString(3, loc.SubZone)
	}
	return n
}

func appendLocality(b []byte, loc Locality) []byte {
	b = appendMessage(b, 1, zoneSize(loc), func(b []byte) []byte {
		if loc.Zone != "" {
			b = appendString(b, 2, loc.Zone)
		}
		if loc.SubZone != "" {
			b = appendString(b, 3, loc.SubZone)
		}
		return b
	})
	for _, ep := range loc.Endpoints {
		b = appendMessage(b, 2, sizeLbEndpoint(ep), func(b []byte) []byte { return appendLbEndpoint(b, ep) })
	}
	weight := uint64(loc.weight())
	return appendMessage(b, 3, sizeVarint(1, weight), func(b []byte) []byte { return appendVarint(b, 1, weight) })
}

// LbEndpoint{endpoint: Endpoint{address: Address{socket_address: {address, port_value}},
// health_check_config: {port_value}}}; the check's port only when set.
func socketSize(ep Endpoint) int { return sizeString(2, ep.Address) + sizeVarint(3, uint64(ep.Port)) }

func healthCheckSize(ep Endpoint) int {
	if ep.HealthCheckPort == 0 {
		return 0
	}
	return sizeMessage(2, sizeVarint(1, uint64(ep.HealthCheckPort)))
}

func sizeLbEndpoint(ep Endpoint) int {
	return sizeMessage(1, sizeMessage(1, sizeMessage(1, socketSize(ep)))+healthCheckSize(ep))
}

func appendLbEndpoint(b []byte, ep Endpoint) []byte {
	s := socketSize(ep)
	b = protowire.AppendTag(b, 1, protowire.BytesType) // endpoint
	b = protowire.AppendVarint(b, uint64(sizeMessage(1, sizeMessage(1, s))+healthCheckSize(ep)))
	b = protowire.AppendTag(b, 1, protowire.BytesType) // address
	b = protowire.AppendVarint(b, uint64(sizeMessage(1, s)))
	b = protowire.AppendTag(b, 1, protowire.BytesType) // socket_address
	b = protowire.AppendVarint(b, uint64(s))
	b = appendString(b, 2, ep.Address)
	b = appendVarint(b, 3, uint64(ep.Port))
	if ep.HealthCheckPort != 0 {
		b = protowire.AppendTag(b, 2, protowire.BytesType) // health_check_config
		b = protowire.AppendVarint(b, uint64(sizeVarint(1, uint64(ep.HealthCheckPort))))
		b = appendVarint(b, 1, uint64(ep.HealthCheckPort))
	}
	return b
}
