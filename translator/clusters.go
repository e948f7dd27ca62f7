package translator

import (
	"github.com/fairwayhq/fairway/envoy"
)

// clusterState counts the users of every cluster (routes, the default
// backend, listeners), so a cluster and its endpoints exist exactly while
// something routes to them.
type clusterState struct {
	users map[string]int
	keys  map[string]clusterKey
	bySvc map[nsName]map[string]bool
	// dirty are clusters whose presence or endpoints need an update.
	dirty    map[string]bool
	problems map[string][]Problem // of each cluster's endpoints
}

func (c *clusterState) init() {
	c.users = map[string]int{}
	c.keys = map[string]clusterKey{}
	c.bySvc = map[nsName]map[string]bool{}
	c.dirty = map[string]bool{}
	c.problems = map[string][]Problem{}
}

func (c *clusterState) acquire(used map[clusterKey]string) {
	for k, name := range used {
		if c.users[name] == 0 {
			c.keys[name] = k
			svc := nsName{k.namespace, k.service}
			if c.bySvc[svc] == nil {
				c.bySvc[svc] = map[string]bool{}
			}
			c.bySvc[svc][name] = true
			c.dirty[name] = true
		}
		c.users[name]++
	}
}

func (c *clusterState) release(used map[clusterKey]string) {
	for k, name := range used {
		if c.users[name]--; c.users[name] > 0 {
			continue
		}
		delete(c.users, name)
		delete(c.keys, name)
		svc := nsName{k.namespace, k.service}
		delete(c.bySvc[svc], name)
		if len(c.bySvc[svc]) == 0 {
			delete(c.bySvc, svc)
		}
		c.dirty[name] = true
	}
}

// updateClusters brings the clusters and endpoints in line with the users,
// recomputing the endpoints of dirty clusters only.
func (e *Engine) updateClusters() error {
	for svc := range e.dirty.services {
		for name := range e.clusters.bySvc[svc] {
			e.clusters.dirty[name] = true
		}
	}
	for name := range e.clusters.dirty {
		delete(e.clusters.dirty, name)
		k, used := e.clusters.keys[name]
		if !used {
			e.envoy.remove(KindCluster, name)
			e.envoy.remove(KindEndpoint, name)
			delete(e.clusters.problems, name)
			continue
		}
		if e.envoy.Get(KindCluster, name) == nil {
			r, err := encodeCluster(name)
			if err != nil {
				return err
			}
			e.envoy.put(KindCluster, r)
		}
		t := e.scope()
		r, err := encode(name, t.loadAssignment(k, name), nil)
		if err != nil {
			return err
		}
		e.envoy.put(KindEndpoint, r)
		e.clusters.problems[name] = t.problems
	}
	return nil
}

func encodeCluster(name string) (*Resource, error) {
	return encode(name, envoy.EDSCluster(name), []Ref{{KindEndpoint, name}})
}
