package tests

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/fairwayhq/fairway/translator"
)

// editListeners is GatewayModifyListeners' step: the Gateway's listeners
// edited; then the status lists exactly the listeners left (want), each
// accepted, resolved and with its one route attached, every condition at
// the new generation.
func editListeners(name string, want int, edit func([]gatewayv1.Listener) []gatewayv1.Listener) statusStep {
	return statusStep{
		change: func(_ *testing.T, ctx context.Context, gw gatewayclient.Interface) error {
			g, err := gw.GatewayV1().Gateways(conformanceInfra).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			g.Spec.Listeners = edit(g.Spec.Listeners)
			_, err = gw.GatewayV1().Gateways(conformanceInfra).Update(ctx, g, metav1.UpdateOptions{})
			return err
		},
		check: func(t *testing.T, in translator.Input) {
			g := findInfraGateway(t, in, name)
			if g == nil {
				return
			}
			bumped(t, "Gateway "+name, g.Generation)
			allAt(t, "Gateway "+name, g.Status.Conditions, g.Generation)
			if len(g.Status.Listeners) != want || len(g.Spec.Listeners) != want {
				t.Errorf("Gateway %s: %d listeners in status, %d in spec; want %d", name, len(g.Status.Listeners), len(g.Spec.Listeners), want)
			}
			for _, l := range g.Status.Listeners {
				what := fmt.Sprintf("Gateway %s listener %s", name, l.Name)
				allAt(t, what, l.Conditions, g.Generation)
				expectListener(t, in, name, string(l.Name), "Accepted", metav1.ConditionTrue, "")
				expectListener(t, in, name, string(l.Name), "ResolvedRefs", metav1.ConditionTrue, "")
				if l.AttachedRoutes != 1 {
					t.Errorf("%s: attachedRoutes %d, want 1", what, l.AttachedRoutes)
				}
			}
		},
	}
}

// newerRoute is the multiple-routes-attachment tests' step: a second
// route for the same listener, created after a second so that it is the
// youngest, as the suite does. Both are then accepted, and the listener
// counts two routes.
func newerRoute(route metav1.Object, kind, older, gateway, section string) statusStep {
	return statusStep{
		change: func(t *testing.T, ctx context.Context, gw gatewayclient.Interface) error {
			time.Sleep(time.Second)
			var err error
			switch r := route.(type) {
			case *gatewayv1.TCPRoute:
				_, err = gw.GatewayV1().TCPRoutes(conformanceInfra).Create(ctx, r, metav1.CreateOptions{})
				t.Cleanup(func() {
					_ = gw.GatewayV1().TCPRoutes(conformanceInfra).Delete(context.Background(), r.Name, metav1.DeleteOptions{})
				})
			case *gatewayv1.UDPRoute:
				_, err = gw.GatewayV1().UDPRoutes(conformanceInfra).Create(ctx, r, metav1.CreateOptions{})
				t.Cleanup(func() {
					_ = gw.GatewayV1().UDPRoutes(conformanceInfra).Delete(context.Background(), r.Name, metav1.DeleteOptions{})
				})
			default:
				err = fmt.Errorf("newerRoute: %T is not a route kind it creates", route)
			}
			return err
		},
		check: func(t *testing.T, in translator.Input) {
			for _, r := range []string{older, route.GetName()} {
				expectRouteParent(t, in, kind, r, gateway, "Accepted", metav1.ConditionTrue, "Accepted")
			}
			expectListener(t, in, gateway, section, "Accepted", metav1.ConditionTrue, "Accepted")
			if g := findInfraGateway(t, in, gateway); g != nil {
				for _, l := range g.Status.Listeners {
					if string(l.Name) == section && l.AttachedRoutes != 2 {
						t.Errorf("Gateway %s listener %s: attachedRoutes %d, want 2", gateway, section, l.AttachedRoutes)
					}
				}
			}
		},
	}
}

func parentSection(gw, section string) gatewayv1.CommonRouteSpec {
	return gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{
		Name: gatewayv1.ObjectName(gw), SectionName: ptrTo(gatewayv1.SectionName(section))}}}
}

func backendRefTo(name string, port int32) []gatewayv1.BackendRef {
	return []gatewayv1.BackendRef{{BackendObjectReference: gatewayv1.BackendObjectReference{
		Name: gatewayv1.ObjectName(name), Port: ptrTo(gatewayv1.PortNumber(port))}}}
}
