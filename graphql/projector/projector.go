// Package projector keeps craftledger's read models up to date: a catch-up
// subscription to $all, filtered server-side to the ledger's streams, from
// the read model's checkpoint. Events are applied in batches; each batch
// moves the checkpoint atomically with the state it produced, so a restart
// or a dropped subscription resumes exactly where it stopped (duplicates are
// skipped, a gap in a stream's revisions stops the projection loudly).
// Snapshots of the read model are written periodically and on shutdown so a
// restart replays only what came after the snapshot.
package projector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/craftledger/craftledger/graphql/readmodel"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// Name is the projection's stable name; it tags snapshots. Renaming it (or
// changing what the read model derives) means a replay from zero.
const Name = "craftledger-readmodel-v1"

// Model is the read model the projector feeds: a readmodel.Writer that can
// also snapshot itself (readmodel.Memory is one).
type Model interface {
	readmodel.Writer
	WriteSnapshot(path, projection string) error
	LoadSnapshot(path, projection string) error
}

// Config wires a Projector.
type Config struct {
	Store eventstore.Store // required
	Model Model            // required
	// SnapshotPath is where snapshots live; "" disables them.
	SnapshotPath string
	// SnapshotEvery writes a snapshot after this many newly applied events
	// (0 = 1,000,000). A snapshot is also written when Run returns.
	SnapshotEvery int
	// BatchSize bounds the events applied under one lock (0 = 4096).
	BatchSize int
	// Retry is the pause before resubscribing after a drop (0 = 500 ms).
	Retry  time.Duration
	Logger *slog.Logger
	// Now is the clock (nil = time.Now).
	Now func() time.Time
}

// Status is the projector's progress, for /readyz and /metrics.
type Status struct {
	Position      eventstore.Position
	HasPosition   bool
	CaughtUp      bool      // the subscription reported caught-up and nothing is pending
	EverCaughtUp  bool      // caught up at least once since start
	Applied       uint64    // events applied since start
	Batches       uint64    // batches applied since start (Applied/Batches is the mean batch)
	LastEventTime time.Time // record time of the last applied event
	LastApply     time.Time // when the last batch was applied
	Drops         uint64    // subscriptions that dropped and were resumed
	Snapshots     uint64
	Err           error // a fatal error (a gap); the projection has stopped
}

// Projector is a long-running actor; Run it once.
type Projector struct {
	cfg Config
	log *slog.Logger
	now func() time.Time

	mu      sync.Mutex
	st      Status
	advance chan struct{} // closed and replaced whenever the position moves
	sinceSn int

	snapping sync.WaitGroup // a background snapshot in progress
	busy     bool           // guarded by mu: a background snapshot runs
}

// New checks cfg and returns a Projector. It does not touch the store.
func New(cfg Config) (*Projector, error) {
	if cfg.Store == nil || cfg.Model == nil {
		return nil, errs.E(errs.InvalidArgument, "projector: store and model are required")
	}
	if cfg.SnapshotEvery <= 0 {
		cfg.SnapshotEvery = 1_000_000
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 4096
	}
	if cfg.Retry <= 0 {
		cfg.Retry = 500 * time.Millisecond
	}
	p := &Projector{cfg: cfg, log: cfg.Logger, now: cfg.Now, advance: make(chan struct{})}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.now == nil {
		p.now = time.Now
	}
	if cp, ok := cfg.Model.Checkpoint(); ok {
		p.st.Position, p.st.HasPosition = cp, true
	}
	return p, nil
}

// LoadSnapshot restores the model from the configured snapshot, if there is
// one. Run calls it; it is exported for tools that only want the model.
func (p *Projector) LoadSnapshot() error {
	if p.cfg.SnapshotPath == "" {
		return nil
	}
	start := p.now()
	err := p.cfg.Model.LoadSnapshot(p.cfg.SnapshotPath, Name)
	switch {
	case errors.Is(err, errs.NotFound):
		return nil
	case errors.Is(err, errs.FailedPrecondition):
		p.log.Warn("snapshot unusable, replaying from the start", "path", p.cfg.SnapshotPath, "err", err)
		return nil
	case err != nil:
		return err
	}
	cp, ok := p.cfg.Model.Checkpoint()
	p.log.Info("snapshot loaded", "path", p.cfg.SnapshotPath, "commit", cp.Commit, "took", p.now().Sub(start))
	p.mu.Lock()
	p.st.Position, p.st.HasPosition = cp, ok
	p.wake()
	p.mu.Unlock()
	return nil
}

// wake tells every WaitFor caller that the position moved (a batch was
// applied or a snapshot restored it). Callers hold p.mu.
func (p *Projector) wake() {
	close(p.advance)
	p.advance = make(chan struct{})
}

