package tests

import (
	"context"
	"fmt"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/fairwayhq/fairway/translator"
	"github.com/fairwayhq/fairway/translator/gatewayapi"
)

// readBack lists, from the API server, every object of the kinds fairway
// reads, in every namespace (fairway watches them all here), so that the
// translation has the server's creation times, generations, defaults and
// status, as fairway's caches do.
func readBack(ctx context.Context, cs kubernetes.Interface, gw gatewayclient.Interface) (translator.Input, error) {
	var in translator.Input
	all := metav1.ListOptions{}
	v1 := gw.GatewayV1()
	steps := []func() error{
		func() error { return listInto(&in.Namespaces)(cs.CoreV1().Namespaces().List(ctx, all)) },
		func() error { return listInto(&in.Services)(cs.CoreV1().Services("").List(ctx, all)) },
		func() error { return listInto(&in.Secrets)(cs.CoreV1().Secrets("").List(ctx, all)) },
		func() error { return listInto(&in.EndpointSlices)(cs.DiscoveryV1().EndpointSlices("").List(ctx, all)) },
		func() error { return listInto(&in.Ingresses)(cs.NetworkingV1().Ingresses("").List(ctx, all)) },
		func() error { return listInto(&in.IngressClasses)(cs.NetworkingV1().IngressClasses().List(ctx, all)) },
		func() error { return listInto(&in.GatewayClasses)(v1.GatewayClasses().List(ctx, all)) },
		func() error { return listInto(&in.Gateways)(v1.Gateways("").List(ctx, all)) },
		func() error { return listInto(&in.HTTPRoutes)(v1.HTTPRoutes("").List(ctx, all)) },
		func() error { return listInto(&in.GRPCRoutes)(v1.GRPCRoutes("").List(ctx, all)) },
		func() error { return listInto(&in.TLSRoutes)(v1.TLSRoutes("").List(ctx, all)) },
		func() error { return listInto(&in.TCPRoutes)(v1.TCPRoutes("").List(ctx, all)) },
		func() error { return listInto(&in.UDPRoutes)(v1.UDPRoutes("").List(ctx, all)) },
		func() error { return listInto(&in.ReferenceGrants)(v1.ReferenceGrants("").List(ctx, all)) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return in, err
		}
	}
	return in, nil
}

// listInto returns a function that stores a List call's items in dst.
func listInto[T any](dst *[]*T) func(list runtime.Object, err error) error {
	return func(list runtime.Object, err error) error {
		if err != nil {
			return err
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return err
		}
		*dst = nil
		for _, it := range items {
			*dst = append(*dst, it.(any).(*T))
		}
		return nil
	}
}

// statusDiffs compares the status the API server holds, in in, with what
// the translator says of in: every GatewayClass and Gateway of fairway's,
// and fairway's entries in every route's status.parents. Conditions are
// compared whole but for lastTransitionTime, which must be set.
func statusDiffs(in translator.Input, want gatewayapi.Status, fleet []string) []string {
	var d diffs
	classes := map[string]gatewayapi.GatewayClassStatus{}
	for _, c := range want.GatewayClasses {
		classes[c.Name] = c
	}
	for _, gc := range in.GatewayClasses {
		w, ok := classes[gc.Name]
		if gc.Spec.ControllerName != translator.DefaultGatewayController {
			if ok {
				d.add("GatewayClass %s is not fairway's, yet the translator gives it a status", gc.Name)
			}
			continue
		}
		if !ok {
			d.add("GatewayClass %s: the translator gives no status", gc.Name)
			continue
		}
		d.conditions("GatewayClass "+gc.Name, gc.Status.Conditions, w.Status.Conditions)
		d.same("GatewayClass "+gc.Name+" supportedFeatures", gc.Status.SupportedFeatures, w.Status.SupportedFeatures)
	}
	gateways := map[string]gatewayapi.GatewayStatus{}
	for _, g := range want.Gateways {
		gateways[g.Namespace+"/"+g.Name] = g
	}
	for _, g := range in.Gateways {
		w, ok := gateways[g.Namespace+"/"+g.Name]
		if !ok {
			if len(g.Status.Listeners) > 0 || len(g.Status.Addresses) > 0 {
				d.add("Gateway %s/%s: the translator gives no status, the API server has %+v", g.Namespace, g.Name, g.Status)
			}
			continue
		}
		d.gateway(g, w.Status, fleet)
	}
	d.routes(in, want.Routes)
	return d.list
}

// diffs collects the differences found.
type diffs struct{ list []string }

func (d *diffs) add(format string, args ...any) {
	d.list = append(d.list, fmt.Sprintf(format, args...))
}

func (d *diffs) same(what string, got, want any) {
	if diff := cmp.Diff(want, got); diff != "" {
		d.add("%s (-translator +API server):\n%s", what, diff)
	}
}

// conditions: the same conditions in the same order, each with a
// lastTransitionTime, which the translator leaves to the writer.
func (d *diffs) conditions(what string, got, want []metav1.Condition) {
	stripped := make([]metav1.Condition, len(got))
	for i, c := range got {
		if c.LastTransitionTime.IsZero() {
			d.add("%s: condition %s has no lastTransitionTime", what, c.Type)
		}
		c.LastTransitionTime = metav1.Time{}
		stripped[i] = c
	}
	if len(want) == 0 {
		want = nil
	}
	if len(stripped) == 0 {
		stripped = nil
	}
	d.same(what+" conditions", stripped, want)
}

