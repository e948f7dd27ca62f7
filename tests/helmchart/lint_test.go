package helmchart

import (
	"testing"

	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
)

// TestHelmLint is `helm lint manifests/helm/fairway` (the SDK's own lint
// action), with the default values and with those the other tests use:
// any warning or error fails, info messages are logged.
func TestHelmLint(t *testing.T) {
	for name, values := range map[string]map[string]any{
		"defaults": nil,
		"certgen, node groups, policy": {
			"certificates":  map[string]any{"source": "certgen"},
			"proxyless":     map[string]any{"namespaces": []any{"shop"}},
			"networkPolicy": map[string]any{"enabled": true},
			"fleet":         map[string]any{"nodeGroups": []any{map[string]any{"name": "a"}, map[string]any{"name": "b"}}},
		},
		"cert-manager": {"certificates": map[string]any{"source": "cert-manager"}},
		"a stream cap": {"fairway": map[string]any{"maxStreams": 500}},
	} {
		result := lint.All(chartDir, values, namespace, false)
		for _, m := range result.Messages {
			if m.Severity >= support.WarningSev {
				t.Errorf("%s: %s", name, m.Error())
			} else {
				t.Logf("%s: %s", name, m.Error())
			}
		}
	}
}
