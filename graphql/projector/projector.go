// Package projector keeps craftledger's read models up to date: a catch-up
// subscription to $all, filtered server-side to the ledger's streams, from
// the read model's checkpoint. Events are applied in batches; each batch
// moves the checkpoint atomically with the state it produced, so a restart
// or a dropped subscription resumes exactly where it stopped (duplicates are
// skipped, a gap in a stream's revisions stops the projection loudly).
// Snapshots of the read model are written periodically and on shutdown so a
// restart replays only what came after the snapshot.
//
// Before each subscription the projector checks that the store still holds
// the log the model was built from (checkStore): the log reaches the
// model's checkpoint, and the model's first event and its last event at or
// before the checkpoint are the store's (same id, stream, revision and
// position). A store that was replaced, reset or restored from an older
// backup fails that check. At start-up — a model restored from a snapshot,
// nothing applied yet — the projector then discards the snapshot (an empty
// one replaces it on disk) and rebuilds the model from the start of the
// log, logging why at WARN ("snapshot does not match the store"); once it
// has applied events, the projection stops instead (FailedPrecondition:
// /readyz answers 503 and Run returns the error), and the next start
// rebuilds. A model the caller filled itself (a snapshot loaded outside
// the projector, as the restart benchmark does over an empty store) is
// the caller's to vouch for: it is checked only once the projector has
// applied events to it.
package projector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
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
	Rebuilds      uint64 // snapshots discarded at start-up: the store did not hold their log (checkStore)
	Err           error  // a fatal error (a gap); the projection has stopped
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
	restored bool           // guarded by mu: the model was loaded from SnapshotPath (checkStore vouches for it)
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
// It first removes the temporary files a snapshot or side-file write cut
// short by a crash left beside the snapshot (removeStaleTemps).
func (p *Projector) LoadSnapshot() error {
	if p.cfg.SnapshotPath == "" {
		return nil
	}
	p.removeStaleTemps()
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
	p.restored = true
	p.wake()
	p.mu.Unlock()
	return nil
}

// removeStaleTemps removes what a snapshot write cut short (a crash, an
// OOM kill, a power loss) left beside SnapshotPath: the temporary files of
// the snapshot and of its side files, "<snapshot>.tmp-*" and
// "<snapshot>.<side>.tmp-*" (not another file that merely starts with the
// snapshot's name, "readmodel.snap2.tmp-1"). Nothing else
// removed them, and the snapshot's is its full size (8 GB at 1 M
// craftsmen), one more per crash. It assumes that one process owns the
// snapshot's directory, as the deployment files arrange (a pod's own
// emptyDir, one compose container); two processes sharing it were never
// supported (each renames its snapshot over the other's), and this would
// remove the other's write in progress. Called before anything of this
// process writes there.
func (p *Projector) removeStaleTemps() {
	dir, base := filepath.Dir(p.cfg.SnapshotPath), filepath.Base(p.cfg.SnapshotPath)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return // no directory yet: nothing left behind
	}
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, base) {
			continue
		}
		if rest := name[len(base):]; !strings.HasPrefix(rest, ".") || !strings.Contains(rest, ".tmp-") {
			continue
		}
		path := filepath.Join(dir, name)
		var size int64
		if fi, err := e.Info(); err == nil {
			size = fi.Size()
		}
		if err := os.Remove(path); err != nil {
			p.log.Warn("remove a snapshot write's temporary file", "path", path, "err", err)
			continue
		}
		p.log.Info("removed the temporary file of a snapshot write cut short", "path", path, "bytes", size)
	}
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

// fail records a fatal error and returns it for Run, once a snapshot
// being written in the background is done: the caller exits when Run
// returns, and a write cut short leaves its temporary file behind.
func (p *Projector) fail(err error) error {
	p.mu.Lock()
	p.st.Err = err
	p.wake() // waiters learn that it stopped
	p.mu.Unlock()
	p.log.Error("projection stopped", "err", err)
	p.snapping.Wait()
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
	if err := p.matchStore(ctx); err != nil {
		return err
	}
	// With system events: a ledger stream's own $-typed events take its
	// revisions, and without them the next event looked like a gap.
	opts := eventstore.SubscribeOptions{Filter: &eventstore.Filter{Prefixes: readmodel.Prefixes()}, WithSystem: true}
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

	if err := p.applyAll(msgs); err != nil {
		return err
	}
	return <-rerr
}

