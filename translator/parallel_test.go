package translator_test

import (
	"testing"

	"github.com/fairwayhq/fairway/tests/workload"
	"github.com/fairwayhq/fairway/translator"
)

// TestParallelMatchesSerial: the engine splits large batches across cores;
// the result must be the serial one, byte for byte. Under -race this also
// checks that the parallel parts only read shared state.
func TestParallelMatchesSerial(t *testing.T) {
	in := workload.Generate(workload.Small)
	opts := translator.Options{Proxyless: true}
	prev := translator.SetParallelMin(1 << 30)
	serial := translator.NewEngine(opts)
	serial.Sync(in)
	want := serial.Output()
	translator.SetParallelMin(2)
	defer translator.SetParallelMin(prev)
	parallel := translator.NewEngine(opts)
	parallel.Sync(in)
	got := parallel.Output()
	if got.Err != nil || want.Err != nil {
		t.Fatal(got.Err, want.Err)
	}
	if diff := translator.CompareOutputs(want, got); diff != "" {
		t.Fatalf("parallel differs from serial:\n%s", diff)
	}
}
