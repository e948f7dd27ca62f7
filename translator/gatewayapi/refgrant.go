package gatewayapi

import (
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// grants are the ReferenceGrants by the namespace they guard: a grant
// lives in the namespace of what it lets others refer to.
type grants map[string][]*gatewayv1.ReferenceGrant

func indexGrants(list []*gatewayv1.ReferenceGrant) grants {
	g := grants{}
	for _, rg := range list {
		g[rg.Namespace] = append(g[rg.Namespace], rg)
	}
	return g
}

// reference is one cross-namespace reference: from an object of group
// and kind in a namespace, to an object of group and kind, named, in
// another namespace.
type reference struct {
	fromGroup, fromKind, fromNamespace string
	toGroup, toKind, toNamespace, to   string
}

// allows says whether a ReferenceGrant in the target's namespace admits
// the reference. A reference within one namespace needs none. The grant's
// from and to entries are each OR-ed, and a to entry without a name
// admits every object of its kind, as the spec says.
func (g grants) allows(ref reference) bool {
	if ref.fromNamespace == ref.toNamespace {
		return true
	}
	for _, rg := range g[ref.toNamespace] {
		if grantsFrom(rg, ref) && grantsTo(rg, ref) {
			return true
		}
	}
	return false
}

func grantsFrom(rg *gatewayv1.ReferenceGrant, ref reference) bool {
	for _, f := range rg.Spec.From {
		if string(f.Group) == ref.fromGroup && string(f.Kind) == ref.fromKind && string(f.Namespace) == ref.fromNamespace {
			return true
		}
	}
	return false
}

func grantsTo(rg *gatewayv1.ReferenceGrant, ref reference) bool {
	for _, t := range rg.Spec.To {
		if string(t.Group) != ref.toGroup || string(t.Kind) != ref.toKind {
			continue
		}
		if t.Name == nil || *t.Name == "" || string(*t.Name) == ref.to {
			return true
		}
	}
	return false
}
