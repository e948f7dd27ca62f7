package xds

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	"github.com/fairwayhq/fairway/translator"
)

// published is one translation in the form the caches serve.
type published struct {
	result    *translator.Result
	envoy     *cachev3.Snapshot
	proxyless *cachev3.Snapshot
}

// newPublished validates a Result and builds its snapshots. It fails when
// any resource fails ValidateAll, a reference dangles, or go-control-plane's
// own Consistent check fails: then nothing is published.
func newPublished(res *translator.Result) (*published, error) {
	if err := res.Validate(); err != nil {
		return nil, fmt.Errorf("invalid resources: %w", err)
	}
	envoy, err := snapshotOf(map[types.ResponseType][]proto.Message{
		types.Listener: messages(res.Listeners),
		types.Route:    messages(res.Routes),
		types.Cluster:  messages(res.Clusters),
		types.Endpoint: messages(res.Endpoints),
		types.Secret:   messages(res.Secrets),
	})
	if err != nil {
		return nil, err
	}
	if err := envoy.Consistent(); err != nil {
		return nil, fmt.Errorf("inconsistent snapshot: %w", err)
	}
	// Consistent() misreads API listeners, so the proxyless set relies on
	// Validate above, which checks its references itself.
	proxyless, err := snapshotOf(map[types.ResponseType][]proto.Message{
		types.Listener: messages(res.Proxyless.Listeners),
		types.Route:    nil,
		types.Cluster:  messages(res.Proxyless.Clusters),
		types.Endpoint: messages(res.Proxyless.Endpoints),
		types.Secret:   nil,
	})
	if err != nil {
		return nil, err
	}
	return &published{result: res, envoy: envoy, proxyless: proxyless}, nil
}

func messages[M proto.Message](ms []M) []proto.Message {
	out := make([]proto.Message, len(ms))
	for i, m := range ms {
		out[i] = m
	}
	return out
}

// snapshotOf builds a snapshot whose every type has its own version: a hash
// of its resources' names and deterministic encodings. Equal content gives
// an equal version, across restarts too, so an unchanged type is never sent
// again and a reconnecting Envoy gets nothing new. Each resource is encoded
// once: the per-resource hashes are also the version map delta xDS needs.
func snapshotOf(byType map[types.ResponseType][]proto.Message) (*cachev3.Snapshot, error) {
	s := &cachev3.Snapshot{VersionMap: map[string]map[string]string{}}
	for typ, msgs := range byType {
		url, err := cachev3.GetResponseTypeURL(typ)
		if err != nil {
			return nil, err
		}
		items := make([]types.Resource, len(msgs))
		hashes := make(map[string]string, len(msgs))
		version := sha256.New()
		for i, m := range msgs {
			b, err := cachev3.MarshalResource(m)
			if err != nil {
				return nil, fmt.Errorf("encode %s: %w", url, err)
			}
			name := cachev3.GetResourceName(m)
			h := cachev3.HashResource(b)
			hashes[name] = h
			fmt.Fprintf(version, "%d:%s%d:%s", len(name), name, len(h), h)
			items[i] = m
		}
		s.Resources[typ] = cachev3.NewResources(hex.EncodeToString(version.Sum(nil))[:16], items)
		s.VersionMap[url] = hashes
	}
	return s, nil
}

// typeNames are the short names of the types fairway serves, for labels.
var typeNames = map[string]string{
	resourcev3.ListenerType: "listener",
	resourcev3.RouteType:    "route",
	resourcev3.ClusterType:  "cluster",
	resourcev3.EndpointType: "endpoint",
	resourcev3.SecretType:   "secret",
}

// typeName is the short name of a type URL, or the URL when unknown.
func typeName(url string) string {
	if n, ok := typeNames[url]; ok {
		return n
	}
	return url
}
