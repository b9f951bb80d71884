package eventstore

import "sync/atomic"

// maxIdleWorkers bounds the goroutines a Client keeps waiting for calls.
const maxIdleWorkers = 256

// workers runs each store call on a goroutine of its own (so that the
// caller can give up on it when its context ends: see call) and keeps the
// goroutines that finished, up to maxIdleWorkers, for the next calls. A
// goroutine started per call grew its stack through the gRPC client's
// deep call chain every time (runtime.copystack, ~3 % of a mentorship
// start's CPU); a kept one has grown it already (until the garbage
// collector shrinks an idle stack again).
type workers struct {
	jobs chan func()   // unbuffered: a send succeeds only when a worker waits
	done chan struct{} // closed by stop: idle workers return
	idle atomic.Int32
}

func newWorkers() *workers {
	return &workers{jobs: make(chan func()), done: make(chan struct{})}
}

// run calls f on an idle worker, or on a new goroutine when none waits.
func (w *workers) run(f func()) {
	select {
	case w.jobs <- f:
	default:
		go w.work(f)
	}
}

// work calls f, then waits for more while fewer than maxIdleWorkers wait.
func (w *workers) work(f func()) {
	for {
		f()
		if w.idle.Add(1) > maxIdleWorkers {
			w.idle.Add(-1)
			return
		}
		select {
		case f = <-w.jobs:
			w.idle.Add(-1)
		case <-w.done:
			w.idle.Add(-1)
			return
		}
	}
}

// stop lets the idle workers return; calls still running finish first.
func (w *workers) stop() { close(w.done) }