// Run loads the snapshot, then follows $all until ctx ends, resubscribing
// from the checkpoint whenever the subscription drops. It returns nil when
// ctx ends (after writing a final snapshot) and an error only for a fatal
// condition (a gap in a stream, a snapshot that cannot be written).
func (p *Projector) Run(ctx context.Context) error {
	if err := p.LoadSnapshot(); err != nil {
		return p.fail(err)
	}
	for {
		err := p.follow(ctx)
		if ctx.Err() != nil {
			return p.finalSnapshot()
		}
		if errors.Is(err, errs.FailedPrecondition) {
			return p.fail(err)
		}
		p.mu.Lock()
		p.st.CaughtUp = false
		p.st.Drops++
		p.mu.Unlock()
		p.log.Warn("subscription dropped; resuming from checkpoint", "err", err)
		select {
		case <-ctx.Done():
			return p.finalSnapshot()
		case <-time.After(p.cfg.Retry):
		}
	}
}

func (p *Projector) fail(err error) error {
	p.mu.Lock()
	p.st.Err = err
	p.wake() // waiters learn that it stopped
	p.mu.Unlock()
	p.log.Error("projection stopped", "err", err)
	return fmt.Errorf("projection %s: %w", Name, err)
}

func (p *Projector) finalSnapshot() error {
	if p.cfg.SnapshotPath == "" {
		return nil
	}
	p.snapping.Wait()
	if err := p.snapshot(); err != nil {
		return p.fail(err)
	}
	return nil
}

func (p *Projector) snapshot() error {
	if err := p.cfg.Model.WriteSnapshot(p.cfg.SnapshotPath, Name); err != nil {
		return err
	}
	p.mu.Lock()
	p.st.Snapshots++
	p.mu.Unlock()
	return nil
}

// follow runs one subscription until it drops or ctx ends.
func (p *Projector) follow(ctx context.Context) error {
	opts := eventstore.SubscribeOptions{Filter: &eventstore.Filter{Prefixes: readmodel.Prefixes()}}
	if cp, ok := p.cfg.Model.Checkpoint(); ok {
		opts.From = &cp
	}
	sub, err := p.cfg.Store.SubscribeAll(ctx, opts)
	if err != nil {
		return fmt.Errorf("subscribe to $all: %w", err)
	}
	defer sub.Close()

	// A reader goroutine feeds a channel so that the applier can drain
	// whatever is already waiting into one batch without blocking.
	msgs := make(chan eventstore.Message, p.cfg.BatchSize)
	rerr := make(chan error, 1)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for {
			m, err := sub.Recv(rctx)
			if err != nil {
				rerr <- err
				close(msgs)
				return
			}
			select {
			case msgs <- m:
			case <-rctx.Done():
				rerr <- rctx.Err()
				close(msgs)
				return
			}
		}
	}()

	batch := make([]eventstore.RecordedEvent, 0, p.cfg.BatchSize)
	for {
		m, ok := <-msgs
		if !ok {
			return <-rerr
		}
		var cp *eventstore.Position
		caughtUp := false
		take := func(m eventstore.Message) {
			switch {
			case m.Event != nil:
				batch = append(batch, *m.Event)
				pos := m.Event.Position
				cp = &pos
			case m.Checkpoint != nil:
				if cp == nil || cp.Less(*m.Checkpoint) {
					c := *m.Checkpoint
					cp = &c
				}
			case m.CaughtUp:
				caughtUp = true
			}
		}
		take(m)
	drain:
		for len(batch) < p.cfg.BatchSize {
			select {
			case m, ok := <-msgs:
				if !ok {
					break drain
				}
				take(m)
			default:
				break drain
			}
		}
		if err := p.apply(batch, cp, caughtUp && len(msgs) == 0); err != nil {
			return err
		}
		batch = batch[:0]
	}
}

func (p *Projector) apply(batch []eventstore.RecordedEvent, cp *eventstore.Position, caughtUp bool) error {
	if cp != nil {
		if err := p.cfg.Model.Apply(batch, *cp); err != nil {
			return err
		}
	}
	now := p.now()
	p.mu.Lock()
	if cp != nil {
		if got, ok := p.cfg.Model.Checkpoint(); ok {
			p.st.Position, p.st.HasPosition = got, true
		}
		p.st.Applied += uint64(len(batch))
		p.st.Batches++
		p.sinceSn += len(batch)
		if len(batch) > 0 {
			p.st.LastEventTime = batch[len(batch)-1].Created
		}
		p.st.LastApply = now
		p.wake()
	}
	if caughtUp {
		if !p.st.CaughtUp && cp == nil {
			p.wake() // waiters may now ask the store about unfollowed streams
		}
		p.st.CaughtUp, p.st.EverCaughtUp = true, true
	} else if len(batch) > 0 && !p.st.EverCaughtUp {
		p.st.CaughtUp = false
	}
	due := p.cfg.SnapshotPath != "" && p.sinceSn >= p.cfg.SnapshotEvery && !p.busy
	if due {
		// In the background: the model hands over a consistent cut, so
		// projecting and answering go on while the file is written.
		p.busy, p.sinceSn = true, 0
		p.snapping.Add(1)
		go func() {
			defer p.snapping.Done()
			if err := p.snapshot(); err != nil {
				p.log.Error("snapshot", "err", err)
			}
			p.mu.Lock()
			p.busy = false
			p.mu.Unlock()
		}()
	}
	p.mu.Unlock()
	return nil
}

