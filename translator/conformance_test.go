package translator

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/gateway-api/pkg/features"
)

// The Gateway API conformance suite (gateway-api/conformance v1.6.3),
// ported: each test's manifests go through Translate, and its requests
// through the routing evaluator, its status assertions against
// Result.Gateway. The suite needs a live data plane, which this machine
// has not; what it checks is where requests go and what status says,
// which the evaluator and the status output show.

var conformanceReport = flag.String("conformance-report", "", "write TestGatewayConformance's summary as a markdown table to this path")

// conformanceCase is one test of the suite.
type conformanceCase struct {
	short string // the suite's ShortName
	// file is the test's source in the module, tests/<name>.go, and
	// manifests its YAML under testdata/gateway-conformance/tests/.
	file      string
	manifests []string
	features  []features.FeatureName
	// gateways ("namespace/name") the test sends its requests to; the
	// first is the default of its requests.
	gateways []string
	requests []confRequest
	streams  []confStream
	status   []confStatus
	// unless: the suite runs the test only when the implementation does
	// not claim this feature; when fairway's GatewayClass lists it, the
	// test checks nothing, as in the suite.
	unless features.FeatureName
	// only: the suite runs the test only when the implementation claims
	// this feature.
	only features.FeatureName
	// then are the test's later steps: a change to the objects (a
	// ReferenceGrant deleted, a spec edited), and what must hold after.
	then []confStep
}

// confStep is a change the test makes to its objects, and its checks.
type confStep struct {
	change   func(t *testing.T, in *Input)
	requests []confRequest
	streams  []confStream
	status   []confStatus
}

// skippedCase is a test of the profiles that is not ported, and why.
type skippedCase struct {
	short, file string
	features    []features.FeatureName
	reason      string
}

// conformanceCases and skippedConformance are filled by the
// conformance_cases_*_test.go files, one per profile.
var (
	conformanceCases   []*conformanceCase
	skippedConformance []skippedCase
)

// mustPass are the cases whose failure fails the test: every case that
// passes. The others are reported with what they check that fairway
// does not do yet (the README lists them).
var mustPass = []string{
	"GRPCExactMethodMatching", "GRPCRouteHeaderMatching", "GRPCRouteListenerHostnameMatching",
	"GRPCRouteNamedRule", "GRPCRouteWeight", "GatewayClassObservedGenerationBump",
	"GatewayHTTPListenerIsolation", "GatewayInvalidParametersRef", "GatewayInvalidRouteKind",
	"GatewayInvalidTLSConfiguration", "GatewayListenerUnsupportedProtocol", "GatewayModifyListeners",
	"GatewayObservedGenerationBump", "GatewayOptionalAddressValue", "GatewaySecretInvalidReferenceGrant",
	"GatewaySecretMissingReferenceGrant", "GatewaySecretReferenceGrantAllInNamespace",
	"GatewaySecretReferenceGrantSpecific", "GatewayStaticAddresses", "GatewayWithAttachedRoutes",
	"GatewayWithAttachedRoutesWithPort8080", "HTTPRoute303Redirect", "HTTPRoute307Redirect",
	"HTTPRoute308Redirect", "HTTPRouteBackendProtocolH2C", "HTTPRouteBackendRequestHeaderModifier", "HTTPRouteCrossNamespace",
	"HTTPRouteDisallowedKind", "HTTPRouteExactPathMatching", "HTTPRouteHTTPSListener",
	"HTTPRouteHTTPSListenerDetectMisdirectedRequests", "HTTPRouteHeaderMatching",
	"HTTPRouteHostnameIntersection", "HTTPRouteInvalidBackendRefUnknownKind",
	"HTTPRouteInvalidCrossNamespaceBackendRef", "HTTPRouteInvalidCrossNamespaceParentRef",
	"HTTPRouteInvalidNonExistentBackendRef", "HTTPRouteInvalidParentRefNotMatchingListenerPort",
	"HTTPRouteInvalidParentRefNotMatchingSectionName",
	"HTTPRouteInvalidParentRefSectionNameNotMatchingPort", "HTTPRouteInvalidReferenceGrant",
	"HTTPRouteListenerHostnameMatching", "HTTPRouteListenerPortMatching", "HTTPRouteMatching",
	"HTTPRouteMatchingAcrossRoutes", "HTTPRouteMethodMatching", "HTTPRouteMultipleGateways",
	"HTTPRouteNamedRule", "HTTPRouteNoBackendRefs", "HTTPRouteObservedGenerationBump",
	"HTTPRoutePartiallyInvalidViaInvalidReferenceGrant", "HTTPRoutePathMatchOrder",
	"HTTPRouteQueryParamMatching", "HTTPRouteRedirectHostAndStatus", "HTTPRouteRedirectPath",
	"HTTPRouteRedirectPort", "HTTPRouteRedirectPortAndScheme", "HTTPRouteRedirectScheme",
	"HTTPRouteReferenceGrant", "HTTPRouteRequestHeaderModifier", "HTTPRouteRequestHeaderModifierBackendWeights", "HTTPRouteRequestMirror",
	"HTTPRouteRequestMultipleMirrors", "HTTPRouteRequestPercentageMirror",
	"HTTPRouteResponseHeaderModifier", "HTTPRouteRewriteHost", "HTTPRouteRewritePath",
	"HTTPRouteServiceTypes", "HTTPRouteSimpleSameNamespace", "HTTPRouteTimeoutBackendRequest",
	"HTTPRouteTimeoutRequest", "HTTPRouteWeight", "TCPRouteInvalidBackendRefNonexistent",
	"TCPRouteInvalidCrossNamespaceBackendRef", "TCPRouteInvalidNonTCPListener",
	"TCPRouteMultipleRoutesAttachment", "TCPRouteParentRefAttachAll",
	"TCPRouteParentRefPortAndSectionName", "TCPRouteReferenceGrant", "TCPRouteWeightedRouting",
	"TLSRouteHostnameIntersection", "TLSRouteInvalidBackendRefNonexistent",
	"TLSRouteInvalidBackendRefUnknownKind", "TLSRouteInvalidNoMatchingListener",
	"TLSRouteInvalidNoMatchingListenerHostname", "TLSRouteInvalidReferenceGrant",
	"TLSRouteListenerMixedTerminationNotSupported", "TLSRouteListenerPassthroughSupportedKinds",
	"TLSRouteListenerTerminateNotSupported", "TLSRouteListenerTerminateSupportedKinds",
	"TLSRouteMixedTerminationSameNamespace", "TLSRouteSimpleSameNamespace",
	"TLSRouteTerminateSimpleSameNamespace", "UDPRoute", "UDPRouteInvalidBackendRefNonexistent",
	"UDPRouteInvalidCrossNamespaceBackendRef", "UDPRouteMultipleRoutesAttachment",
	"UDPRouteNotAllowedByListeners", "UDPRouteParentRefAttachAllListeners",
	"UDPRouteParentRefPortAndSectionName", "UDPRouteReferenceGrant", "UDPRouteWeightedRouting",
}

