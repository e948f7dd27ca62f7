package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Envoy's /config_dump, decoded into just the fields the readiness check
// reads. Envoy prints proto field names (snake_case); the structs follow
// envoy.admin.v3's ListenersConfigDump, ClustersConfigDump,
// RoutesConfigDump and SecretsConfigDump, and TestConfigDumpDecoding holds
// them to those protos. Minimal structs, rather than protojson into the
// admin types, keep the check independent of which extension types the test
// binary happens to register.
type envoyDump struct {
	Listeners listenersDump
	Clusters  clustersDump
	Routes    routesDump
	Secrets   secretsDump
}

type listenersDump struct {
	VersionInfo      string            `json:"version_info"`
	DynamicListeners []dynamicListener `json:"dynamic_listeners"`
}

type dynamicListener struct {
	Name          string         `json:"name"`
	ActiveState   *listenerState `json:"active_state"`
	WarmingState  *listenerState `json:"warming_state"`
	DrainingState *listenerState `json:"draining_state"`
	ErrorState    *updateFailure `json:"error_state"`
}

type listenerState struct {
	VersionInfo string `json:"version_info"`
	LastUpdated string `json:"last_updated"`
}

type updateFailure struct {
	Details     string `json:"details"`
	VersionInfo string `json:"version_info"`
}

type clustersDump struct {
	VersionInfo            string           `json:"version_info"`
	DynamicActiveClusters  []dynamicCluster `json:"dynamic_active_clusters"`
	DynamicWarmingClusters []dynamicCluster `json:"dynamic_warming_clusters"`
}

type dynamicCluster struct {
	VersionInfo string         `json:"version_info"`
	Cluster     named          `json:"cluster"`
	LastUpdated string         `json:"last_updated"`
	ErrorState  *updateFailure `json:"error_state"`
}

type routesDump struct {
	DynamicRouteConfigs []dynamicRoute `json:"dynamic_route_configs"`
}

type dynamicRoute struct {
	VersionInfo string         `json:"version_info"`
	RouteConfig named          `json:"route_config"`
	LastUpdated string         `json:"last_updated"`
	ErrorState  *updateFailure `json:"error_state"`
}

type secretsDump struct {
	DynamicActiveSecrets  []dynamicSecret `json:"dynamic_active_secrets"`
	DynamicWarmingSecrets []dynamicSecret `json:"dynamic_warming_secrets"`
}

type dynamicSecret struct {
	Name        string `json:"name"`
	VersionInfo string `json:"version_info"`
	LastUpdated string `json:"last_updated"`
}

// named is any resource (an Any in the dump) of which only the name matters.
type named struct {
	Name string `json:"name"`
}

const adminTypePrefix = "type.googleapis.com/envoy.admin.v3."

