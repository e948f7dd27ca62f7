package translator

import (
	"slices"
	"sync"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/fairwayhq/fairway/envoy"
)

// clusterState counts the users of every cluster (routes, the default
// backend, listeners), so a cluster and its endpoints exist exactly while
// something routes to them.
type clusterState struct {
	users map[string]int
	keys  map[string]clusterKey
	bySvc map[nsName][]string // Service -> the clusters in use holding its endpoints
	// dirty are clusters whose presence or endpoints need an update.
	dirty map[string]bool
	// tlsSecrets counts the clusters using each proxy-ssl-secret.
	tlsSecrets map[nsName]int
}

func (c *clusterState) init() {
	c.users = map[string]int{}
	c.keys = map[string]clusterKey{}
	c.bySvc = map[nsName][]string{}
	c.dirty = map[string]bool{}
	c.tlsSecrets = map[nsName]int{}
}

func (c *clusterState) acquire(used []clusterUse) {
	for _, u := range used {
		k, name := u.key, u.name
		if c.users[name] == 0 {
			c.keys[name] = k
			for _, svc := range k.services() {
				c.bySvc[svc] = append(c.bySvc[svc], name)
			}
			c.dirty[name] = true
			if k.tlsSecret != nil {
				c.tlsSecrets[*k.tlsSecret]++
			}
		}
		c.users[name]++
	}
}

func (c *clusterState) release(used []clusterUse) {
	for _, u := range used {
		k, name := u.key, u.name
		if c.users[name]--; c.users[name] > 0 {
			continue
		}
		delete(c.users, name)
		delete(c.keys, name)
		if k.tlsSecret != nil {
			if c.tlsSecrets[*k.tlsSecret]--; c.tlsSecrets[*k.tlsSecret] == 0 {
				delete(c.tlsSecrets, *k.tlsSecret)
			}
		}
		for _, svc := range k.services() {
			if rest := slices.DeleteFunc(c.bySvc[svc], func(n string) bool { return n == name }); len(rest) == 0 {
				delete(c.bySvc, svc)
			} else {
				c.bySvc[svc] = rest
			}
		}
		c.dirty[name] = true
	}
}

// updateClusters brings the clusters and endpoints in line with the users,
// recomputing the endpoints of dirty clusters only.
func (e *Engine) updateClusters() error {
	for svc := range e.dirty.services {
		for _, name := range e.clusters.bySvc[svc] {
			e.clusters.dirty[name] = true
		}
	}
	type built struct {
		name      string
		used      bool
		endpoints *Resource
		problems  []Problem
	}
	work := make([]built, 0, len(e.clusters.dirty))
	for name := range e.clusters.dirty {
		_, used := e.clusters.keys[name]
		work = append(work, built{name: name, used: used})
	}
	clear(e.clusters.dirty)
	forEach(len(work), func(i int) {
		if w := &work[i]; w.used && e.clusters.keys[w.name].dns == nil {
			t := e.scope()
			w.endpoints = t.loadAssignment(e.clusters.keys[w.name], w.name)
			w.problems = t.problems
		}
	})
	for _, w := range work {
		if !w.used {
			e.envoy.remove(KindCluster, w.name)
			e.envoy.remove(KindEndpoint, w.name)
			e.setProblems(slot{piece: slotCluster, name: w.name}, nil)
			continue
		}
		if e.envoy.Get(KindCluster, w.name) == nil {
			r, err := clusterResource(w.name, e.clusters.keys[w.name])
			if err != nil {
				return err
			}
			e.envoy.put(KindCluster, r)
		}
		if w.endpoints != nil { // nil for a DNS cluster, which has no EDS
			e.envoy.put(KindEndpoint, w.endpoints)
		}
		e.setProblems(slot{piece: slotCluster, name: w.name}, w.problems)
	}
	return nil
}

// encodeCluster encodes an EDS cluster. They differ only in the name,
// field 1, encoded first: so the rest is encoded once, and each cluster is
// its name plus that tail (TestClusterTemplate holds the bytes equal).
func encodeCluster(name string) (*Resource, error) {
	tail, err := clusterTail()
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(name)+len(tail)+6)
	b = protowire.AppendString(protowire.AppendTag(b, 1, protowire.BytesType), name)
	return newResource(name, append(b, tail...), []Ref{{KindEndpoint, name}}), nil
}

var clusterTail = sync.OnceValues(func() ([]byte, error) {
	const probe = "x"
	r, err := encode(probe, envoy.EDSCluster(probe), nil)
	if err != nil {
		return nil, err
	}
	return r.Bytes[len(protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), probe)):], nil
})