const conformanceChildEnv = "FAIRWAY_CONFORMANCE_CHILD"

// TestGatewayConformanceCases runs the cases for real, each a subtest
// that fails on any difference. It runs only as TestGatewayConformance's
// child process, so that the cases that do not pass yet are counted
// rather than failing the package.
func TestGatewayConformanceCases(t *testing.T) {
	if os.Getenv(conformanceChildEnv) == "" {
		t.Skip("run by TestGatewayConformance")
	}
	for _, c := range conformanceCases {
		t.Run(c.short, func(t *testing.T) { runConformanceCase(t, c) })
	}
}

func runConformanceCase(t *testing.T, c *conformanceCase) {
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("panic: %v", p)
		}
	}()
	in := conformanceInput(t, c.manifests...)
	if c.unless != "" && claims(Translate(in, conformanceOptions()), c.unless) {
		t.Logf("fairway's GatewayClass claims %s: the suite checks nothing here", c.unless)
		return
	}
	if c.only != "" && !claims(Translate(in, conformanceOptions()), c.only) {
		t.Logf("fairway's GatewayClass does not claim %s: the suite checks nothing here", c.only)
		return
	}
	steps := append([]confStep{{requests: c.requests, streams: c.streams, status: c.status}}, c.then...)
	for _, step := range steps {
		if step.change != nil {
			step.change(t, &in)
		}
		res := Translate(in, conformanceOptions())
		for _, s := range step.status {
			checkStatus(t, res, s)
		}
		for _, r := range step.requests {
			checkConfRequest(t, res, c, r)
		}
		for _, s := range step.streams {
			checkStream(t, res, c, s)
		}
	}
}

// claims: fairway's GatewayClass lists the feature as supported.
func claims(res Result, f features.FeatureName) bool {
	for _, c := range res.Gateway.GatewayClasses {
		if c.Name != conformanceClass {
			continue
		}
		for _, sf := range c.Status.SupportedFeatures {
			if string(sf.Name) == string(f) {
				return true
			}
		}
	}
	return false
}

