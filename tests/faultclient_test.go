package tests

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/anypb"
)

// faultTypes are the types the fault tests' streams subscribe to, each as
// a wildcard: what every Envoy of the fleet asks for, without SDS (which
// the security rules may keep from a plaintext stream).
var faultTypes = []string{resourcev3.ClusterType, resourcev3.EndpointType, resourcev3.ListenerType, resourcev3.RouteType}

// heldResource is one resource a stream holds: its delta version (empty
// for SotW) and its serialised value.
type heldResource struct {
	version string
	value   []byte
}

// received is one response a fault stream got.
type received struct {
	typeURL, version string
	at               time.Time
}

// faultStream is an Envoy-like ADS stream (SotW or delta) for the fault
// tests: it subscribes to faultTypes, ACKs every response, and keeps what
// it holds, so that a test can compare it with what fairway publishes.
type faultStream struct {
	delta  bool
	node   *corev3.Node
	cancel context.CancelFunc
	done   chan struct{}

	mu        sync.Mutex
	versions  map[string]string // type -> version_info (SotW) or system_version_info (delta)
	held      map[string]map[string]heldResource
	log       []received
	err       error
	firstSeen map[string]bool
	// namedEDS are the endpoint names a resumed SotW stream asks for (nil:
	// every assignment); its ACKs keep naming them.
	namedEDS []string
}

// resumeState is what a stream held before a reconnect: per type, its
// version and resources, sent back in the first requests (SotW:
// version_info and the names; delta: initial_resource_versions).
type resumeState struct {
	versions map[string]string
	held     map[string]map[string]heldResource
}

// dialFault opens a client connection for fault streams; dialer, when set,
// makes the TCP connection (a test's conn wrapper).
func dialFault(addr string, dialer func(context.Context, string) (net.Conn, error), extra ...grpc.DialOption) (*grpc.ClientConn, error) {
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(256 << 20))}
	if dialer != nil {
		opts = append(opts, grpc.WithContextDialer(dialer))
	}
	return grpc.NewClient(addr, append(opts, extra...)...)
}

// openFault starts a stream on conn and sends its subscriptions, resumed
// from resume when it is not nil. The stream runs until Close or until
// the connection ends.
func openFault(conn *grpc.ClientConn, delta bool, nodeID string, resume *resumeState) (*faultStream, error) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &faultStream{delta: delta, node: &corev3.Node{Id: nodeID, Cluster: "fleet"}, cancel: cancel, done: make(chan struct{}),
		versions: map[string]string{}, held: map[string]map[string]heldResource{}, firstSeen: map[string]bool{}}
	if resume != nil {
		for typeURL, v := range resume.versions {
			s.versions[typeURL] = v
		}
		for typeURL, h := range resume.held {
			s.held[typeURL] = maps.Clone(h)
		}
	}
	ads := discoveryv3.NewAggregatedDiscoveryServiceClient(conn)
	var err error
	if delta {
		err = s.runDelta(ctx, ads)
	} else {
		err = s.runSotW(ctx, ads)
	}
	if err != nil {
		cancel()
		return nil, err
	}
	return s, nil
}

func (s *faultStream) runSotW(ctx context.Context, ads discoveryv3.AggregatedDiscoveryServiceClient) error {
	stream, err := ads.StreamAggregatedResources(ctx)
	if err != nil {
		return err
	}
	for _, typeURL := range faultTypes {
		req := &discoveryv3.DiscoveryRequest{Node: s.node, TypeUrl: typeURL, VersionInfo: s.versions[typeURL]}
		if typeURL == resourcev3.EndpointType && s.versions[typeURL] != "" {
			// Envoy names the assignments it resumes; the names cover them all.
			s.namedEDS = slices.Sorted(maps.Keys(s.held[typeURL]))
			req.ResourceNames = s.namedEDS
		}
		if err := stream.Send(req); err != nil {
			return err
		}
	}
	go s.loop(func() error {
		resp, err := stream.Recv()
		if err != nil {
			return err
		}
		s.applySotW(resp)
		req := &discoveryv3.DiscoveryRequest{TypeUrl: resp.GetTypeUrl(), VersionInfo: resp.GetVersionInfo(), ResponseNonce: resp.GetNonce()}
		if resp.GetTypeUrl() == resourcev3.EndpointType {
			req.ResourceNames = s.namedEDS
		}
		return stream.Send(req)
	})
	return nil
}

