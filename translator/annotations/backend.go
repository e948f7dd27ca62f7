package annotations

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fairwayhq/fairway/translator/policy"
)

// backendEntries: how the backend is spoken to. They set the route's
// policy.Upstream, which is part of its cluster's identity.
var backendEntries = []Entry{
	{Key: "backend-protocol", Parse: parseBackendProtocol},
	{Key: "load-balance", Parse: parseLoadBalance},
	{Key: "proxy-connect-timeout", Parse: parseConnectTimeout},
}

// backendProtocols are backend-protocol's values, upper-cased as
// ingress-nginx compares them. GRPC is HTTP/2 in the clear; H2C, which
// ingress-nginx lacks, is the same for a backend that is not gRPC.
var backendProtocols = map[string]policy.Protocol{
	"HTTP":  policy.HTTP,
	"HTTPS": policy.HTTPS,
	"GRPC":  policy.H2C,
	"H2C":   policy.H2C,
	"GRPCS": policy.GRPCS,
}

// foreignProtocols are ingress-nginx's values that fairway does not speak.
var foreignProtocols = map[string]string{
	"FCGI":      "fairway does not speak FastCGI to backends",
	"AJP":       "fairway does not speak AJP to backends",
	"AUTO_HTTP": "fairway does not pick HTTP or HTTPS by the client's scheme; set HTTP or HTTPS",
}

func parseBackendProtocol(value string, r *policy.Route) error {
	v := strings.ToUpper(strings.TrimSpace(value))
	if p, ok := backendProtocols[v]; ok {
		r.Upstream.Protocol = p
		return nil
	}
	if why, ok := foreignProtocols[v]; ok {
		return fmt.Errorf("%s", why)
	}
	return fmt.Errorf("not one of HTTP, HTTPS, GRPC, GRPCS and H2C")
}

// parseLoadBalance reads ingress-nginx's two algorithms. EWMA prefers the
// endpoint with the lowest decaying average latency; Envoy has no such
// balancer, and its least-request (the less loaded of two random
// endpoints) is the nearest: both steer away from a slow pod.
func parseLoadBalance(value string, r *policy.Route) error {
	switch strings.TrimSpace(value) {
	case "round_robin":
		r.Upstream.Balance = policy.RoundRobin
	case "ewma":
		r.Upstream.Balance = policy.LeastRequest
	default:
		return fmt.Errorf("not round_robin or ewma")
	}
	return nil
}

// maxConnectTimeout bounds proxy-connect-timeout: a pod that has not
// accepted a connection within an hour will not, and Envoy keeps the
// request waiting all that time.
const maxConnectTimeout = time.Hour

// parseConnectTimeout reads whole seconds, as ingress-nginx does ("10"),
// and also nginx's own spelling of them ("10s"). Envoy needs more than
// zero.
func parseConnectTimeout(value string, r *policy.Route) error {
	v := strings.TrimSuffix(strings.TrimSpace(value), "s")
	if v == "" || strings.TrimLeft(v, "0123456789") != "" {
		return fmt.Errorf("not a whole number of seconds")
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 || n > int64(maxConnectTimeout/time.Second) {
		return fmt.Errorf("not between 1 and %d seconds", int64(maxConnectTimeout/time.Second))
	}
	r.Upstream.ConnectTimeout = time.Duration(n) * time.Second
	return nil
}
