package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// syncCases mutate the in-sync dump of TestConfigDumpDecoding into each
// state the readiness check must tell apart.
var syncCases = []struct {
	name    string
	mutate  func(*dumpProtos, *[]stream)
	gap     string // a substring of the gap; "" for in sync
	wantErr string
}{
	{name: "in sync"},
	{name: "old LDS version", mutate: func(d *dumpProtos, _ *[]stream) { d.listeners.VersionInfo = "L-1" }, gap: "LDS version"},
	{name: "listener missing", mutate: func(d *dumpProtos, _ *[]stream) { d.listeners.DynamicListeners = d.listeners.DynamicListeners[:1] }, gap: "active listeners"},
	{name: "listener warming", mutate: func(d *dumpProtos, _ *[]stream) {
		d.listeners.DynamicListeners[0].WarmingState = d.listeners.DynamicListeners[0].ActiveState
	}, gap: "warming"},
	{name: "old CDS version", mutate: func(d *dumpProtos, _ *[]stream) { d.clusters.VersionInfo = "C-1" }, gap: "CDS version"},
	{name: "cluster warming", mutate: func(d *dumpProtos, _ *[]stream) {
		d.clusters.DynamicWarmingClusters = d.clusters.DynamicActiveClusters[1:] // an update of it
	}, gap: "still warming"},
	{name: "cluster missing", mutate: func(d *dumpProtos, _ *[]stream) {
		d.clusters.DynamicActiveClusters = d.clusters.DynamicActiveClusters[:1]
	}, gap: "active clusters"},
	{name: "route table missing", mutate: func(d *dumpProtos, _ *[]stream) { d.routes.DynamicRouteConfigs = nil }, gap: "route tables"},
	{name: "secret warming", mutate: func(d *dumpProtos, _ *[]stream) {
		d.secrets.DynamicWarmingSecrets, d.secrets.DynamicActiveSecrets = d.secrets.DynamicActiveSecrets, nil
	}, gap: "active secrets"},
	{name: "route not ACKed", mutate: func(_ *dumpProtos, s *[]stream) { (*s)[0].Acked["route"] = "R-0" }, gap: "ACKed route"},
	{name: "no stream", mutate: func(_ *dumpProtos, s *[]stream) { *s = nil }, gap: "no xDS stream"},
	{name: "NACK", mutate: func(_ *dumpProtos, s *[]stream) {
		(*s)[0].LastNACK = &struct{ Type, Version, Message string }{"listener", "L-2", "bad"}
	}, wantErr: "NACKed listener"},
	{name: "listener rejected", mutate: func(d *dumpProtos, _ *[]stream) {
		d.listeners.DynamicListeners[1].ErrorState = &adminv3.UpdateFailureState{Details: "cannot bind"}
	}, wantErr: "cannot bind"},
}

// TestConfigDumpDecoding needs no Envoy: it holds the readiness check's
// minimal JSON structs to envoy.admin.v3's protos, by encoding a config
// dump from those protos the way Envoy prints it (proto field names, Anys
// with @type) and deciding sync from it. A renamed or misspelt field would
// otherwise only show as a readiness timeout where Envoy runs.
func TestConfigDumpDecoding(t *testing.T) {
	t.Parallel()
	p := &published{
		Listeners: []named{{"http"}, {"tcp-5432"}},
		Routes:    []named{{"http"}},
		Clusters:  []named{{"e2e/a/80"}, {"e2e/b/5432"}},
		Endpoints: []json.RawMessage{json.RawMessage(`{}`), json.RawMessage(`{}`)},
		Secrets:   []named{{"e2e/tls"}},
		Versions: map[string]map[string]string{"envoy": {
			"listener": "L-2", "route": "R-1", "cluster": "C-2", "endpoint": "E-2", "secret": "S-1",
		}},
	}
	acked := func() []stream {
		return []stream{{NodeID: envoyNodeID, Stream: "delta", Acked: map[string]string{
			"listener": "L-2", "route": "R-1", "cluster": "C-2", "endpoint": "E-2", "secret": "S-1",
		}}}
	}
	for _, c := range syncCases {
		t.Run(c.name, func(t *testing.T) {
			d, streams := newDumpProtos(t), acked()
			if c.mutate != nil {
				c.mutate(d, &streams)
			}
			decoded, err := decodeConfigDump(d.json(t))
			mustOK(t, err)
			gap, err := syncGap(p, decoded, streams, envoyNodeID)
			switch {
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Errorf("error %v, want one with %q", err, c.wantErr)
			case c.wantErr == "" && err != nil:
				t.Errorf("error %v", err)
			case c.wantErr == "" && !gapMatches(gap, c.gap):
				t.Errorf("gap %q, want one with %q", gap, c.gap)
			}
			// TestTCPSurvivesIngressEdit compares these two fields.
			if l := decoded.listener("tcp-5432"); c.mutate == nil && (l == nil || l.ActiveState == nil ||
				l.ActiveState.VersionInfo != "hash-tcp-5432" || l.ActiveState.LastUpdated == "") {
				t.Errorf("listener tcp-5432 decoded as %+v", l)
			}
		})
	}
}