func (s *faultStream) runDelta(ctx context.Context, ads discoveryv3.AggregatedDiscoveryServiceClient) error {
	stream, err := ads.DeltaAggregatedResources(ctx)
	if err != nil {
		return err
	}
	for _, typeURL := range faultTypes {
		req := &discoveryv3.DeltaDiscoveryRequest{Node: s.node, TypeUrl: typeURL}
		if len(s.held[typeURL]) > 0 {
			req.InitialResourceVersions = map[string]string{}
			for name, h := range s.held[typeURL] {
				req.InitialResourceVersions[name] = h.version
			}
		}
		if err := stream.Send(req); err != nil {
			return err
		}
	}
	go s.loop(func() error {
		resp, err := stream.Recv()
		if err != nil {
			return err
		}
		s.applyDelta(resp)
		return stream.Send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resp.GetTypeUrl(), ResponseNonce: resp.GetNonce()})
	})
	return nil
}

// loop runs step until it fails, then records why the stream ended.
func (s *faultStream) loop(step func() error) {
	defer close(s.done)
	for {
		if err := step(); err != nil {
			s.mu.Lock()
			s.err = err
			s.mu.Unlock()
			return
		}
	}
}

// applySotW takes a SotW response: listeners and clusters come whole;
// endpoints and routes may carry only what changed.
func (s *faultStream) applySotW(resp *discoveryv3.DiscoveryResponse) {
	s.mu.Lock()
	defer s.mu.Unlock()
	typeURL := resp.GetTypeUrl()
	held := s.held[typeURL]
	if held == nil || typeURL == resourcev3.ClusterType || typeURL == resourcev3.ListenerType {
		held = map[string]heldResource{}
	}
	for _, a := range resp.GetResources() {
		name, err := resourceName(a)
		if err == nil {
			held[name] = heldResource{value: a.GetValue()}
		}
	}
	s.held[typeURL] = held
	s.record(typeURL, resp.GetVersionInfo())
}

func (s *faultStream) applyDelta(resp *discoveryv3.DeltaDiscoveryResponse) {
	s.mu.Lock()
	defer s.mu.Unlock()
	typeURL := resp.GetTypeUrl()
	held := s.held[typeURL]
	if held == nil {
		held = map[string]heldResource{}
	}
	for _, r := range resp.GetResources() {
		held[r.GetName()] = heldResource{version: r.GetVersion(), value: r.GetResource().GetValue()}
	}
	for _, name := range resp.GetRemovedResources() {
		delete(held, name)
	}
	s.held[typeURL] = held
	s.record(typeURL, resp.GetSystemVersionInfo())
}

// resourceName is the name of a resource of any served type.
func resourceName(a *anypb.Any) (string, error) {
	m, err := a.UnmarshalNew()
	if err != nil {
		return "", err
	}
	if cla, ok := m.(*endpointv3.ClusterLoadAssignment); ok {
		return cla.GetClusterName(), nil
	}
	if n, ok := m.(interface{ GetName() string }); ok {
		return n.GetName(), nil
	}
	return "", fmt.Errorf("%s has no name", a.GetTypeUrl())
}

// record notes a response; the caller holds the lock.
func (s *faultStream) record(typeURL, version string) {
	s.versions[typeURL] = version
	s.firstSeen[typeURL] = true
	s.log = append(s.log, received{typeURL: typeURL, version: version, at: time.Now()})
}

// names are the resource names the stream holds of a type, sorted.
func (s *faultStream) names(typeURL string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.held[typeURL]))
}

// synced reports whether the stream has had a response of every type.
func (s *faultStream) synced() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, typeURL := range faultTypes {
		if !s.firstSeen[typeURL] {
			return false
		}
	}
	return true
}

// since is what the stream received from t on.
func (s *faultStream) since(t time.Time) []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []received
	for _, r := range s.log {
		if !r.at.Before(t) {
			out = append(out, r)
		}
	}
	return out
}

// state is a copy of what the stream holds, to resume from.
func (s *faultStream) state() *resumeState {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &resumeState{versions: maps.Clone(s.versions), held: map[string]map[string]heldResource{}}
	for typeURL, h := range s.held {
		st.held[typeURL] = maps.Clone(h)
	}
	return st
}

// failure is why the stream ended, if it did.
func (s *faultStream) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close ends the stream and waits for its receiver.
func (s *faultStream) Close() {
	s.cancel()
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
	}
}

// waitSynced waits until every stream has had every type.
func waitSynced(streams []*faultStream, within time.Duration) error {
	deadline := time.Now().Add(within)
	for _, s := range streams {
		for !s.synced() {
			if err := s.failure(); err != nil {
				return fmt.Errorf("stream %s ended before its first fetch: %w", s.node.GetId(), err)
			}
			if time.Now().After(deadline) {
				return errors.New("stream " + s.node.GetId() + " did not get every type within " + within.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return nil
}