// TestGatewayConformance runs the cases in a child process, reports per
// case (a subtest that passes, or is skipped with the failure's log when
// the case is not in mustPass) and logs the suite's report per profile.
func TestGatewayConformance(t *testing.T) {
	if os.Getenv(conformanceChildEnv) != "" {
		t.Skip("the child runs the cases")
	}
	checkCaseTable(t)
	results, logs := runConformanceChild(t)
	for _, c := range conformanceCases {
		t.Run(c.short, func(t *testing.T) {
			switch {
			case results[c.short] == "PASS":
			case slices.Contains(mustPass, c.short):
				t.Errorf("%s (%s) is in mustPass and fails:\n%s", c.short, c.file, logs[c.short])
			default:
				t.Skipf("fails, not in mustPass yet (%s):\n%s", c.file, logs[c.short])
			}
		})
	}
	for _, s := range skippedConformance {
		t.Run(s.short, func(t *testing.T) { t.Skipf("not ported (%s): %s", s.file, s.reason) })
	}
	reports := conformanceReports(results)
	t.Log("\n" + reportText(reports))
	var passing []string
	for _, c := range conformanceCases {
		if results[c.short] == "PASS" && !slices.Contains(mustPass, c.short) {
			passing = append(passing, c.short)
		}
	}
	if len(passing) > 0 {
		t.Logf("passing and not in mustPass yet: %s", strings.Join(passing, ", "))
	}
	if *conformanceReport != "" {
		if err := os.WriteFile(*conformanceReport, []byte(reportMarkdown(reports)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// runConformanceChild runs TestGatewayConformanceCases in this test
// binary and reads each case's result and log from its -test.v output.
func runConformanceChild(t *testing.T) (map[string]string, map[string]string) {
	t.Helper()
	args := []string{"-test.run=^TestGatewayConformanceCases$", "-test.v", "-test.count=1"}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), conformanceChildEnv+"=1")
	out, _ := cmd.CombinedOutput() // failing cases make it exit non-zero
	results, logs := map[string]string{}, map[string]string{}
	const prefix = "TestGatewayConformanceCases/"
	current := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "=== RUN   "+prefix):
			current = strings.TrimPrefix(trimmed, "=== RUN   "+prefix)
		case strings.HasPrefix(trimmed, "--- PASS: "+prefix), strings.HasPrefix(trimmed, "--- FAIL: "+prefix):
			verdict, rest, _ := strings.Cut(strings.TrimPrefix(trimmed, "--- "), ": "+prefix)
			name, _, _ := strings.Cut(rest, " ")
			results[name], current = verdict, ""
		case strings.HasPrefix(trimmed, "--- "):
			current = ""
		case current != "":
			logs[current] += line + "\n"
		}
	}
	if len(results) == 0 && len(conformanceCases) > 0 {
		t.Logf("the child process reported no case:\n%s", out)
	}
	return results, logs
}

// checkCaseTable holds the table to what the module has: every case and
// skip names its test file and manifests, each test once.
func checkCaseTable(t *testing.T) {
	t.Helper()
	seen := map[string]bool{}
	known := featureNames(features.AllFeatures.UnsortedList())
	note := func(short, file string, fs []features.FeatureName) {
		for _, f := range fs {
			if !slices.Contains(known, f) {
				t.Errorf("%s: feature %q is not one of the module's", short, f)
			}
		}
		if seen[short] {
			t.Errorf("%s: listed twice", short)
		}
		seen[short] = true
		if !strings.HasPrefix(file, "tests/") || !strings.HasSuffix(file, ".go") {
			t.Errorf("%s: file %q is not tests/<name>.go", short, file)
		}
	}
	for _, c := range conformanceCases {
		note(c.short, c.file, c.features)
		for _, m := range c.manifests {
			if _, err := os.Stat(conformanceDir + m); err != nil {
				t.Errorf("%s: %v", c.short, err)
			}
		}
		if len(c.gateways) == 0 && (len(c.requests) > 0 || len(c.streams) > 0) {
			t.Errorf("%s: requests without a Gateway", c.short)
		}
		if len(c.requests)+len(c.streams)+len(c.status)+len(c.then) == 0 {
			t.Errorf("%s: a case that checks nothing", c.short)
		}
	}
	for _, s := range skippedConformance {
		note(s.short, s.file, s.features)
		if s.reason == "" {
			t.Errorf("%s: skipped without a reason", s.short)
		}
	}
	for _, m := range mustPass {
		if !slices.ContainsFunc(conformanceCases, func(c *conformanceCase) bool { return c.short == m }) {
			t.Errorf("mustPass names %s, which is no case", m)
		}
	}
}

// conformanceProfile is one of the suite's profiles: a test belongs to it
// when the profile has all its features, and is extended when any of them
// is not one of the profile's core features (utils/suite/profiles.go).
type conformanceProfile struct {
	name           string
	core, extended []features.FeatureName
}

func featureNames(sets ...[]features.Feature) []features.FeatureName {
	var out []features.FeatureName
	for _, s := range sets {
		for _, f := range s {
			out = append(out, f.Name)
		}
	}
	return out
}

