package eventstore

import (
	"sync"
	"testing"
)

// TestWorkersRunEveryCallAndKeepABoundedFew checks that every call runs
// (also when more are in flight than workers are kept), that the idle
// workers stay within maxIdleWorkers, and that a call after stop still
// runs. (That stop lets the idle workers return is not checked: it would
// need a wait with a deadline.)
func TestWorkersRunEveryCallAndKeepABoundedFew(t *testing.T) {
	w := newWorkers()
	const calls = 4 * maxIdleWorkers
	var mu sync.Mutex
	ran := make(map[int]bool)
	release := make(chan struct{})
	var started, finished sync.WaitGroup
	started.Add(calls)
	finished.Add(calls)
	for i := range calls {
		w.run(func() {
			defer finished.Done()
			started.Done()
			<-release // all calls are in flight at once
			mu.Lock()
			ran[i] = true
			mu.Unlock()
		})
	}
	started.Wait()
	close(release)
	finished.Wait()
	if len(ran) != calls {
		t.Fatalf("%d of %d calls ran", len(ran), calls)
	}
	// Kept workers take the next calls; a call never waits for one.
	var again sync.WaitGroup
	again.Add(calls)
	for range calls {
		w.run(again.Done)
	}
	again.Wait()
	if n := w.idle.Load(); n > maxIdleWorkers {
		t.Errorf("%d idle workers, more than %d", n, maxIdleWorkers)
	}
	w.stop()
	var after sync.WaitGroup
	after.Add(1)
	w.run(after.Done) // after stop a call still runs (on a goroutine of its own)
	after.Wait()
}
