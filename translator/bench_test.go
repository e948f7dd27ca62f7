package translator_test

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/fairwayhq/fairway/tests/workload"
	"github.com/fairwayhq/fairway/translator"
)

// BenchmarkTranslate measures a full translation of the workload at both
// scales. Besides time and allocations it reports, from one extra run:
//   - live-heap-MiB: the heap that stays after a collection, input and
//     result both held, which is what a running fairway keeps;
//   - peak-heap-MiB: the largest heap seen (garbage included) while the
//     translation ran, sampled every 100µs.
func BenchmarkTranslate(b *testing.B) {
	for _, scale := range []workload.Scale{workload.Small, workload.Large} {
		b.Run(scale.Name, func(b *testing.B) {
			in := workload.Generate(scale)
			live, peak := heapOfOneTranslation(in)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				translator.Translate(in, translator.Options{})
			}
			b.ReportMetric(float64(live)/(1<<20), "live-heap-MiB")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}

func heapOfOneTranslation(in translator.Input) (live, peak uint64) {
	runtime.GC()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(100 * time.Microsecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	res := translator.Translate(in, translator.Options{})
	close(stop)
	wg.Wait()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	runtime.KeepAlive(res)
	runtime.KeepAlive(in)
	return m.HeapAlloc, peak
}