func gapMatches(gap, want string) bool {
	if want == "" {
		return gap == ""
	}
	return strings.Contains(gap, want)
}

// dumpProtos is a config dump as Envoy keeps it after applying p of
// TestConfigDumpDecoding over delta xDS: system versions on LDS and CDS,
// each resource's own hash as its version_info.
type dumpProtos struct {
	listeners *adminv3.ListenersConfigDump
	clusters  *adminv3.ClustersConfigDump
	routes    *adminv3.RoutesConfigDump
	secrets   *adminv3.SecretsConfigDump
}

func newDumpProtos(t *testing.T) *dumpProtos {
	now := timestamppb.New(time.Now())
	pack := func(m proto.Message) *anypb.Any {
		a, err := anypb.New(m)
		mustOK(t, err)
		return a
	}
	d := &dumpProtos{
		listeners: &adminv3.ListenersConfigDump{VersionInfo: "L-2"},
		clusters:  &adminv3.ClustersConfigDump{VersionInfo: "C-2"},
		routes:    &adminv3.RoutesConfigDump{},
		secrets:   &adminv3.SecretsConfigDump{},
	}
	for _, name := range []string{"http", "tcp-5432"} {
		d.listeners.DynamicListeners = append(d.listeners.DynamicListeners, &adminv3.ListenersConfigDump_DynamicListener{
			Name: name, ActiveState: &adminv3.ListenersConfigDump_DynamicListenerState{
				VersionInfo: "hash-" + name, Listener: pack(&listenerv3.Listener{Name: name}), LastUpdated: now,
			},
		})
	}
	for _, name := range []string{"e2e/a/80", "e2e/b/5432"} {
		d.clusters.DynamicActiveClusters = append(d.clusters.DynamicActiveClusters, &adminv3.ClustersConfigDump_DynamicCluster{
			VersionInfo: "hash-" + name, Cluster: pack(&clusterv3.Cluster{Name: name}), LastUpdated: now,
		})
	}
	d.clusters.StaticClusters = []*adminv3.ClustersConfigDump_StaticCluster{{Cluster: pack(&clusterv3.Cluster{Name: "xds_cluster"})}}
	d.routes.DynamicRouteConfigs = []*adminv3.RoutesConfigDump_DynamicRouteConfig{{
		VersionInfo: "hash-http", RouteConfig: pack(&routev3.RouteConfiguration{Name: "http"}), LastUpdated: now,
	}}
	d.secrets.DynamicActiveSecrets = []*adminv3.SecretsConfigDump_DynamicSecret{{
		Name: "e2e/tls", VersionInfo: "hash-tls", LastUpdated: now, Secret: pack(&tlsv3.Secret{Name: "e2e/tls"}),
	}}
	return d
}

// json prints the dump as Envoy's admin does, bootstrap first.
func (d *dumpProtos) json(t *testing.T) []byte {
	var configs []*anypb.Any
	for _, m := range []proto.Message{&adminv3.BootstrapConfigDump{Bootstrap: &bootstrapv3.Bootstrap{}}, d.clusters, d.listeners, d.routes, d.secrets} {
		a, err := anypb.New(m)
		mustOK(t, err)
		configs = append(configs, a)
	}
	out, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(&adminv3.ConfigDump{Configs: configs})
	mustOK(t, err)
	return out
}
