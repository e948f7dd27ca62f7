package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

const (
	sotwMethod  = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"
	deltaMethod = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources"
)

// event is one response a client received after its initial fetch.
type event struct {
	typeURL string
	at      time.Time
	size    int
}

// client is one Envoy-like ADS stream: it fetches clusters, then their
// endpoints by name, then listeners, then the route tables the listeners
// name (and follows them as listeners change), ACKs every response with
// the names it wants, and records what arrives.
type client struct {
	id    int
	delta bool
	node  *corev3.Node

	// refused is set when fairway refused the stream at its cap.
	refused bool

	mu     sync.Mutex
	synced bool
	events []event
}

func newClient(id int, delta bool) *client {
	return &client{id: id, delta: delta, node: &corev3.Node{Id: fmt.Sprintf("load-%d", id), Cluster: "fleet"}}
}

// run streams until ctx ends; ready is called once the initial fetch is
// complete.
func (c *client) run(ctx context.Context, addr string, ready func()) error {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(newRawCodec()), grpc.MaxCallRecvMsgSize(256<<20)))
	if err != nil {
		return err
	}
	defer conn.Close()
	method := sotwMethod
	if c.delta {
		method = deltaMethod
	}
	stream, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, method)
	if err != nil {
		return err
	}
	s := &adsState{client: c, stream: stream, names: map[string][]string{}, listenerRoutes: map[string][]string{}}
	order := []string{resourcev3.ClusterType, resourcev3.EndpointType, resourcev3.ListenerType, resourcev3.RouteType}
	for _, typeURL := range order {
		if err := s.subscribe(typeURL); err != nil {
			return s.ended(err)
		}
		for {
			r, err := s.recv()
			if err != nil {
				return s.ended(err)
			}
			if err := s.ack(r); err != nil {
				return err
			}
			if err := s.followRoutes(); err != nil {
				return err
			}
			if r.typeURL == typeURL {
				break
			}
		}
	}
	c.mu.Lock()
	c.synced = true
	c.mu.Unlock()
	ready()
	for {
		r, err := s.recv()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		c.mu.Lock()
		c.events = append(c.events, event{typeURL: r.typeURL, at: time.Now(), size: r.size})
		c.mu.Unlock()
		if err := s.ack(r); err != nil {
			return err
		}
		if err := s.followRoutes(); err != nil {
			return err
		}
	}
}

// ended returns why the stream ended before its initial fetch was done,
// and marks a refusal at fairway's cap. A send on an ended stream fails
// with io.EOF; the status is what the next receive returns.
func (s *adsState) ended(err error) error {
	if errors.Is(err, io.EOF) {
		var m rawMessage
		if rerr := s.stream.RecvMsg(&m); rerr != nil {
			err = rerr
		}
	}
	if status.Code(err) == codes.ResourceExhausted {
		s.refused = true
	}
	return err
}

// since returns the events from t on.
func (c *client) since(t time.Time) []event {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, _ := slices.BinarySearchFunc(c.events, t, func(e event, t time.Time) int { return e.at.Compare(t) })
	return slices.Clone(c.events[i:])
}

// adsState is one stream's protocol state.
type adsState struct {
	*client
	stream grpc.ClientStream
	names  map[string][]string // type -> names subscribed (nil: wildcard)
	// listenerRoutes are the route tables each listener names.
	listenerRoutes map[string][]string
	// routesWanted, when set, are route names a listener update asks for
	// that are not subscribed yet.
	routesWanted []string
	// routeVersion and routeNonce are the last route response's, for a
	// SotW request that changes the names.
	routeVersion, routeNonce string
	routesSubscribed         bool
}

func (s *adsState) subscribe(typeURL string) error {
	switch typeURL {
	case resourcev3.RouteType:
		s.routesSubscribed = true
	case resourcev3.EndpointType:
		s.names[typeURL] = s.names[resourcev3.ClusterType+"/names"]
	}
	if s.delta {
		return s.stream.SendMsg(&discoveryv3.DeltaDiscoveryRequest{Node: s.node, TypeUrl: typeURL, ResourceNamesSubscribe: s.names[typeURL]})
	}
	return s.stream.SendMsg(&discoveryv3.DiscoveryRequest{Node: s.node, TypeUrl: typeURL, ResourceNames: s.names[typeURL]})
}

func (s *adsState) recv() (response, error) {
	var m rawMessage
	if err := s.stream.RecvMsg(&m); err != nil {
		return response{}, err
	}
	r, err := parse(m.b, s.delta, false)
	if err == nil && !s.delta && r.typeURL == resourcev3.ClusterType {
		r, err = parse(m.b, false, true) // the cluster names, to ask for their endpoints
	}
	if err != nil {
		return r, err
	}
	switch r.typeURL {
	case resourcev3.ClusterType:
		s.trackClusters(r)
	case resourcev3.RouteType:
		s.routeVersion, s.routeNonce = r.version, r.nonce
	case resourcev3.ListenerType:
		names, err := s.trackListeners(r, m.b)
		if err != nil {
			return r, err
		}
		s.wantRoutes(names)
	}
	return r, nil
}

// trackClusters keeps the cluster names, to ask for their endpoints.
func (s *adsState) trackClusters(r response) {
	key := resourcev3.ClusterType + "/names"
	if !s.delta {
		s.names[key] = r.names
		return
	}
	names := slices.DeleteFunc(slices.Clone(s.names[key]), func(n string) bool { return slices.Contains(r.removed, n) })
	for _, n := range r.names {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	s.names[key] = names
}

// ack acknowledges a response, as Envoy does, with the names it wants.
func (s *adsState) ack(r response) error {
	if s.delta {
		return s.stream.SendMsg(&discoveryv3.DeltaDiscoveryRequest{Node: s.node, TypeUrl: r.typeURL, ResponseNonce: r.nonce})
	}
	names := s.names[r.typeURL]
	if r.typeURL == resourcev3.EndpointType {
		names = s.names[resourcev3.ClusterType+"/names"]
	}
	return s.stream.SendMsg(&discoveryv3.DiscoveryRequest{Node: s.node, TypeUrl: r.typeURL, ResourceNames: names, VersionInfo: r.version, ResponseNonce: r.nonce})
}

// wantRoutes notes the route names the listeners name now: before the
// route tables are first asked for they are simply what will be asked;
// after, a change is asked for once the listener response is ACKed, as
// Envoy does.
func (s *adsState) wantRoutes(names []string) {
	switch {
	case !s.routesSubscribed:
		s.names[resourcev3.RouteType] = names
	case !slices.Equal(names, s.names[resourcev3.RouteType]):
		s.routesWanted = names
	}
}

// followRoutes sends the route subscription a listener update asked for.
func (s *adsState) followRoutes() error {
	if s.routesWanted == nil {
		return nil
	}
	names := s.routesWanted
	s.routesWanted = nil
	return s.resubscribeRoutes(names)
}