// applyAll applies what msgs delivers, in batches of whatever is already
// waiting (at most BatchSize events), until msgs is closed (nil) or a
// batch fails. The subscription says it caught up once (CaughtUp); that
// is kept until a batch leaves nothing waiting behind it, and reported
// with that batch: a CaughtUp drained into a full batch with live events
// queued after it was dropped with the batch, and the projection never
// caught up again until the next subscription (/readyz 503, and
// read-your-writes waits on unfollowed streams timed out).
func (p *Projector) applyAll(msgs <-chan eventstore.Message) error {
	batch := make([]eventstore.RecordedEvent, 0, p.cfg.BatchSize)
	caughtUp := false // the subscription said so; reported once nothing is waiting
	for {
		m, ok := <-msgs
		if !ok {
			return nil
		}
		var cp *eventstore.Position
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
		report := caughtUp && len(msgs) == 0
		if err := p.apply(batch, cp, report); err != nil {
			return err
		}
		if report {
			caughtUp = false
		}
		batch = batch[:0]
	}
}

// logModel is a model that answers audit queries over its raw events
// (readmodel.Memory does): checkStore compares its first and last events
// with the store's. A model without it is checked against the log's end
// only.
type logModel interface {
	Log(q readmodel.LogQuery) readmodel.LogPage
}

// matchStore runs checkStore — on a model restored from SnapshotPath or
// holding events this projector applied — and acts on a mismatch: at
// start-up (nothing applied since Run began, never caught up) with a
// snapshot path it discards the model and rebuilds from zero; otherwise
// the projection stops (errs.FailedPrecondition). A store that cannot be
// read is an ordinary error: Run resubscribes, and checks again.
func (p *Projector) matchStore(ctx context.Context) error {
	p.mu.Lock()
	vouched := !p.restored && p.st.Applied == 0
	p.mu.Unlock()
	if vouched {
		return nil // the caller's model (loaded by the caller, or empty): nothing of this store's in it yet
	}
	why, err := p.checkStore(ctx)
	if err != nil || why == "" {
		return err
	}
	p.mu.Lock()
	fresh := p.st.Applied == 0 && !p.st.EverCaughtUp
	p.mu.Unlock()
	if !fresh || p.cfg.SnapshotPath == "" {
		return errs.E(errs.FailedPrecondition, "the store no longer holds the log this read model was built from (%s): restart to rebuild it from the log", why)
	}
	p.log.Warn("snapshot does not match the store; discarding it and rebuilding the read model from the start of the log",
		"snapshot", p.cfg.SnapshotPath, "reason", why)
	// An empty snapshot replaces the one on disk (a crash from here on
	// restarts from zero too) and is loaded into the model: a load is the
	// model's one way to drop its content, and its side files follow it.
	if err := readmodel.NewMemory().WriteSnapshot(p.cfg.SnapshotPath, Name); err != nil {
		return errs.E(errs.FailedPrecondition, "discard the snapshot: %v", err)
	}
	if err := p.cfg.Model.LoadSnapshot(p.cfg.SnapshotPath, Name); err != nil {
		return errs.E(errs.FailedPrecondition, "discard the snapshot: %v", err)
	}
	cp, ok := p.cfg.Model.Checkpoint()
	p.mu.Lock()
	p.st.Position, p.st.HasPosition = cp, ok
	p.st.CaughtUp = false
	p.st.Rebuilds++
	p.sinceSn = 0
	p.wake()
	p.mu.Unlock()
	return nil
}

