package translator

import (
	"runtime"
	"sync"
)

// parallelMin is the batch size from which work is split across cores:
// below it, starting goroutines costs more than it saves.
var parallelMin = 256

// forEach runs fn(i) for i in [0, n), split across the available cores when
// n is large. fn must only read shared state and write its own index.
func forEach(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n/parallelMin)
	if workers < 2 {
		for i := range n {
			fn(i)
		}
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				fn(i)
			}
		}()
	}
	wg.Wait()
}
