package policy

import "time"

// Service is what a LoadBalancer Service's fairway.dev/ annotations ask
// of its layer-4 path (translator/annotations.ParseService fills it). The
// zero value of each field is fairway's default. It is comparable, so a
// Service's listener and cluster settings compare with ==.
type Service struct {
	// ProxyProtocol is the PROXY protocol version (1 or 2) sent to the
	// backends ahead of each TCP connection; 0 sends none.
	ProxyProtocol uint8
	// IdleTimeout closes a TCP connection with no bytes either way.
	IdleTimeout time.Duration
	// MaxConnections caps the connections each Envoy opens to the
	// Service's port.
	MaxConnections uint32
	HealthCheck    HealthCheck
}

// HealthCheck is an active check of every backend of a Service port.
type HealthCheck struct {
	// TCP: the check is a TCP connect (fairway.dev/health-check: tcp).
	TCP                bool
	Interval, Timeout  time.Duration
	Healthy, Unhealthy uint32 // checks in a row that change the state
}
