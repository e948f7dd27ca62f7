package translator

import (
	"cmp"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// nsName keys a namespaced object.
type nsName struct{ namespace, name string }

func keyOf(m *metav1.ObjectMeta) nsName { return nsName{m.Namespace, m.Name} }

// index is the Input arranged for lookups. Input order never reaches the
// output: informers list objects in map order, so everything that is walked
// is sorted first.
type index struct {
	services map[nsName]*corev1.Service
	// slices maps a Service to its EndpointSlices (by the
	// kubernetes.io/service-name label), sorted by name.
	slices  map[nsName][]*discoveryv1.EndpointSlice
	secrets map[nsName]*corev1.Secret
	// nodes is sorted by name.
	nodes []*corev1.Node
}

func newIndex(in Input) *index {
	idx := &index{
		services: make(map[nsName]*corev1.Service, len(in.Services)),
		slices:   make(map[nsName][]*discoveryv1.EndpointSlice, len(in.Services)),
		secrets:  make(map[nsName]*corev1.Secret, len(in.Secrets)),
	}
	for _, s := range in.Services {
		if s != nil {
			idx.services[keyOf(&s.ObjectMeta)] = s
		}
	}
	for _, es := range in.EndpointSlices {
		if es == nil {
			continue
		}
		svc := es.Labels[discoveryv1.LabelServiceName]
		if svc == "" {
			continue
		}
		k := nsName{es.Namespace, svc}
		idx.slices[k] = append(idx.slices[k], es)
	}
	for _, list := range idx.slices {
		slices.SortFunc(list, func(a, b *discoveryv1.EndpointSlice) int { return cmp.Compare(a.Name, b.Name) })
	}
	for _, s := range in.Secrets {
		if s != nil {
			idx.secrets[keyOf(&s.ObjectMeta)] = s
		}
	}
	for _, n := range in.Nodes {
		if n != nil {
			idx.nodes = append(idx.nodes, n)
		}
	}
	slices.SortFunc(idx.nodes, func(a, b *corev1.Node) int { return cmp.Compare(a.Name, b.Name) })
	return idx
}

// compareAge orders objects oldest first: by creationTimestamp, then
// namespace and name, so that equal timestamps (second resolution, or none
// at all in files) still give one order.
func compareAge(a, b *metav1.ObjectMeta) int {
	return cmp.Or(
		a.CreationTimestamp.Time.Compare(b.CreationTimestamp.Time),
		cmp.Compare(a.Namespace, b.Namespace),
		cmp.Compare(a.Name, b.Name),
	)
}

// sortedServices returns the Services sorted by namespace and name.
func (idx *index) sortedServices() []*corev1.Service {
	out := make([]*corev1.Service, 0, len(idx.services))
	for _, s := range idx.services {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *corev1.Service) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out
}
