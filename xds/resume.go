package xds

import (
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// resumingCache lets a SotW stream resume where the node left off. A node
// that reconnects (after a network blip, or a fairway restart, which
// publishes the same content-hash versions) sends the version it has. The
// snapshot cache, knowing nothing of what the new stream has received,
// would send every resource again to every node at once. When the version
// the node names is the snapshot's, the node has exactly that content, so
// the watch is made as if it had been sent, and waits for a change.
// Delta streams do the same on their own, with initial_resource_versions.
type resumingCache struct {
	cachev3.SnapshotCache
	groups groups
}

// CreateWatch is the snapshot cache's, with the resume above.
func (c resumingCache) CreateWatch(req *cachev3.Request, sub cachev3.Subscription, ch chan cachev3.Response) (func(), error) {
	if req.GetVersionInfo() != "" && len(sub.ReturnedResources()) == 0 {
		snap, err := c.GetSnapshot(c.groups.ID(req.GetNode()))
		if err == nil && snap.GetVersion(req.GetTypeUrl()) == req.GetVersionInfo() {
			returned := map[string]string{}
			for name := range snap.GetResources(req.GetTypeUrl()) {
				returned[name] = req.GetVersionInfo()
			}
			sub = resumed{Subscription: sub, returned: returned}
		}
	}
	return c.SnapshotCache.CreateWatch(req, sub, ch)
}

// resumed is a subscription that has already received the resources.
type resumed struct {
	cachev3.Subscription
	returned map[string]string
}

func (r resumed) ReturnedResources() map[string]string { return r.returned }