// checkStore answers why the store does not hold the log the model was
// built from ("" when it does, or when the model has applied nothing):
// the log ends before the model's checkpoint, or the model's first event,
// or its last event at or before the checkpoint, is not the store's event
// there (another id, stream, revision or position). Three or four short
// reads of $all (more past a run of tombstones). The store's events are
// read as the model holds them: system events included, tombstones not.
func (p *Projector) checkStore(ctx context.Context) (string, error) {
	cp, ok := p.cfg.Model.Checkpoint()
	if !ok {
		return "", nil
	}
	end, err := p.cfg.Store.ReadAll(ctx, eventstore.ReadAllOptions{Direction: eventstore.Backwards, FromEnd: true, Max: 1, WithSystem: true})
	if err != nil {
		return "", fmt.Errorf("read the end of $all: %w", err)
	}
	switch {
	case len(end) == 0:
		return fmt.Sprintf("the store's log is empty; the read model's checkpoint is %s", posString(cp)), nil
	case end[0].Position.Less(cp):
		return fmt.Sprintf("the store's log ends at %s, before the read model's checkpoint %s", posString(end[0].Position), posString(cp)), nil
	}
	lm, ok := p.cfg.Model.(logModel)
	if !ok {
		return "", nil
	}
	first := lm.Log(readmodel.LogQuery{Limit: 1}).Events
	if len(first) > 0 {
		got, err := p.ledgerEvent(ctx, eventstore.ReadAllOptions{})
		if err != nil {
			return "", fmt.Errorf("read the start of $all: %w", err)
		}
		if got == nil || !sameEvent(*got, first[0]) {
			return fmt.Sprintf("the read model's first event is %s, the store's %s", eventString(&first[0]), eventString(got)), nil
		}
	}
	// The store's last ledger event at or before the checkpoint: the event
	// at the checkpoint itself (a forwards read includes it), else the
	// last before it (a backwards read from a position starts before it).
	at, err := p.cfg.Store.ReadAll(ctx, eventstore.ReadAllOptions{From: cp, Max: 1, Filter: &eventstore.Filter{Prefixes: readmodel.Prefixes()}, WithSystem: true})
	if err != nil {
		return "", fmt.Errorf("read $all at %s: %w", posString(cp), err)
	}
	var last *eventstore.RecordedEvent
	if len(at) > 0 && at[0].Position == cp && !eventstore.IsTombstone(&at[0]) {
		last = &at[0]
	} else if last, err = p.ledgerEvent(ctx, eventstore.ReadAllOptions{Direction: eventstore.Backwards, From: cp}); err != nil {
		return "", fmt.Errorf("read $all back from %s: %w", posString(cp), err)
	}
	if last == nil {
		if len(first) > 0 {
			return fmt.Sprintf("the store holds no ledger event at or before the read model's checkpoint %s; the read model holds %s", posString(cp), eventString(&first[0])), nil
		}
		return "", nil
	}
	q := readmodel.LogQuery{Limit: 1}
	if !last.Position.IsStart() {
		before := last.Position.Before()
		q.After = &before
	}
	page := lm.Log(q)
	if len(page.Events) == 0 || !sameEvent(page.Events[0], *last) || page.HasMore {
		var mine *eventstore.RecordedEvent
		if len(page.Events) > 0 {
			mine = &page.Events[0]
		}
		return fmt.Sprintf("the store's last ledger event at or before the checkpoint %s is %s, the read model's there is %s",
			posString(cp), eventString(last), eventString(mine)), nil
	}
	return "", nil
}

// ledgerEvent is the first event a read of $all with opts (direction and
// start) returns of those the model holds: a ledger stream's events,
// system events included (the projector subscribes with them), a hard
// delete's tombstone not (Memory skips it); nil when there is none.
func (p *Projector) ledgerEvent(ctx context.Context, opts eventstore.ReadAllOptions) (*eventstore.RecordedEvent, error) {
	opts.Filter = &eventstore.Filter{Prefixes: readmodel.Prefixes()}
	opts.WithSystem = true
	opts.Max = 16
	for {
		evs, err := p.cfg.Store.ReadAll(ctx, opts)
		if err != nil {
			return nil, err
		}
		for i := range evs {
			if !eventstore.IsTombstone(&evs[i]) {
				return &evs[i], nil
			}
		}
		if len(evs) < opts.Max {
			return nil, nil
		}
		// Only tombstones: on from the last (a forwards read returns it
		// again, a backwards one starts before it).
		opts.From, opts.FromEnd = evs[len(evs)-1].Position, false
	}
}

func sameEvent(a, b eventstore.RecordedEvent) bool {
	return a.ID == b.ID && a.Stream == b.Stream && a.Revision == b.Revision && a.Position == b.Position
}

func posString(p eventstore.Position) string { return fmt.Sprintf("%d/%d", p.Commit, p.Prepare) }

func eventString(e *eventstore.RecordedEvent) string {
	if e == nil {
		return "none"
	}
	return fmt.Sprintf("%s@%d (id %s) at %s", e.Stream, e.Revision, e.ID, posString(e.Position))
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
	last, err := p.cfg.Store.ReadAll(ctx, eventstore.ReadAllOptions{Direction: eventstore.Backwards, FromEnd: true, Max: 1, WithSystem: true})
	if err != nil || len(last) == 0 || last[0].Position.Less(want) {
		return false, err // the log has not reached want (yet)
	}
	// System events included, as the subscription delivers them: a
	// tombstone moves the projection's position too.
	opts := eventstore.ReadAllOptions{Max: 2, Filter: &eventstore.Filter{Prefixes: readmodel.Prefixes()}, WithSystem: true}
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
