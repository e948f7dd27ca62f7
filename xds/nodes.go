package xds

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"github.com/hashicorp/go-hclog"
	"google.golang.org/genproto/googleapis/rpc/status"
)

// Nodes tracks every open xDS stream: who is on it, what it ACKed, what it
// rejected. It is the server's Callbacks, and it holds back NACKed versions.
//
// go-control-plane's snapshot cache compares a request's version_info with
// the snapshot's: a NACK carries the last version the node accepted, so the
// cache sends the rejected version straight back, and a node that rejects
// it again loops at tens of thousands of responses a second. Nodes rewrites
// a SotW NACK's version_info to the version it rejects, so fairway's cache,
// which answers only a node whose version differs, holds the watch until
// the content, and with it the version, changes. Delta streams track
// versions per resource and are not resent on a NACK.
type Nodes struct {
	log       hclog.Logger
	metrics   *Metrics
	publisher *Publisher
	now       func() time.Time
	authz     Authorization

	mu      sync.Mutex
	streams map[streamKey]*stream
}

var _ serverv3.Callbacks = (*Nodes)(nil)

// NewNodes creates the stream registry for a publisher's server.
func NewNodes(p *Publisher, logger hclog.Logger, m *Metrics) *Nodes {
	return &Nodes{log: logger, metrics: m, publisher: p, now: time.Now, streams: map[streamKey]*stream{}}
}

// Authorize sets who may get what (see identity.go); call it before the
// server serves. Without it a stream with a verified client certificate is
// still held to its identity in DefaultTrustDomain.
func (n *Nodes) Authorize(a Authorization) { n.authz = a }

// SotW and delta streams are numbered separately.
type streamKey struct {
	delta bool
	id    int64
}

type stream struct {
	identity  Identity
	node      *corev3.Node
	kind      string
	typeURL   string // "" on ADS streams
	connected time.Time
	acked     map[string]string // type URL -> version
	lastNACK  *NACK
	// sent maps a response nonce to what it carried, for the latest
	// response of each type; latest maps the type to that nonce.
	sent   map[string]sentResponse
	latest map[string]string
}

// sentResponse is what a response carried; round is the cache's round it
// was made in (0 when the cache does not track it).
type sentResponse struct {
	typeURL, version string
	round            uint64
}

// NACK is a node's rejection of a response.
type NACK struct {
	Type    string    `json:"type"`
	Version string    `json:"version"`
	Message string    `json:"message"`
	At      time.Time `json:"at"`
}

