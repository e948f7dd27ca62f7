package envoy

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// MisdirectedStatus is 421 Misdirected Request (RFC 9110 §15.5.20): this
// connection cannot answer for the request's Host. A client that reused an
// HTTP/2 connection for another host its certificate also covers (RFC 9113
// §9.1.1 connection coalescing, common with wildcard certificates) retries
// on a new connection, whose SNI then picks the host's own chain; a 404
// would show the user an error page instead.
const MisdirectedStatus = 421

// AppendMisdirectedVirtualHost appends the encoding of the virtual host
// MisdirectedVirtualHost over domains, whose one route answers every path
// with MisdirectedStatus. It has no retry policy: nothing goes upstream.
func AppendMisdirectedVirtualHost(b []byte, domains []string) []byte {
	return appendVirtualHost(b, MisdirectedVirtualHost, domains, []RouteSpec{{Name: MisdirectedVirtualHost, Path: "/", Status: MisdirectedStatus}}, true)
}

// RenameVirtualHost returns the encoded virtual host vh under another
// name with one domain, its routes and everything else kept: a TLS host
// with no virtual host of its own answers as the virtual host that its
// name falls to (a wildcard's, the catch-all's), but only for its own
// name. Name (field 1) and domains (2) come first in the deterministic
// encoding, so replacing them is cutting a prefix; the bytes are those of
// encoding the renamed message (a test holds them so).
func RenameVirtualHost(vh []byte, name, domain string) []byte {
	rest := vh
	for len(rest) > 0 {
		num, typ, n := protowire.ConsumeTag(rest)
		if n < 0 {
			panic(fmt.Sprintf("envoy: rename virtual host: %v", protowire.ParseError(n)))
		}
		if num > 2 {
			break
		}
		m := protowire.ConsumeFieldValue(num, typ, rest[n:])
		if m < 0 {
			panic(fmt.Sprintf("envoy: rename virtual host: %v", protowire.ParseError(m)))
		}
		rest = rest[n+m:]
	}
	b := make([]byte, 0, sizeString(1, name)+sizeString(2, domain)+len(rest))
	b = appendString(b, 1, name)
	b = appendString(b, 2, domain)
	return append(b, rest...)
}
