package command

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/craftledger/craftledger/pkg/errs"
)

// Combiner runs together, as one ExecuteBatch, the commands that arrive
// for a stream while another command runs there: a stream that many
// requests write at once (a competition's, when its results are
// back-filled a placement a line by many workers) then takes one append
// for the queue instead of one append for each command, each waiting for
// the one before it. A command that finds its stream idle runs at once,
// exactly as Execute runs it.
//
// A combined command is decided as ExecuteBatch decides it: on the
// stream's history followed by the events of the commands queued ahead
// of it, and decided again on a lost race whatever its RetryOnConflict.
// A queued command waits for its turn even if its context ends meanwhile
// (at most as long as the running command takes); it is then answered
// with DeadlineExceeded and writes nothing. The batch runs until it is
// done or every caller in it has gone.
type Combiner struct {
	h       *Handler
	mu      sync.Mutex
	streams map[string][]*combined // a stream with a command running: the commands waiting
}

type combined struct {
	ctx  context.Context
	c    Command
	res  BatchResult
	lead []*combined // when set, this command runs the batch (itself first)
	done chan struct{}
}

// NewCombiner returns a Combiner running its commands through h.
func NewCombiner(h *Handler) *Combiner {
	return &Combiner{h: h, streams: map[string][]*combined{}}
}

// Execute runs c alone when no command of the Combiner runs on its
// stream, else together with the commands queued behind the running one.
func (m *Combiner) Execute(ctx context.Context, c Command) (Result, error) {
	if c.Stream == "" || c.Decide == nil {
		return m.h.Execute(ctx, c) // its error
	}
	m.mu.Lock()
	waiting, busy := m.streams[c.Stream]
	if !busy {
		m.streams[c.Stream] = nil
		m.mu.Unlock()
		defer m.handOff(c.Stream)
		return m.h.Execute(ctx, c)
	}
	w := &combined{ctx: ctx, c: c, done: make(chan struct{})}
	m.streams[c.Stream] = append(waiting, w)
	m.mu.Unlock()
	<-w.done
	if w.lead != nil {
		defer m.handOff(c.Stream)
		m.run(c.Stream, w.lead)
	}
	return w.res.Result, w.res.Err
}

// Waiting is how many commands wait for their turn on stream.
func (m *Combiner) Waiting(stream string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.streams[stream])
}

// handOff passes stream on once its command is done: to the commands that
// queued meanwhile, the first of which runs them all; or, when none did,
// back to idle.
func (m *Combiner) handOff(stream string) {
	m.mu.Lock()
	batch := m.streams[stream]
	if len(batch) == 0 {
		delete(m.streams, stream)
		m.mu.Unlock()
		return
	}
	m.streams[stream] = nil
	m.mu.Unlock()
	batch[0].lead = batch
	close(batch[0].done)
}

// run runs batch (its first command is the caller's) and answers the
// others.
func (m *Combiner) run(stream string, batch []*combined) {
	var live []*combined
	for _, w := range batch {
		w.res.Err = errs.E(errs.Internal, "%s: not run", w.c.Name) // until answered
		if err := w.ctx.Err(); err != nil {
			w.res.Err = errs.E(errs.DeadlineExceeded, "%s: %v while waiting for %s", w.c.Name, err, stream)
			continue
		}
		live = append(live, w)
	}
	defer func() {
		for _, w := range batch[1:] {
			close(w.done)
		}
	}()
	switch len(live) {
	case 0:
	case 1:
		w := live[0]
		w.res.Result, w.res.Err = m.h.Execute(w.ctx, w.c)
	default:
		ctx, stop := whileAnyWaits(live)
		defer stop()
		cmds := make([]Command, len(live))
		for i, w := range live {
			cmds[i] = w.c
		}
		for i, r := range m.h.ExecuteBatch(ctx, stream, cmds) {
			live[i].res = r
		}
	}
}

// whileAnyWaits is a context with the values of the first command's,
// cancelled once every command's context has ended.
func whileAnyWaits(ws []*combined) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ws[0].ctx))
	var left atomic.Int64
	left.Store(int64(len(ws)))
	stops := make([]func() bool, len(ws))
	for i, w := range ws {
		stops[i] = context.AfterFunc(w.ctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		})
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}
