package main

import (
	"encoding/json"
	"errors"

	"github.com/fairwayhq/fairway/envoy"
	"github.com/fairwayhq/fairway/xds"
)

// serverListenerTemplate is the name an xDS-enabled gRPC server asks for,
// with %s its listening address (ip:port).
const serverListenerTemplate = "grpc/server?xds.resource.listening_address=%s"

// grpcBootstrap is the xDS bootstrap that gRPC libraries read from the file
// named by GRPC_XDS_BOOTSTRAP (or the JSON in GRPC_XDS_BOOTSTRAP_CONFIG):
// the same node identity and xDS server as an Envoy's, in gRPC's format.
type grpcBootstrap struct {
	XDSServers                         []grpcXDSServer `json:"xds_servers"`
	Node                               grpcNode        `json:"node"`
	ServerListenerResourceNameTemplate string          `json:"server_listener_resource_name_template"`
}

type grpcXDSServer struct {
	ServerURI      string            `json:"server_uri"`
	ChannelCreds   []grpcChannelCred `json:"channel_creds"`
	ServerFeatures []string          `json:"server_features"`
}

type grpcChannelCred struct {
	Type   string         `json:"type"`
	Config *grpcTLSConfig `json:"config,omitempty"`
}

// grpcTLSConfig is the "tls" channel credential of gRFC A65. gRPC rereads
// the files every RefreshInterval (a JSON duration), so a renewed
// certificate is used without a restart.
type grpcTLSConfig struct {
	CAFile          string `json:"ca_certificate_file"`
	CertFile        string `json:"certificate_file"`
	KeyFile         string `json:"private_key_file"`
	RefreshInterval string `json:"refresh_interval"`
}

// GRPCCertRefreshInterval is how often a proxyless client rereads its
// certificate files: a minute, about the time the kubelet takes to bring
// a changed Secret into a volume, instead of gRPC's default of ten.
const GRPCCertRefreshInterval = "60s"

// grpcNode carries an empty locality because grpc-js rejects a node
// without one, and the proxyless mark because a client that is not gRPC's
// own (an xDS library of another name) is still to get the proxyless view.
type grpcNode struct {
	ID       string          `json:"id"`
	Cluster  string          `json:"cluster"`
	Locality struct{}        `json:"locality"`
	Metadata map[string]bool `json:"metadata"`
}

// grpcBootstrapJSON renders the gRPC bootstrap for c.
func grpcBootstrapJSON(c envoy.BootstrapConfig) ([]byte, error) {
	if _, _, err := envoy.SplitXDSAddress(c.XDSAddress); err != nil {
		return nil, err
	}
	cred := grpcChannelCred{Type: "insecure"}
	if c.TLS != nil {
		if c.TLS.ServerName != "" {
			return nil, errors.New("--xds-tls-server-name: gRPC's bootstrap has no server name override; use a certificate for the xds-address host")
		}
		cred = grpcChannelCred{Type: "tls", Config: &grpcTLSConfig{
			CAFile: c.TLS.CAFile, CertFile: c.TLS.CertFile, KeyFile: c.TLS.KeyFile, RefreshInterval: GRPCCertRefreshInterval,
		}}
	}
	b := grpcBootstrap{
		XDSServers:                         []grpcXDSServer{{ServerURI: c.XDSAddress, ChannelCreds: []grpcChannelCred{cred}, ServerFeatures: []string{"xds_v3"}}},
		Node:                               grpcNode{ID: c.NodeID, Cluster: c.NodeCluster, Metadata: map[string]bool{xds.ProxylessMetadataKey: true}},
		ServerListenerResourceNameTemplate: serverListenerTemplate,
	}
	out, err := json.MarshalIndent(b, "", "  ")
	return append(out, '\n'), err
}
