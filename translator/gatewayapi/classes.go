package gatewayapi

import (
	"slices"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/gateway-api/pkg/features"
)

// SupportedFeatures are the Gateway API features fairway implements, as
// its GatewayClasses list them in status.supportedFeatures (sorted there,
// as the spec asks). A feature goes here only when the back end serves
// it; the conformance suite runs the tests of exactly these.
var SupportedFeatures = []features.FeatureName{
	features.SupportGateway,
	features.SupportGatewayHTTPSListenerDetectMisdirectedRequests,
	features.SupportHTTPRoute,
	features.SupportGRPCRoute,
	features.SupportTLSRoute,
	features.SupportTLSRouteModeTerminate,
	features.SupportTLSRouteModeMixed,
	features.SupportTCPRoute,
	features.SupportUDPRoute,
	features.SupportReferenceGrant,
	features.SupportHTTPRouteQueryParamMatching,
	features.SupportHTTPRouteMethodMatching,
	features.SupportHTTPRouteResponseHeaderModification,
	features.SupportHTTPRouteHostRewrite,
	features.SupportHTTPRoutePathRewrite,
	features.SupportHTTPRoutePathRedirect,
	features.SupportHTTPRoutePortRedirect,
	features.SupportHTTPRouteSchemeRedirect,
	features.SupportHTTPRouteRequestMirror,
	features.SupportHTTPRouteRequestMultipleMirrors,
	features.SupportHTTPRouteRequestPercentageMirror,
	features.SupportHTTPRouteRequestTimeout,
	features.SupportHTTPRouteBackendTimeout,
	features.SupportGatewayStaticAddresses,
	features.SupportHTTPRouteBackendRequestHeaderModification,
	features.SupportGatewayAddressEmpty,
}

// resolveClasses gives the status of fairway's GatewayClasses (those that
// name its controller), sorted by name, and the names of those accepted.
// A class with a parametersRef is not accepted: fairway reads no
// parameters yet, and serving a class while ignoring what it asks would
// be silent.
func resolveClasses(classes []*gatewayv1.GatewayClass, controller string) ([]GatewayClassStatus, map[string]bool) {
	var out []GatewayClassStatus
	accepted := map[string]bool{}
	for _, gc := range classes {
		if string(gc.Spec.ControllerName) != controller {
			continue
		}
		st := GatewayClassStatus{Name: gc.Name}
		c := condition(string(gatewayv1.GatewayClassConditionStatusAccepted), true,
			string(gatewayv1.GatewayClassReasonAccepted), "fairway serves this class's Gateways", gc.Generation)
		if ref := gc.Spec.ParametersRef; ref != nil {
			c = condition(string(gatewayv1.GatewayClassConditionStatusAccepted), false,
				string(gatewayv1.GatewayClassReasonInvalidParameters),
				"spec.parametersRef ("+string(ref.Kind)+" "+ref.Name+"): fairway reads no GatewayClass parameters yet", gc.Generation)
		} else {
			accepted[gc.Name] = true
		}
		st.Status.Conditions = append(st.Status.Conditions, c)
		st.Status.SupportedFeatures = supportedFeatures()
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b GatewayClassStatus) int { return compareNames("", a.Name, "", b.Name) })
	return out, accepted
}

func supportedFeatures() []gatewayv1.SupportedFeature {
	out := make([]gatewayv1.SupportedFeature, 0, len(SupportedFeatures))
	for _, f := range SupportedFeatures {
		out = append(out, gatewayv1.SupportedFeature{Name: gatewayv1.FeatureName(f)})
	}
	slices.SortFunc(out, func(a, b gatewayv1.SupportedFeature) int { return compareNames("", string(a.Name), "", string(b.Name)) })
	return out
}
