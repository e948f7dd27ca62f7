package envoy

import (
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Outlier detection of every cluster: an endpoint that fails to connect
// OutlierConsecutiveConnectFailures times in a row (a pod that is gone,
// or a node that stopped forwarding) is ejected for
// OutlierBaseEjectionTime, longer each time it is ejected again, so that
// connections stop trying it long before a health check or an
// EndpointSlice update would say so. Only connect failures count (local
// origin errors, kept apart from the backend's own answers): a pod's HTTP
// 5xx never ejects it, so HTTP behaviour is what it was, and Envoy's
// success-rate detectors, which would judge by answers, are off.
const (
	OutlierConsecutiveConnectFailures = 5
	OutlierInterval                   = 10 * time.Second
	OutlierBaseEjectionTime           = 30 * time.Second
	// OutlierMaxEjectionPercent lets half of a cluster go, where Envoy's
	// 10% would never eject one of a Service's usual two or three pods.
	OutlierMaxEjectionPercent = 50
)

// edgeOutlierDetection is the outlier detection described above.
func edgeOutlierDetection() *clusterv3.OutlierDetection {
	return &clusterv3.OutlierDetection{
		Interval:                        durationpb.New(OutlierInterval),
		BaseEjectionTime:                durationpb.New(OutlierBaseEjectionTime),
		MaxEjectionPercent:              wrapperspb.UInt32(OutlierMaxEjectionPercent),
		SplitExternalLocalOriginErrors:  true,
		ConsecutiveLocalOriginFailure:   wrapperspb.UInt32(OutlierConsecutiveConnectFailures),
		EnforcingConsecutive_5Xx:        wrapperspb.UInt32(0),
		EnforcingSuccessRate:            wrapperspb.UInt32(0),
		EnforcingLocalOriginSuccessRate: wrapperspb.UInt32(0),
	}
}
