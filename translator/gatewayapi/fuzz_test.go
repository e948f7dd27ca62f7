package gatewayapi

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"
)

// FuzzResolve feeds Resolve arbitrary inputs (seeded with the goldens) and
// checks what must hold for any of them: no panic, the same Model twice,
// a Resolver's the same, and a Model that agrees with its own status.
func FuzzResolve(f *testing.F) {
	inputs, _ := filepath.Glob("testdata/*/input.yaml")
	for _, p := range inputs {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var in goldenInput
		if yaml.Unmarshal(data, &in) != nil {
			return
		}
		in.Options.ControllerName = controller
		m := Resolve(in.Input, in.Options)
		first, err := yaml.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := yaml.Marshal(Resolve(in.Input, in.Options))
		if !bytes.Equal(first, again) {
			t.Fatal("Resolve gave two Models for one input")
		}
		// A Resolver gives Resolve's Model, resolving from nothing and
		// again from what it kept.
		rv := NewResolver()
		for _, pass := range []string{"first", "second"} {
			if got, _ := yaml.Marshal(rv.Resolve(in.Input, in.Options)); !bytes.Equal(first, got) {
				t.Fatalf("a Resolver's %s Model differs from Resolve's", pass)
			}
		}
		checkModel(t, m)
	})
}

// TestModelInvariants holds every golden's Model to checkModel.
func TestModelInvariants(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/*/input.yaml")
	for _, p := range inputs {
		in := readGolden(t, p)
		t.Run(filepath.Base(filepath.Dir(p)), func(t *testing.T) { checkModel(t, Resolve(in.Input, in.Options)) })
	}
}

// checkModel: every served listener is Programmed in its Gateway's
// status and counts at least the routes it serves; its rules are in
// precedence order; every served route is Accepted on some parent.
func checkModel(t *testing.T, m *Model) {
	t.Helper()
	accepted := map[Object]bool{}
	for _, r := range m.Status.Routes {
		for _, p := range r.Parents {
			if c := findCondition(p.Conditions, "Accepted"); c != nil && c.Status == metav1.ConditionTrue {
				accepted[Object{Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}] = true
			}
		}
	}
	for _, l := range m.Listeners {
		ls := listenerStatus(t, m, l)
		if c := findCondition(ls.Conditions, "Programmed"); c == nil || c.Status != metav1.ConditionTrue {
			t.Errorf("listener %s/%s/%s is served but not Programmed", l.Gateway.Namespace, l.Gateway.Name, l.Name)
		}
		routes := map[Object]bool{}
		for _, r := range l.HTTP {
			routes[Object{Kind: r.Route.Kind, Namespace: r.Route.Namespace, Name: r.Route.Name}] = true
		}
		for _, r := range l.Streams {
			routes[Object{Kind: r.Route.Kind, Namespace: r.Route.Namespace, Name: r.Route.Name}] = true
		}
		if int(ls.AttachedRoutes) < len(routes) {
			t.Errorf("listener %s serves %d routes but attachedRoutes is %d", l.Name, len(routes), ls.AttachedRoutes)
		}
		for r := range routes {
			if !accepted[r] {
				t.Errorf("listener %s serves %v, which no parent accepts", l.Name, r)
			}
		}
		if !slices.IsSortedFunc(l.HTTP, ComparePrecedence) {
			t.Errorf("listener %s's rules are not in precedence order", l.Name)
		}
	}
}

func listenerStatus(t *testing.T, m *Model, l *Listener) gatewayv1.ListenerStatus {
	t.Helper()
	for _, g := range m.Status.Gateways {
		if g.Namespace != l.Gateway.Namespace || g.Name != l.Gateway.Name {
			continue
		}
		for _, ls := range g.Status.Listeners {
			if string(ls.Name) == l.Name {
				return ls
			}
		}
	}
	t.Fatalf("served listener %s/%s/%s has no status", l.Gateway.Namespace, l.Gateway.Name, l.Name)
	return gatewayv1.ListenerStatus{}
}
