package translator_test

import (
	"testing"

	"github.com/fairwayhq/fairway/tests/workload"
	"github.com/fairwayhq/fairway/translator"
)

// TestHTTPSSplitKeepsWorkloadRouting: across the TLS workload (every
// Ingress with a certificate, hosts sharing wildcard Secrets,
// --ssl-redirect), a request for every host and path, with the host as
// SNI and Host, gets from its chain's table (https/<host>) what the single
// https table gave it.
func TestHTTPSSplitKeepsWorkloadRouting(t *testing.T) {
	scale := workload.Small.WithTLS()
	if testing.Short() {
		scale.Services, scale.Ingresses = 200, 200
	}
	in := workload.Generate(scale)
	n := translator.CheckSplitSameHost(t, in, translator.Options{SSLRedirect: scale.SSLRedirect})
	if n < scale.Ingresses {
		t.Fatalf("only %d requests compared for %d Ingresses", n, scale.Ingresses)
	}
	t.Logf("%d requests compared", n)
}
