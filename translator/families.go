package translator

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// familyRequest is what a Service's spec.ipFamilies and ipFamilyPolicy
// ask for: the families in the Service's order, and whether it must
// have all of them (RequireDualStack) or takes those it can get
// (PreferDualStack; SingleStack lists one).
type familyRequest struct {
	families []string
	require  bool
	// set is false when spec.ipFamilies is empty (file input; the API
	// server always fills it): the Service takes what it is given.
	set bool
}

// familiesOf reads spec.ipFamilies and spec.ipFamilyPolicy. SingleStack
// (or no policy) keeps only the first family, as the API server does.
// RequireDualStack with one family listed (file input) still requires
// both, the listed one first.
func familiesOf(svc *corev1.Service) familyRequest {
	var fams []string
	for _, f := range svc.Spec.IPFamilies {
		if s := string(f); (s == familyIPv4 || s == familyIPv6) && !slices.Contains(fams, s) {
			fams = append(fams, s)
		}
	}
	if len(fams) == 0 {
		return familyRequest{}
	}
	policy := corev1.IPFamilyPolicySingleStack
	if svc.Spec.IPFamilyPolicy != nil {
		policy = *svc.Spec.IPFamilyPolicy
	}
	switch policy {
	case corev1.IPFamilyPolicyRequireDualStack:
		if len(fams) == 1 {
			fams = append(fams, otherFamily(fams[0]))
		}
		return familyRequest{families: fams, require: true, set: true}
	case corev1.IPFamilyPolicyPreferDualStack:
		return familyRequest{families: fams, set: true}
	}
	return familyRequest{families: fams[:1], set: true}
}

func otherFamily(f string) string {
	if f == familyIPv4 {
		return familyIPv6
	}
	return familyIPv4
}

// servable is the request's families that available has, in the
// Service's order; an error when that leaves none, or leaves out one
// that RequireDualStack needs.
func (r familyRequest) servable(available []string, what string) ([]string, error) {
	var out []string
	for _, f := range r.families {
		if slices.Contains(available, f) {
			out = append(out, f)
		}
	}
	if len(out) == 0 || (r.require && len(out) < len(r.families)) {
		return nil, fmt.Errorf("spec.ipFamilies %s (ipFamilyPolicy %s): %s %s", strings.Join(r.families, ","), r.policyName(), what, familyList(available))
	}
	return out, nil
}

func (r familyRequest) policyName() string {
	switch {
	case r.require:
		return string(corev1.IPFamilyPolicyRequireDualStack)
	case len(r.families) > 1:
		return string(corev1.IPFamilyPolicyPreferDualStack)
	}
	return string(corev1.IPFamilyPolicySingleStack)
}

func familyList(fams []string) string {
	if len(fams) == 0 {
		return "none"
	}
	return strings.Join(fams, " and ")
}

// fleetFamilies are the families the fleet's listen address takes: "::"
// takes both (Envoy's ipv4_compat), 0.0.0.0 or an IPv4 address IPv4 only,
// an IPv6 address IPv6 only.
func fleetFamilies(listen string) []string {
	a, err := netip.ParseAddr(listen)
	switch {
	case err != nil:
		return nil
	case a == netip.IPv6Unspecified():
		return []string{familyIPv4, familyIPv6}
	}
	return []string{familyOf(a)}
}

// fleetBind is where a Service without a pool listens when its families
// are a part of what the fleet's dual-stack wildcard takes: an IPv4-only
// Service binds 0.0.0.0, an IPv6-only one "::" without IPv4 (so an IPv4
// client is refused, as the Service asks). Otherwise the fleet's own
// address, as without spec.ipFamilies.
func fleetBind(listen string, families []string) (address string, v6only bool) {
	if len(families) != 1 || len(fleetFamilies(listen)) != 2 {
		return "", false
	}
	if families[0] == familyIPv4 {
		return netip.IPv4Unspecified().String(), false
	}
	return listen, true
}
