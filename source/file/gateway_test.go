package file

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1alpha2 "sigs.k8s.io/gateway-api/apis/v1alpha2"
	gatewayv1alpha3 "sigs.k8s.io/gateway-api/apis/v1alpha3"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
)

const gatewayManifests = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: fairway}
spec: {controllerName: fairway.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: Gateway
metadata: {name: edge}
spec:
  gatewayClassName: fairway
  listeners:
  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {team: shop}}}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{name: edge, namespace: default}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: web, port: 80, weight: 3}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: GRPCRoute
metadata: {name: api, namespace: shop}
spec:
  parentRefs: [{name: edge, namespace: default}]
  rules: [{matches: [{method: {service: shop.Cart}}], backendRefs: [{name: api, port: 9000}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: pass, namespace: shop}
spec:
  hostnames: [db.example.com]
  rules: [{backendRefs: [{name: db, port: 5432}]}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: tcp, namespace: shop}
spec: {rules: [{backendRefs: [{name: db, port: 5432}]}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: UDPRoute
metadata: {name: dns, namespace: shop}
spec: {rules: [{backendRefs: [{name: dns, port: 53}]}]}
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: from-default, namespace: shop}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: default}]
  to: [{group: "", kind: Service}]
---
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
`

func TestDecodeGatewayAPIKinds(t *testing.T) {
	in, notes, err := Decode("gw.yaml", []byte(gatewayManifests))
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 0 {
		t.Errorf("notes = %v, want none", notes)
	}
	if len(in.GatewayClasses) != 1 || in.GatewayClasses[0].Spec.ControllerName != "fairway.dev/gateway-controller" || in.GatewayClasses[0].Namespace != "" {
		t.Errorf("gatewayClasses = %+v", in.GatewayClasses)
	}
	if len(in.Gateways) != 1 || in.Gateways[0].Namespace != DefaultNamespace ||
		in.Gateways[0].Spec.Listeners[0].AllowedRoutes.Namespaces.Selector.MatchLabels["team"] != "shop" {
		t.Errorf("gateways = %+v", in.Gateways)
	}
	if len(in.HTTPRoutes) != 1 || *in.HTTPRoutes[0].Spec.Rules[0].BackendRefs[0].Weight != 3 || in.HTTPRoutes[0].Namespace != "shop" {
		t.Errorf("httpRoutes = %+v", in.HTTPRoutes)
	}
	if len(in.GRPCRoutes) != 1 || *in.GRPCRoutes[0].Spec.Rules[0].Matches[0].Method.Service != "shop.Cart" {
		t.Errorf("grpcRoutes = %+v", in.GRPCRoutes)
	}
	if len(in.TLSRoutes) != 1 || in.TLSRoutes[0].Spec.Hostnames[0] != "db.example.com" {
		t.Errorf("tlsRoutes = %+v", in.TLSRoutes)
	}
	if len(in.TCPRoutes) != 1 || len(in.UDPRoutes) != 1 || len(in.ReferenceGrants) != 1 || in.ReferenceGrants[0].Spec.To[0].Kind != "Service" {
		t.Errorf("tcp %d, udp %d, referenceGrants %+v", len(in.TCPRoutes), len(in.UDPRoutes), in.ReferenceGrants)
	}
	if len(in.Namespaces) != 1 || in.Namespaces[0].Labels["team"] != "shop" {
		t.Errorf("namespaces = %+v", in.Namespaces)
	}
	// Older versions are decoded as v1, and say so.
	for _, tm := range []string{in.Gateways[0].APIVersion, in.GRPCRoutes[0].APIVersion, in.TCPRoutes[0].APIVersion, in.ReferenceGrants[0].APIVersion} {
		if tm != "gateway.networking.k8s.io/v1" {
			t.Errorf("apiVersion = %q, want gateway.networking.k8s.io/v1", tm)
		}
	}
}

func TestDecodeGatewayAPIUnknownVersionAndField(t *testing.T) {
	data := `
apiVersion: gateway.networking.k8s.io/v2
kind: Gateway
metadata: {name: future}
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: HTTPRoute
metadata: {name: never-alpha}
---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {name: not-translated}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: typo}
spec: {rules: [{backendref: [{name: web}]}]}
`
	in, notes, err := Decode("gw.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Gateways) != 0 || len(in.HTTPRoutes) != 1 {
		t.Errorf("gateways %d, httpRoutes %d; want 0 and only the v1 one", len(in.Gateways), len(in.HTTPRoutes))
	}
	var msgs []string
	for _, n := range notes {
		msgs = append(msgs, n.String())
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		"document 1: skipping gateway.networking.k8s.io/v2 Gateway future: fairway reads Gateway at gateway.networking.k8s.io/v1, v1beta1",
		"document 2: skipping gateway.networking.k8s.io/v1alpha2 HTTPRoute never-alpha: fairway reads HTTPRoute at gateway.networking.k8s.io/v1, v1beta1",
		"document 3: skipping gateway.networking.k8s.io/v1 BackendTLSPolicy not-translated: fairway does not translate this kind",
		`document 4: HTTPRoute typo: unknown field "spec.rules[0].backendref"`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("notes lack %q:\n%s", want, all)
		}
	}
}

func TestDecodeGatewayAPIErrorNamesTheDocument(t *testing.T) {
	data := "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: g}\nspec: {listeners: [{name: http, port: eighty}]}\n"
	_, _, err := Decode("gw.yaml", []byte(data))
	if err == nil || !strings.HasPrefix(err.Error(), "gw.yaml: document 2: Gateway g:") {
		t.Errorf("err = %v, want it to name gw.yaml document 2 and the Gateway", err)
	}
}

func TestDedupeGatewayAPIKinds(t *testing.T) {
	in, _, err := Decode("a.yaml", []byte(gatewayManifests+"---\n"+gatewayManifests))
	if err != nil {
		t.Fatal(err)
	}
	out, dups := Dedupe(in)
	if len(out.Gateways) != 1 || len(out.HTTPRoutes) != 1 || len(out.GRPCRoutes) != 1 || len(out.TLSRoutes) != 1 ||
		len(out.TCPRoutes) != 1 || len(out.UDPRoutes) != 1 || len(out.ReferenceGrants) != 1 || len(out.GatewayClasses) != 1 || len(out.Namespaces) != 1 {
		t.Errorf("after Dedupe: %+v", out)
	}
	sort.Strings(dups)
	want := []string{"GRPCRoute shop/api", "Gateway default/edge", "GatewayClass fairway", "HTTPRoute shop/web", "Namespace shop",
		"ReferenceGrant shop/from-default", "TCPRoute shop/tcp", "TLSRoute shop/pass", "UDPRoute shop/dns"}
	if !reflect.DeepEqual(dups, want) {
		t.Errorf("duplicates = %q, want %q", dups, want)
	}
}

// TestOlderGatewayVersionsHaveV1Shape holds what decoding an older version
// into the v1 struct relies on: every field of each version read has the
// same JSON name and type as in v1, all the way down.
func TestOlderGatewayVersionsHaveV1Shape(t *testing.T) {
	older := map[string][]any{
		"GatewayClass":   {gatewayv1beta1.GatewayClass{}},
		"Gateway":        {gatewayv1beta1.Gateway{}},
		"HTTPRoute":      {gatewayv1beta1.HTTPRoute{}},
		"ReferenceGrant": {gatewayv1beta1.ReferenceGrant{}, gatewayv1alpha2.ReferenceGrant{}},
		"GRPCRoute":      {gatewayv1alpha2.GRPCRoute{}},
		"TLSRoute":       {gatewayv1alpha2.TLSRoute{}, gatewayv1alpha3.TLSRoute{}},
		"TCPRoute":       {gatewayv1alpha2.TCPRoute{}},
		"UDPRoute":       {gatewayv1alpha2.UDPRoute{}},
	}
	v1 := map[string]any{
		"GatewayClass": gatewayv1.GatewayClass{}, "Gateway": gatewayv1.Gateway{}, "HTTPRoute": gatewayv1.HTTPRoute{},
		"ReferenceGrant": gatewayv1.ReferenceGrant{}, "GRPCRoute": gatewayv1.GRPCRoute{}, "TLSRoute": gatewayv1.TLSRoute{},
		"TCPRoute": gatewayv1.TCPRoute{}, "UDPRoute": gatewayv1.UDPRoute{},
	}
	for kind, versions := range gatewayVersions {
		if len(versions) != len(older[kind]) {
			t.Errorf("%s: %d older versions are read, %d are checked here", kind, len(versions), len(older[kind]))
		}
		want := jsonShape(reflect.TypeOf(v1[kind]), map[reflect.Type]bool{})
		for i, o := range older[kind] {
			if got := jsonShape(reflect.TypeOf(o), map[reflect.Type]bool{}); got != want {
				t.Errorf("%s %T differs from v1 in JSON:\n got %s\nwant %s", kind, o, got, want)
			} else if i < len(versions) && !strings.Contains(reflect.TypeOf(o).PkgPath(), versions[i]) {
				t.Errorf("%s: checked %T for version %s", kind, o, versions[i])
			}
		}
	}
	// The walk sees a difference: a TLSRoute has hostnames, a TCPRoute not.
	if jsonShape(reflect.TypeOf(gatewayv1.TCPRoute{}), map[reflect.Type]bool{}) == jsonShape(reflect.TypeOf(gatewayv1.TLSRoute{}), map[reflect.Type]bool{}) {
		t.Error("jsonShape does not tell a TCPRoute from a TLSRoute")
	}
}

// jsonShape describes a type as encoding/json sees it: each field's JSON
// name and shape, embedded structs inlined.
func jsonShape(t reflect.Type, seen map[reflect.Type]bool) string {
	switch t.Kind() {
	case reflect.Pointer:
		return "*" + jsonShape(t.Elem(), seen)
	case reflect.Slice, reflect.Array:
		return "[]" + jsonShape(t.Elem(), seen)
	case reflect.Map:
		return "map[" + jsonShape(t.Key(), seen) + "]" + jsonShape(t.Elem(), seen)
	case reflect.Struct:
		if t.PkgPath() != "" && !strings.Contains(t.PkgPath(), "gateway-api") {
			return t.String() // metav1's and Go's own types, shared by all versions
		}
		if seen[t] {
			return "<" + t.Name() + ">"
		}
		seen[t] = true
		defer delete(seen, t)
		return "{" + strings.Join(structFields(t, seen), ",") + "}"
	}
	return t.Kind().String()
}

func structFields(t reflect.Type, seen map[reflect.Type]bool) []string {
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct && strings.Contains(f.Type.PkgPath(), "gateway-api") {
			out = append(out, structFields(f.Type, seen)...)
			continue
		}
		out = append(out, name+":"+jsonShape(f.Type, seen))
	}
	sort.Strings(out)
	return out
}