// Status returns the current progress.
func (p *Projector) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.st
}

// Ready reports whether the projection has caught up with the log at least
// once and has not stopped.
func (p *Projector) Ready() bool {
	st := p.Status()
	return st.EverCaughtUp && st.Err == nil
}

// WaitReady blocks until the projection has caught up with the log at
// least once (Ready), it stopped, or ctx ends. WaitFor alone can return
// as soon as a restored snapshot covers a position, before the projector
// has looked at the log's end; /readyz answers 503 until then.
func (p *Projector) WaitReady(ctx context.Context) error {
	for {
		p.mu.Lock()
		ready, stopped, ch, applied := p.st.EverCaughtUp, p.st.Err, p.advance, p.st.Applied
		p.mu.Unlock()
		switch {
		case stopped != nil:
			return errs.E(errs.Unavailable, "projection stopped: %v", stopped)
		case ready:
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return errs.E(errs.DeadlineExceeded, "projection still catching up (%d events applied); retry later", applied)
		}
	}
}

// WaitFor blocks until the projection has applied the log up to pos
// (inclusive), for read-your-writes. A position in a stream the projection
// does not follow (an issuer's stream, say) counts as reached once no
// ledger event lies between the projection's position and pos: the store
// is asked. It fails with errs.DeadlineExceeded when ctx ends first, and
// with errs.Unavailable when the projection has stopped.
func (p *Projector) WaitFor(ctx context.Context, pos eventstore.Position) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	ask := true // ask the store on the first look, on catching up, then once per tick
	wasCaughtUp := false
	for {
		p.mu.Lock()
		reached := p.st.HasPosition && !p.st.Position.Less(pos)
		stopped := p.st.Err
		ch := p.advance
		have, hasPos := p.st.Position, p.st.HasPosition
		caughtUp := p.st.CaughtUp
		p.mu.Unlock()
		if reached {
			return nil
		}
		if stopped != nil {
			return errs.E(errs.Unavailable, "projection stopped: %v", stopped)
		}
		// Only a caught-up projection can be "as good as at pos" without
		// reaching it; while catching up it gets there by applying events.
		// Asking the store costs two $all reads, so not on every batch.
		if caughtUp && !wasCaughtUp {
			ask = true
		}
		wasCaughtUp = caughtUp
		if ask && caughtUp {
			if covered, err := p.nothingBetween(ctx, have, hasPos, pos); err == nil && covered {
				return nil
			}
		}
		ask = false
		select {
		case <-ch:
		case <-tick.C:
			ask = true
		case <-ctx.Done():
			return errs.E(errs.DeadlineExceeded, "projection has not reached position %d/%d yet (at %d/%d); retry later", pos.Commit, pos.Prepare, have.Commit, have.Prepare)
		}
	}
}

// nothingBetween asks the store whether the log reaches want and no ledger
// event lies after have and at or before want; then the projection is as
// good as at want. Events are only ever appended after the log's end, so
// the answer holds.
func (p *Projector) nothingBetween(ctx context.Context, have eventstore.Position, hasPos bool, want eventstore.Position) (bool, error) {
	last, err := p.cfg.Store.ReadAll(ctx, eventstore.ReadAllOptions{Direction: eventstore.Backwards, FromEnd: true, Max: 1})
	if err != nil || len(last) == 0 || last[0].Position.Less(want) {
		return false, err // the log has not reached want (yet)
	}
	opts := eventstore.ReadAllOptions{Max: 2, Filter: &eventstore.Filter{Prefixes: readmodel.Prefixes()}}
	if hasPos {
		opts.From = have
	}
	evs, err := p.cfg.Store.ReadAll(ctx, opts)
	if err != nil {
		return false, err
	}
	for _, e := range evs {
		if hasPos && !have.Less(e.Position) {
			continue // the event at the position itself (reads may include it)
		}
		return want.Less(e.Position), nil
	}
	return true, nil
}
