package policy

// Canary makes an Ingress the canary of the main Ingress with the same
// host, path and path type: its backend is added to the main route
// instead of conflicting with it. The conditions are tried as in
// ingress-nginx: header, then cookie, then weight.
type Canary struct {
	// Enabled: the object is a canary (canary: "true"). The other fields
	// alone do nothing, as in ingress-nginx; they are kept until then so
	// that the front end can report them.
	Enabled bool
	// Header names the request header that picks the canary: "always"
	// sends to it, "never" to the main backend, unless HeaderValue or
	// HeaderPattern is set, when a value equal to HeaderValue (or
	// matching the RE2 HeaderPattern, whole value) sends to the canary
	// and any other value falls through. HeaderValue wins over
	// HeaderPattern.
	Header, HeaderValue, HeaderPattern string
	// Cookie names the cookie whose value "always" sends to the canary
	// and "never" to the main backend.
	Cookie string
	// Weight of WeightTotal requests go to the canary, the rest to the
	// main backend. WeightTotal is 100 when not set.
	Weight, WeightTotal uint32
}