// decodeConfigDump picks the four dumps out of /config_dump's configs by
// their @type; the others (bootstrap, scoped routes, ...) are skipped.
func decodeConfigDump(body []byte) (*envoyDump, error) {
	var raw struct {
		Configs []json.RawMessage `json:"configs"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("config_dump: %v", err)
	}
	d := &envoyDump{}
	for _, c := range raw.Configs {
		var typed struct {
			Type string `json:"@type"`
		}
		if err := json.Unmarshal(c, &typed); err != nil {
			return nil, fmt.Errorf("config_dump: %v", err)
		}
		var into any
		switch strings.TrimPrefix(typed.Type, adminTypePrefix) {
		case "ListenersConfigDump":
			into = &d.Listeners
		case "ClustersConfigDump":
			into = &d.Clusters
		case "RoutesConfigDump":
			into = &d.Routes
		case "SecretsConfigDump":
			into = &d.Secrets
		default:
			continue
		}
		if err := json.Unmarshal(c, into); err != nil {
			return nil, fmt.Errorf("config_dump %s: %v", typed.Type, err)
		}
	}
	return d, nil
}

// listener is the dynamic listener of that name, or nil.
func (d *envoyDump) listener(name string) *dynamicListener {
	for i := range d.Listeners.DynamicListeners {
		if d.Listeners.DynamicListeners[i].Name == name {
			return &d.Listeners.DynamicListeners[i]
		}
	}
	return nil
}

// published is what fairway says it serves Envoys: the names of each type
// and the per-type versions, from its /debug/snapshot.
type published struct {
	Listeners []named                      `json:"listeners"`
	Routes    []named                      `json:"routes"`
	Clusters  []named                      `json:"clusters"`
	Endpoints []json.RawMessage            `json:"endpoints"`
	Secrets   []named                      `json:"secrets"`
	Versions  map[string]map[string]string `json:"versions"`
	Problems  []problem                    `json:"problems"`
}

type problem struct {
	Kind, Namespace, Name, Reason, Message string
}

// envoyVersion is the version fairway publishes to Envoys for a type
// ("listener", "cluster", "route", "endpoint", "secret").
func (p *published) envoyVersion(typ string) string { return p.Versions["envoy"][typ] }

// stream is the part of a /debug/nodes entry the check reads.
type stream struct {
	NodeID   string            `json:"node_id"`
	Stream   string            `json:"stream"`
	Acked    map[string]string `json:"acked"`
	LastNACK *struct {
		Type, Version, Message string
	} `json:"last_nack"`
}

// names lists the names of a slice of resources, sorted.
func names[T any](items []T, name func(T) string) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, name(it))
	}
	slices.Sort(out)
	return out
}

func nameOf(n named) string { return n.Name }

// syncGap says why Envoy does not yet run exactly what fairway publishes
// ("" when it does); err is for states that waiting cannot fix: a NACK or
// a rejected resource. In sync means: LDS and CDS system versions equal
// fairway's (Envoy sets them when it applies a response; with delta xDS the
// per-resource version_info is each resource's own hash instead), the
// active listeners and clusters are exactly the published ones, nothing is
// warming, every published route table and secret is present, and fairway
// has the node's ACK of the current version of every type it publishes.
func syncGap(p *published, d *envoyDump, streams []stream, nodeID string) (gap string, err error) {
	if err := rejected(d, streams, nodeID); err != nil {
		return "", err
	}
	var active, warming []string
	for _, l := range d.Listeners.DynamicListeners {
		if l.ActiveState != nil {
			active = append(active, l.Name)
		}
		if l.WarmingState != nil {
			warming = append(warming, l.Name)
		}
	}
	slices.Sort(active)
	routes := names(d.Routes.DynamicRouteConfigs, func(r dynamicRoute) string { return r.RouteConfig.Name })
	secrets := names(d.Secrets.DynamicActiveSecrets, func(s dynamicSecret) string { return s.Name })
	switch {
	case d.Listeners.VersionInfo != p.envoyVersion("listener"):
		return fmt.Sprintf("LDS version %q, fairway publishes %q", d.Listeners.VersionInfo, p.envoyVersion("listener")), nil
	case !slices.Equal(active, names(p.Listeners, nameOf)):
		return fmt.Sprintf("active listeners %v, fairway publishes %v", active, names(p.Listeners, nameOf)), nil
	case len(warming) > 0:
		return fmt.Sprintf("listeners %v still warming", warming), nil
	case d.Clusters.VersionInfo != p.envoyVersion("cluster"):
		return fmt.Sprintf("CDS version %q, fairway publishes %q", d.Clusters.VersionInfo, p.envoyVersion("cluster")), nil
	case !slices.Equal(names(d.Clusters.DynamicActiveClusters, clusterName), names(p.Clusters, nameOf)):
		return fmt.Sprintf("active clusters %v, fairway publishes %v", names(d.Clusters.DynamicActiveClusters, clusterName), names(p.Clusters, nameOf)), nil
	case len(d.Clusters.DynamicWarmingClusters) > 0:
		return fmt.Sprintf("clusters %v still warming", names(d.Clusters.DynamicWarmingClusters, clusterName)), nil
	case !subset(names(p.Routes, nameOf), routes):
		return fmt.Sprintf("route tables %v, fairway publishes %v", routes, names(p.Routes, nameOf)), nil
	case !subset(names(p.Secrets, nameOf), secrets) || len(d.Secrets.DynamicWarmingSecrets) > 0:
		return fmt.Sprintf("active secrets %v (%d warming), fairway publishes %v", secrets, len(d.Secrets.DynamicWarmingSecrets), names(p.Secrets, nameOf)), nil
	}
	return ackGap(p, streams, nodeID), nil
}

func clusterName(c dynamicCluster) string { return c.Cluster.Name }

// ackGap checks fairway's side: the node's stream ACKed the published
// version of every type that has resources (Envoy subscribes to no type
// that is empty, so those have no ACK to wait for). /debug/nodes lists a
// node's streams oldest first; a reconnected Envoy's is the last.
func ackGap(p *published, streams []stream, nodeID string) string {
	var latest *stream
	for i := range streams {
		if streams[i].NodeID == nodeID {
			latest = &streams[i]
		}
	}
	if latest == nil {
		return fmt.Sprintf("no xDS stream from node %s in fairway's /debug/nodes", nodeID)
	}
	counts := map[string]int{
		"listener": len(p.Listeners), "route": len(p.Routes), "cluster": len(p.Clusters),
		"endpoint": len(p.Endpoints), "secret": len(p.Secrets),
	}
	for _, typ := range sortedKeys(counts) {
		if counts[typ] > 0 && latest.Acked[typ] != p.envoyVersion(typ) {
			return fmt.Sprintf("node %s ACKed %s version %q, fairway publishes %q", nodeID, typ, latest.Acked[typ], p.envoyVersion(typ))
		}
	}
	return ""
}

// rejected reports a NACK or a resource Envoy refused: waiting would only
// turn it into a timeout that hides Envoy's own message.
func rejected(d *envoyDump, streams []stream, nodeID string) error {
	for _, s := range streams {
		if s.NodeID == nodeID && s.LastNACK != nil {
			return fmt.Errorf("envoy NACKed %s version %s: %s", s.LastNACK.Type, s.LastNACK.Version, s.LastNACK.Message)
		}
	}
	for _, l := range d.Listeners.DynamicListeners {
		if l.ErrorState != nil {
			return fmt.Errorf("envoy rejected listener %s: %s", l.Name, l.ErrorState.Details)
		}
	}
	for _, c := range slices.Concat(d.Clusters.DynamicActiveClusters, d.Clusters.DynamicWarmingClusters) {
		if c.ErrorState != nil {
			return fmt.Errorf("envoy rejected cluster %s: %s", c.Cluster.Name, c.ErrorState.Details)
		}
	}
	for _, r := range d.Routes.DynamicRouteConfigs {
		if r.ErrorState != nil {
			return fmt.Errorf("envoy rejected route table %s: %s", r.RouteConfig.Name, r.ErrorState.Details)
		}
	}
	return nil
}

// subset reports whether every element of sorted a is in sorted b.
func subset(a, b []string) bool {
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); !ok {
			return false
		}
	}
	return true
}
