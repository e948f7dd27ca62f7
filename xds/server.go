package xds

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	clusterservice "github.com/envoyproxy/go-control-plane/envoy/service/cluster/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	endpointservice "github.com/envoyproxy/go-control-plane/envoy/service/endpoint/v3"
	listenerservice "github.com/envoyproxy/go-control-plane/envoy/service/listener/v3"
	routeservice "github.com/envoyproxy/go-control-plane/envoy/service/route/v3"
	secretservice "github.com/envoyproxy/go-control-plane/envoy/service/secret/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/sotw/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
)

// ServerConfig configures the xDS gRPC server.
type ServerConfig struct {
	Address string
	// TLS, when set, serves xDS over TLS; with ClientCAs it requires client
	// certificates (mTLS).
	TLS *tls.Config
	// MaxConcurrentStreams bounds the streams of one connection. An Envoy
	// needs one (ADS); a gRPC client one per target.
	MaxConcurrentStreams uint32
	// MaxStreams bounds the open xDS streams of the whole server, over all
	// connections; 0 is no bound. See streamCap.
	MaxStreams int
	// MaxFullSends bounds the large per-stream encodings alive at once
	// (see fullSends); 0 is DefaultMaxFullSends, negative no bound.
	MaxFullSends int
	// ShutdownTimeout bounds how long open streams may hold up shutdown.
	ShutdownTimeout time.Duration
}

// Defaults of the server.
const (
	DefaultMaxConcurrentStreams = 100
	DefaultShutdownTimeout      = 5 * time.Second
)

// Server is the ADS server: go-control-plane's server on a gRPC server with
// keepalives, serving the aggregated service (SotW and delta) and the
// per-type services for Envoys configured without ADS.
type Server struct {
	cfg  ServerConfig
	log  hclog.Logger
	grpc *grpc.Server
	lis  net.Listener
	// streams is the stream cap; nil without one.
	streams *streamCap
}

// NewServer binds the address at once, so that a port taken is an error at
// start and tests can pass ":0"; it serves only from Run.
func NewServer(ctx context.Context, cfg ServerConfig, p *Publisher, nodes *Nodes, logger hclog.Logger) (*Server, error) {
	lis, err := net.Listen("tcp", cfg.Address)
	if err != nil {
		return nil, fmt.Errorf("xds address: %w", err)
	}
	opts := []grpc.ServerOption{
		grpc.MaxConcurrentStreams(cfg.MaxConcurrentStreams),
		// Ping idle connections so a vanished Envoy's streams are closed.
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
		// Envoy pings every 30 s by the bootstrap; allow that and more,
		// but cut clients that ping abusively.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
	}
	if cfg.TLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(cfg.TLS)))
	}
	var streams *streamCap
	if cfg.MaxStreams > 0 {
		streams = newStreamCap(cfg.MaxStreams, logger, nodes.metrics)
		opts = append(opts, grpc.StreamInterceptor(streams.intercept))
		lis = streams.listen(lis)
	}
	// Responses that carry a type's shared resource list reuse its
	// encoding instead of marshalling it per stream.
	codec := newSharedCodec(&p.Cache().lists, &p.Cache().names)
	codec.full = newFullSends(cmp.Or(cfg.MaxFullSends, DefaultMaxFullSends))
	opts = append(opts, grpc.ForceServerCodecV2(codec))
	gs := grpc.NewServer(opts...)
	srv := serverv3.NewServer(ctx, p.Cache(), nodes, sotw.WithOrderedADS())
	discoverygrpc.RegisterAggregatedDiscoveryServiceServer(gs, srv)
	listenerservice.RegisterListenerDiscoveryServiceServer(gs, srv)
	routeservice.RegisterRouteDiscoveryServiceServer(gs, srv)
	clusterservice.RegisterClusterDiscoveryServiceServer(gs, srv)
	endpointservice.RegisterEndpointDiscoveryServiceServer(gs, srv)
	secretservice.RegisterSecretDiscoveryServiceServer(gs, srv)
	return &Server{cfg: cfg, log: logger, grpc: gs, lis: lis, streams: streams}, nil
}

// Addr is the bound address.
func (s *Server) Addr() net.Addr { return s.lis.Addr() }

// Run serves once ready is closed (the first snapshot exists: an Envoy that
// connects earlier waits in the listen queue rather than get nothing), until
// ctx ends. Then it stops accepting streams, lets open ones end for up to
// ShutdownTimeout, and closes the rest.
func (s *Server) Run(ctx context.Context, ready <-chan struct{}) error {
	select {
	case <-ctx.Done():
		s.lis.Close()
		return nil
	case <-ready:
	}
	errc := make(chan error, 1)
	go func() { errc <- s.grpc.Serve(s.lis) }()
	s.log.Info("serving xDS", "address", s.lis.Addr().String(), "tls", s.cfg.TLS != nil)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	stopped := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(s.cfg.ShutdownTimeout):
		s.log.Info("closing open xDS streams", "after", s.cfg.ShutdownTimeout)
		s.grpc.Stop()
		<-stopped
	}
	if err := <-errc; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}