var conformanceProfiles = []conformanceProfile{
	{"GATEWAY-GRPC", []features.FeatureName{features.SupportGateway, features.SupportReferenceGrant, features.SupportGRPCRoute},
		featureNames(features.GatewayExtendedFeatures.UnsortedList())},
	{"GATEWAY-HTTP", []features.FeatureName{features.SupportGateway, features.SupportReferenceGrant, features.SupportHTTPRoute},
		featureNames(features.GatewayExtendedFeatures.UnsortedList(), features.HTTPRouteExtendedFeatures.UnsortedList(),
			features.BackendTLSPolicyCoreFeatures.UnsortedList(), features.BackendTLSPolicyExtendedFeatures.UnsortedList())},
	{"GATEWAY-TCP", []features.FeatureName{features.SupportGateway, features.SupportReferenceGrant, features.SupportTCPRoute},
		featureNames(features.GatewayExtendedFeatures.UnsortedList(), features.TCPRouteExtendedFeatures.UnsortedList())},
	{"GATEWAY-TLS", []features.FeatureName{features.SupportGateway, features.SupportReferenceGrant, features.SupportTLSRoute},
		featureNames(features.GatewayExtendedFeatures.UnsortedList(), features.TLSRouteExtendedFeatures.UnsortedList())},
	{"GATEWAY-UDP", []features.FeatureName{features.SupportGateway, features.SupportReferenceGrant, features.SupportUDPRoute},
		featureNames(features.GatewayExtendedFeatures.UnsortedList(), features.UDPRouteFeatures.UnsortedList())},
}

// profileCounts are one profile's results, core and extended.
type profileCounts struct {
	name           string
	core, extended tally
}

type tally struct {
	passed, failed, skipped int
	failedTests             []string
	skippedTests            []string
}

func (p conformanceProfile) has(fs []features.FeatureName) (in, extended bool) {
	for _, f := range fs {
		if !slices.Contains(p.core, f) {
			if !slices.Contains(p.extended, f) {
				return false, false
			}
			extended = true
		}
	}
	return true, extended
}

// conformanceReports counts each case in each profile it belongs to, the
// way the suite's report does.
func conformanceReports(results map[string]string) []profileCounts {
	var out []profileCounts
	for _, p := range conformanceProfiles {
		pc := profileCounts{name: p.name}
		count := func(short string, fs []features.FeatureName, verdict string) {
			in, ext := p.has(fs)
			if !in {
				return
			}
			tl := &pc.core
			if ext {
				tl = &pc.extended
			}
			switch verdict {
			case "PASS":
				tl.passed++
			case "SKIP":
				tl.skipped++
				tl.skippedTests = append(tl.skippedTests, short)
			default:
				tl.failed++
				tl.failedTests = append(tl.failedTests, short)
			}
		}
		for _, c := range conformanceCases {
			count(c.short, c.features, orZero(results[c.short], "FAIL"))
		}
		for _, s := range skippedConformance {
			count(s.short, s.features, "SKIP")
		}
		for _, l := range [][]string{pc.core.failedTests, pc.extended.failedTests, pc.core.skippedTests, pc.extended.skippedTests} {
			sort.Strings(l)
		}
		out = append(out, pc)
	}
	return out
}

// result is the suite's word for a tally: failure, partial, success.
func (t tally) result() string {
	switch {
	case t.failed > 0:
		return "failure"
	case t.skipped > 0:
		return "partial"
	}
	return "success"
}

func reportText(reports []profileCounts) string {
	var b strings.Builder
	for _, r := range reports {
		fmt.Fprintf(&b, "%s:\n", r.name)
		for _, part := range []struct {
			name string
			t    tally
		}{{"core", r.core}, {"extended", r.extended}} {
			fmt.Fprintf(&b, "  %s: result %s, passed %d, failed %d, skipped %d\n", part.name, part.t.result(), part.t.passed, part.t.failed, part.t.skipped)
			if len(part.t.failedTests) > 0 {
				fmt.Fprintf(&b, "    failedTests: %s\n", strings.Join(part.t.failedTests, ", "))
			}
			if len(part.t.skippedTests) > 0 {
				fmt.Fprintf(&b, "    skippedTests: %s\n", strings.Join(part.t.skippedTests, ", "))
			}
		}
	}
	return b.String()
}

func reportMarkdown(reports []profileCounts) string {
	var b strings.Builder
	b.WriteString("| profile | core: result | passed | failed | skipped | extended: result | passed | failed | skipped |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range reports {
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %s | %d | %d | %d |\n", r.name,
			r.core.result(), r.core.passed, r.core.failed, r.core.skipped,
			r.extended.result(), r.extended.passed, r.extended.failed, r.extended.skipped)
	}
	return b.String()
}