// open registers a stream whose connection has an identity fairway
// accepts; a stream without one is refused before it is registered.
func (n *Nodes) open(ctx context.Context, key streamKey, kind, typeURL string) error {
	id, r := n.authz.identityOf(ctx)
	if r != nil {
		n.metrics.RefusedStreams.WithLabelValues(r.reason).Inc()
		n.log.Warn("refused xDS stream", "kind", kind, "reason", r.reason, "error", r.msg)
		return r.grpcStatus()
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.streams[key] = &stream{
		identity: id, kind: kind, typeURL: typeURL, connected: n.now(),
		acked: map[string]string{}, sent: map[string]sentResponse{}, latest: map[string]string{},
	}
	n.metrics.Streams.WithLabelValues(kind).Inc()
	return nil
}

// authorize checks a request against its stream's identity. The server
// ends the stream on the error, so a refusal is logged and counted once.
func (n *Nodes) authorize(key streamKey, node *corev3.Node, typeURL string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	s, ok := n.streams[key]
	if !ok {
		return nil
	}
	if node == nil {
		node = s.node
	}
	r := s.identity.authorize(node, cmp.Or(typeURL, s.typeURL))
	if r == nil {
		return nil
	}
	n.metrics.RefusedStreams.WithLabelValues(r.reason).Inc()
	n.log.Warn("refused xDS request", "identity", s.identity.String(), "node", node.GetId(), "cluster", node.GetCluster(),
		"type", typeName(cmp.Or(typeURL, s.typeURL)), "reason", r.reason)
	return r.grpcStatus()
}

func (n *Nodes) close(key streamKey) {
	n.mu.Lock()
	if s, ok := n.streams[key]; ok {
		delete(n.streams, key)
		n.metrics.Streams.WithLabelValues(s.kind).Dec()
		n.countNodes()
	}
	n.mu.Unlock()
	n.publisher.cache.closed(key)
}

// request records a request's node and its ACK or NACK, tells the cache
// which stream the request is on and what it answered, and returns the
// version the request rejects ("" when it is no NACK, or when the rejected
// response is no longer the latest of its type).
func (n *Nodes) request(key streamKey, req any, node *corev3.Node, typeURL, nonce string, nack *NACK) string {
	sent, answered := n.record(key, node, typeURL, nonce, nack)
	cache := n.publisher.cache
	if answered {
		cache.answered(key, sent.typeURL, sent.round, nack == nil)
	}
	cache.bind(req, key)
	if answered && nack != nil {
		return sent.version
	}
	return ""
}

// record is request's bookkeeping under the lock: it reports the response
// the request answers, if it is the stream's latest of its type.
func (n *Nodes) record(key streamKey, node *corev3.Node, typeURL, nonce string, nack *NACK) (sentResponse, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	s, ok := n.streams[key]
	if !ok {
		return sentResponse{}, false
	}
	if s.node == nil && node != nil {
		s.node = node
		n.countNodes()
	}
	if typeURL == "" {
		typeURL = s.typeURL
	}
	sent, known := s.sent[nonce]
	if nonce == "" || !known {
		if nack != nil {
			n.reject(s, typeURL, "", nack)
		}
		return sentResponse{}, false
	}
	delete(s.sent, nonce)
	if nack == nil {
		s.acked[sent.typeURL] = sent.version
	} else {
		n.reject(s, sent.typeURL, sent.version, nack)
	}
	return sent, true
}

// reject records, counts and logs a NACK. It logs once per stream, type and
// version: a node that keeps rejecting one version says so once.
func (n *Nodes) reject(s *stream, typeURL, version string, nack *NACK) {
	nack.Type, nack.Version = typeName(typeURL), version
	repeat := s.lastNACK != nil && s.lastNACK.Type == nack.Type && s.lastNACK.Version == version
	s.lastNACK = nack
	n.metrics.NACKs.WithLabelValues(nack.Type).Inc()
	if !repeat {
		n.log.Warn("node rejected config; holding it back until the content changes",
			"node", s.node.GetId(), "cluster", s.node.GetCluster(), "type", nack.Type, "version", version, "error", nack.Message)
	}
}

func (n *Nodes) response(key streamKey, req any, typeURL, nonce, version string) {
	round := n.publisher.cache.takeStamp(req)
	n.mu.Lock()
	defer n.mu.Unlock()
	n.metrics.Pushes.WithLabelValues(typeName(typeURL)).Inc()
	s, ok := n.streams[key]
	if !ok {
		return
	}
	delete(s.sent, s.latest[typeURL]) // a newer response supersedes it
	s.sent[nonce] = sentResponse{typeURL: typeURL, version: version, round: round}
	s.latest[typeURL] = nonce
}

// countNodes updates the distinct node gauge; the caller holds mu.
func (n *Nodes) countNodes() {
	ids := map[string]bool{}
	for _, s := range n.streams {
		if s.node != nil {
			ids[s.node.GetId()] = true
		}
	}
	n.metrics.Nodes.Set(float64(len(ids)))
}

// nackOf is the NACK a request's error_detail carries, or nil for an ACK.
func nackOf(detail *status.Status, now time.Time) *NACK {
	if detail == nil {
		return nil
	}
	return &NACK{Message: detail.GetMessage(), At: now}
}

// OnStreamOpen is called when a SotW stream opens.
func (n *Nodes) OnStreamOpen(ctx context.Context, id int64, typeURL string) error {
	return n.open(ctx, streamKey{id: id}, "sotw", typeURL)
}

// OnStreamClosed is called when a SotW stream ends.
func (n *Nodes) OnStreamClosed(id int64, _ *corev3.Node) { n.close(streamKey{id: id}) }

// OnStreamRequest sees every SotW request before the cache does. The server
// has filled in the node from the stream's first request.
func (n *Nodes) OnStreamRequest(id int64, req *discoveryv3.DiscoveryRequest) error {
	if err := n.authorize(streamKey{id: id}, req.GetNode(), req.GetTypeUrl()); err != nil {
		return err
	}
	nack := nackOf(req.GetErrorDetail(), n.now())
	if rejected := n.request(streamKey{id: id}, req, req.GetNode(), req.GetTypeUrl(), req.GetResponseNonce(), nack); rejected != "" {
		req.VersionInfo = rejected
	}
	n.publisher.cache.shareSotW(streamKey{id: id}, req)
	return nil
}

// OnStreamResponse records what each SotW response carried.
func (n *Nodes) OnStreamResponse(_ context.Context, id int64, req *discoveryv3.DiscoveryRequest, resp *discoveryv3.DiscoveryResponse) {
	n.response(streamKey{id: id}, req, resp.GetTypeUrl(), resp.GetNonce(), resp.GetVersionInfo())
}

// OnDeltaStreamOpen is called when a delta stream opens.
func (n *Nodes) OnDeltaStreamOpen(ctx context.Context, id int64, typeURL string) error {
	return n.open(ctx, streamKey{delta: true, id: id}, "delta", typeURL)
}

// OnDeltaStreamClosed is called when a delta stream ends.
func (n *Nodes) OnDeltaStreamClosed(id int64, _ *corev3.Node) {
	n.close(streamKey{delta: true, id: id})
}

// OnStreamDeltaRequest sees every delta request. Only the first carries the
// node for certain; the registry keeps it.
func (n *Nodes) OnStreamDeltaRequest(id int64, req *discoveryv3.DeltaDiscoveryRequest) error {
	key := streamKey{delta: true, id: id}
	node := req.GetNode()
	if node == nil {
		node = n.nodeOf(key)
	}
	if err := n.authorize(key, node, req.GetTypeUrl()); err != nil {
		return err
	}
	nack := nackOf(req.GetErrorDetail(), n.now())
	n.request(key, req, node, req.GetTypeUrl(), req.GetResponseNonce(), nack)
	n.publisher.cache.shareDelta(key, req)
	return nil
}

// OnStreamDeltaResponse records what each delta response carried.
func (n *Nodes) OnStreamDeltaResponse(id int64, req *discoveryv3.DeltaDiscoveryRequest, resp *discoveryv3.DeltaDiscoveryResponse) {
	n.response(streamKey{delta: true, id: id}, req, resp.GetTypeUrl(), resp.GetNonce(), resp.GetSystemVersionInfo())
}

// OnFetchRequest is for REST fetches, which fairway does not serve.
func (n *Nodes) OnFetchRequest(context.Context, *discoveryv3.DiscoveryRequest) error { return nil }

// OnFetchResponse is for REST fetches, which fairway does not serve.
func (n *Nodes) OnFetchResponse(*discoveryv3.DiscoveryRequest, *discoveryv3.DiscoveryResponse) {}

func (n *Nodes) nodeOf(key streamKey) *corev3.Node {
	n.mu.Lock()
	defer n.mu.Unlock()
	if s, ok := n.streams[key]; ok {
		return s.node
	}
	return nil
}

// StreamInfo is one open stream, as /debug/nodes shows it.
type StreamInfo struct {
	NodeID    string            `json:"node_id"`
	Cluster   string            `json:"cluster"`
	UserAgent string            `json:"user_agent,omitempty"`
	Group     string            `json:"group"`
	Identity  string            `json:"identity"`
	Stream    string            `json:"stream"`
	Type      string            `json:"type,omitempty"`
	Connected time.Time         `json:"connected"`
	Acked     map[string]string `json:"acked"`
	LastNACK  *NACK             `json:"last_nack,omitempty"`
}

// Streams lists the open streams, sorted by node id.
func (n *Nodes) Streams() []StreamInfo {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]StreamInfo, 0, len(n.streams))
	for _, s := range n.streams {
		acked := make(map[string]string, len(s.acked))
		for url, v := range s.acked {
			acked[typeName(url)] = v
		}
		info := StreamInfo{
			NodeID: s.node.GetId(), Cluster: s.node.GetCluster(), UserAgent: s.node.GetUserAgentName(),
			Group: n.publisher.cache.groups.ID(s.node), Identity: s.identity.String(), Stream: s.kind, Connected: s.connected, Acked: acked,
		}
		if s.typeURL != "" {
			info.Type = typeName(s.typeURL)
		}
		if s.lastNACK != nil {
			nack := *s.lastNACK
			info.LastNACK = &nack
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b StreamInfo) int {
		return cmp.Or(cmp.Compare(a.NodeID, b.NodeID), a.Connected.Compare(b.Connected), cmp.Compare(a.Stream, b.Stream))
	})
	return out
}