// gateway compares one Gateway's status. Its addresses are the
// translator's (the pool's), with the CRD's default type written out;
// when the translator gives none, those the status writer completes
// (gatewayapi.OnFleet): an accepted Gateway not refused an address of
// its own has the fleet's, and is not programmed if its spec names an
// address the fleet does not have.
func (d *diffs) gateway(g *gatewayv1.Gateway, want gatewayv1.GatewayStatus, fleet []string) {
	what := "Gateway " + g.Namespace + "/" + g.Name
	want = *want.DeepCopy()
	onFleet := []gatewayv1.GatewayStatusAddress{}
	for _, ip := range fleet {
		onFleet = append(onFleet, gatewayv1.GatewayStatusAddress{Type: ptrTo(gatewayv1.IPAddressType), Value: ip})
	}
	gatewayapi.OnFleet(&want, g.Spec.Addresses, onFleet)
	d.conditions(what, g.Status.Conditions, want.Conditions)
	addrs := []gatewayv1.GatewayStatusAddress{}
	for _, a := range want.Addresses {
		if a.Type == nil {
			a.Type = ptrTo(gatewayv1.IPAddressType)
		}
		addrs = append(addrs, a)
	}
	got := g.Status.Addresses
	if got == nil {
		got = []gatewayv1.GatewayStatusAddress{}
	}
	d.same(what+" addresses", got, addrs)
	if len(g.Status.Listeners) != len(want.Listeners) {
		d.add("%s: listeners %d in the API server, %d from the translator", what, len(g.Status.Listeners), len(want.Listeners))
		return
	}
	for i, l := range g.Status.Listeners {
		w := want.Listeners[i]
		lwhat := fmt.Sprintf("%s listener %s", what, w.Name)
		if l.Name != w.Name || l.AttachedRoutes != w.AttachedRoutes {
			d.add("%s: name %s, attachedRoutes %d in the API server; want %s, %d", lwhat, l.Name, l.AttachedRoutes, w.Name, w.AttachedRoutes)
		}
		kinds := []gatewayv1.RouteGroupKind{}
		for _, k := range w.SupportedKinds {
			if k.Group == nil {
				k.Group = ptrTo(gatewayv1.Group(gatewayv1.GroupName))
			}
			kinds = append(kinds, k)
		}
		gotKinds := l.SupportedKinds
		if gotKinds == nil {
			gotKinds = []gatewayv1.RouteGroupKind{}
		}
		d.same(lwhat+" supportedKinds", gotKinds, kinds)
		d.conditions(lwhat, l.Conditions, w.Conditions)
	}
}

// routes compares fairway's entries in each route's status.parents
// (controllerName fairway's) with the translator's, in order; a route
// the translator lists nothing for must have no entry of fairway's.
func (d *diffs) routes(in translator.Input, want []gatewayapi.RouteStatus) {
	parents := map[string][]gatewayv1.RouteParentStatus{}
	for _, r := range want {
		parents[r.Kind+" "+r.Namespace+"/"+r.Name] = r.Parents
	}
	for _, r := range inputRoutes(in) {
		name := r.kind + " " + r.meta.Namespace + "/" + r.meta.Name
		var ours []gatewayv1.RouteParentStatus
		for _, p := range r.parents {
			if p.ControllerName == translator.DefaultGatewayController {
				ours = append(ours, p)
			}
		}
		w := parents[name]
		if len(ours) != len(w) {
			d.add("%s: %d parents of fairway's in the API server, %d from the translator:\n API server %+v\n translator %+v", name, len(ours), len(w), ours, w)
			continue
		}
		for i, p := range ours {
			wp := w[i]
			ref := wp.ParentRef
			if ref.Group == nil {
				ref.Group = ptrTo(gatewayv1.Group(gatewayv1.GroupName))
			}
			if ref.Kind == nil {
				ref.Kind = ptrTo(gatewayv1.Kind("Gateway"))
			}
			pwhat := fmt.Sprintf("%s parent %s", name, ref.Name)
			d.same(pwhat+" parentRef", p.ParentRef, ref)
			d.conditions(pwhat, p.Conditions, wp.Conditions)
		}
	}
}

// inputRoute is one route of any kind, as routes reads it.
type inputRoute struct {
	kind    string
	meta    *metav1.ObjectMeta
	parents []gatewayv1.RouteParentStatus
}

func inputRoutes(in translator.Input) []inputRoute {
	var out []inputRoute
	for _, r := range in.HTTPRoutes {
		out = append(out, inputRoute{"HTTPRoute", &r.ObjectMeta, r.Status.Parents})
	}
	for _, r := range in.GRPCRoutes {
		out = append(out, inputRoute{"GRPCRoute", &r.ObjectMeta, r.Status.Parents})
	}
	for _, r := range in.TLSRoutes {
		out = append(out, inputRoute{"TLSRoute", &r.ObjectMeta, r.Status.Parents})
	}
	for _, r := range in.TCPRoutes {
		out = append(out, inputRoute{"TCPRoute", &r.ObjectMeta, r.Status.Parents})
	}
	for _, r := range in.UDPRoutes {
		out = append(out, inputRoute{"UDPRoute", &r.ObjectMeta, r.Status.Parents})
	}
	return out
}
