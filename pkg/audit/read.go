package audit

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// Scope selects what to read: one stream, one category (the part of a
// stream name before its first '-'), or, when both are empty, everything.
type Scope struct {
	Stream   string `json:"stream,omitempty"`
	Category string `json:"category,omitempty"`
}

// String names the scope for reports: "stream craftsman-42",
// "category craftsman" or "all".
func (s Scope) String() string {
	switch {
	case s.Stream != "":
		return "stream " + s.Stream
	case s.Category != "":
		return "category " + s.Category
	}
	return "all"
}

// Validate reports a scope naming both a stream and a category, or a
// category with a '-' (errs.InvalidArgument).
func (s Scope) Validate() error { return s.validate() }

func (s Scope) validate() error {
	if s.Stream != "" && s.Category != "" {
		return errs.E(errs.InvalidArgument, "scope: give a stream or a category, not both")
	}
	if strings.Contains(s.Category, "-") {
		return errs.E(errs.InvalidArgument, "scope: category %q contains '-' (a category is the part of a stream name before its first '-')", s.Category)
	}
	return nil
}

func (s Scope) filter(system bool) *eventstore.Filter {
	if s.Category == "" {
		return nil
	}
	if system {
		return &eventstore.Filter{Prefixes: []string{s.Category + "-", "$$" + s.Category + "-"}}
	}
	return &eventstore.Filter{Prefixes: []string{s.Category + "-"}}
}

// Progress is a snapshot of long work, passed to a ProgressFunc.
type Progress struct {
	Phase   string        `json:"phase"`  // "replay", "verify", "export", "policies", "diff"
	Events  int64         `json:"events"` // events processed so far
	Items   int           `json:"items,omitempty"`
	Total   int           `json:"total,omitempty"` // items expected (diff), 0 when unknown
	Elapsed time.Duration `json:"elapsed"`
	// Fraction is how far through the read the work is (0..1), from the
	// $all position or stream revision reached against the end found when
	// the work started; -1 when unknown.
	Fraction float64 `json:"fraction"`
	Done     bool    `json:"done"`
}

// Rate is events per second so far.
func (p Progress) Rate() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Events) / p.Elapsed.Seconds()
}

// ProgressFunc receives progress about every ProgressEvery and once at the
// end; never concurrently.
type ProgressFunc func(Progress)

// ProgressEvery is how often long work reports progress.
const ProgressEvery = 200 * time.Millisecond

// ticker throttles progress reports.
type ticker struct {
	fn    ProgressFunc
	phase string
	start time.Time
	last  time.Time
	// end bounds Fraction: the last $all commit or stream revision.
	end   uint64
	check int
}

func newTicker(fn ProgressFunc, phase string) *ticker {
	now := time.Now()
	return &ticker{fn: fn, phase: phase, start: now, last: now}
}

// tick reports progress at most every ProgressEvery; at is the commit
// position or revision reached.
func (t *ticker) tick(n int64, at uint64) {
	if t == nil || t.fn == nil {
		return
	}
	t.check++
	if t.check < 256 {
		return
	}
	t.check = 0
	now := time.Now()
	if now.Sub(t.last) < ProgressEvery {
		return
	}
	t.last = now
	t.fn(Progress{Phase: t.phase, Events: n, Elapsed: now.Sub(t.start), Fraction: t.fraction(at)})
}

func (t *ticker) done(n int64) {
	if t == nil || t.fn == nil {
		return
	}
	t.fn(Progress{Phase: t.phase, Events: n, Elapsed: time.Since(t.start), Fraction: 1, Done: true})
}

func (t *ticker) fraction(at uint64) float64 {
	if t.end == 0 {
		return -1
	}
	f := float64(at) / float64(t.end)
	if f > 1 {
		f = 1
	}
	return f
}

// Range bounds a read. Revisions apply to a stream scope, positions to the
// category and all scopes; both ends are inclusive. RecordedBy, when set,
// keeps only events the store recorded by then.
type Range struct {
	FromRevision *uint64              `json:"fromRevision,omitempty"`
	ToRevision   *uint64              `json:"toRevision,omitempty"`
	FromPosition *eventstore.Position `json:"fromPosition,omitempty"`
	ToPosition   *eventstore.Position `json:"toPosition,omitempty"`
	RecordedBy   time.Time            `json:"recordedBy,omitzero"`
}

// Validate reports a range that does not fit scope s (revisions for a
// category, positions for a stream) or runs backwards
// (errs.InvalidArgument).
func (r Range) Validate(s Scope) error { return r.validate(s) }

func (r Range) validate(s Scope) error {
	if s.Stream == "" && (r.FromRevision != nil || r.ToRevision != nil) {
		return errs.E(errs.InvalidArgument, "revisions bound a stream; use positions for a category or all")
	}
	if s.Stream != "" && (r.FromPosition != nil || r.ToPosition != nil) {
		return errs.E(errs.InvalidArgument, "positions bound a category or all; use revisions for a stream")
	}
	if r.FromRevision != nil && r.ToRevision != nil && *r.FromRevision > *r.ToRevision {
		return errs.E(errs.InvalidArgument, "from revision %d is after to revision %d", *r.FromRevision, *r.ToRevision)
	}
	if r.FromPosition != nil && r.ToPosition != nil && r.ToPosition.Less(*r.FromPosition) {
		return errs.E(errs.InvalidArgument, "from position %d is after to position %d", r.FromPosition.Commit, r.ToPosition.Commit)
	}
	return nil
}

// PageSize is how many events one read asks the store for.
const PageSize = 2048

// scan calls fn for every event of the scope within the range, in stream
// order for a stream and in $all order otherwise. The next page is read
// while fn works on the current one. fn may keep the pointers it
// gets: pages are not reused.
func scan(ctx context.Context, st eventstore.Store, scope Scope, rg Range, tk *ticker, fn func(*eventstore.RecordedEvent) error) (int64, error) {
	return scanWith(ctx, st, scope, rg, tk, readPlan{}, fn)
}

// readPlan says how to read a category or all: plan.parallel concurrent
// reads of $all (see scanParallel; <= 1 reads sequentially). The other
// fields are for tests; zero takes the defaults.
type readPlan struct {
	parallel    int
	chunkEvents int // ChunkEvents
	pageSize    int // PageSize, for the parallel reads
	// onChunk, when set, is told each chunk's bounds as it is planned.
	onChunk func(lo eventstore.Position, hi *eventstore.Position)
	// system also reads the system events of a category or all
	// (eventstore.ReadAllOptions.WithSystem): the $metadata of the scope's
	// streams, on "$$<stream>", for verify.
	system bool
}

// scanWith is scan following plan. fn sees the same events in the same
// order whatever the plan.
func scanWith(ctx context.Context, st eventstore.Store, scope Scope, rg Range, tk *ticker, plan readPlan, fn func(*eventstore.RecordedEvent) error) (int64, error) {
	if err := scope.validate(); err != nil {
		return 0, err
	}
	if err := rg.validate(scope); err != nil {
		return 0, err
	}
	if plan.parallel > 1 && scope.Stream == "" {
		if n, handled, err := scanParallel(ctx, st, scope, rg, tk, plan, fn); handled {
			return n, err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan page, 2)
	if scope.Stream != "" {
		if tk != nil && tk.fn != nil {
			if rev, err := eventstore.CurrentRevision(ctx, st, scope.Stream); err == nil {
				tk.end = rev
			}
		}
		go readStream(ctx, st, scope.Stream, rg, pages)
	} else {
		markAllEnd(ctx, st, tk)
		go readAll(ctx, st, scope.filter(plan.system), rg, plan.system, pages)
	}
	var n int64
	at := atCommit
	if scope.Stream != "" {
		at = atRevision
	}
	for p := range pages {
		if err := deliver(p, rg, fn, tk, at, &n); err != nil {
			return n, err
		}
	}
	return n, ctx.Err()
}

// markAllEnd sets tk's end mark to the position of $all's last event, when
// tk reports progress and the read succeeds.
func markAllEnd(ctx context.Context, st eventstore.Store, tk *ticker) {
	if tk == nil || tk.fn == nil {
		return
	}
	if last, err := st.ReadAll(ctx, eventstore.ReadAllOptions{Direction: eventstore.Backwards, FromEnd: true, Max: 1}); err == nil && len(last) == 1 {
		tk.end = last[0].Position.Commit
	}
}

// atCommit and atRevision are an event's progress mark in $all and in its
// stream.
func atCommit(e *eventstore.RecordedEvent) uint64   { return e.Position.Commit }
func atRevision(e *eventstore.RecordedEvent) uint64 { return e.Revision }

type page struct {
	evs []eventstore.RecordedEvent
	err error
}

func send(ctx context.Context, out chan<- page, p page) bool {
	select {
	case out <- p:
		return true
	case <-ctx.Done():
		return false
	}
}

// deliver hands fn the events of p recorded by rg.RecordedBy, counting them
// in n and ticking tk with at(event) as the progress mark; p's read error, or
// fn's, ends it.
func deliver(p page, rg Range, fn func(*eventstore.RecordedEvent) error, tk *ticker, at func(*eventstore.RecordedEvent) uint64, n *int64) error {
	if p.err != nil {
		return p.err
	}
	for i := range p.evs {
		e := &p.evs[i]
		if !rg.RecordedBy.IsZero() && e.Created.After(rg.RecordedBy) {
			continue
		}
		*n++
		if err := fn(e); err != nil {
			return err
		}
		tk.tick(*n, at(e))
	}
	return nil
}

// readAllPage reads one page of $all; after the first page (skip) first
// counts the leading events at or before opts.From, which the read includes
// and the previous page already had.
func readAllPage(ctx context.Context, st eventstore.Store, opts eventstore.ReadAllOptions, skip bool) (evs []eventstore.RecordedEvent, first int, err error) {
	evs, err = st.ReadAll(ctx, opts)
	if err != nil {
		return nil, 0, fmt.Errorf("read $all from %d: %w", opts.From.Commit, err)
	}
	if skip {
		for first < len(evs) && !opts.From.Less(evs[first].Position) {
			first++
		}
	}
	return evs, first, nil
}

func readAll(ctx context.Context, st eventstore.Store, filter *eventstore.Filter, rg Range, system bool, out chan<- page) {
	defer close(out)
	opts := eventstore.ReadAllOptions{Max: PageSize + 1, Filter: filter, WithSystem: system}
	skip := false
	if rg.FromPosition != nil {
		opts.From = *rg.FromPosition
	}
	for {
		evs, first, err := readAllPage(ctx, st, opts, skip)
		if err != nil {
			send(ctx, out, page{err: err})
			return
		}
		keep := evs[first:]
		end := false
		if rg.ToPosition != nil {
			for i, e := range keep {
				if rg.ToPosition.Less(e.Position) {
					keep, end = keep[:i], true
					break
				}
			}
		}
		if len(keep) > 0 && !send(ctx, out, page{evs: keep}) {
			return
		}
		if end || len(evs) < opts.Max || len(keep) == 0 {
			return
		}
		opts.From, skip = evs[len(evs)-1].Position, true
	}
}

func readStream(ctx context.Context, st eventstore.Store, stream string, rg Range, out chan<- page) {
	defer close(out)
	from := uint64(0)
	if rg.FromRevision != nil {
		from = *rg.FromRevision
	}
	for {
		evs, err := st.ReadStream(ctx, stream, eventstore.ReadOptions{From: from, Max: PageSize})
		if err != nil {
			send(ctx, out, page{err: fmt.Errorf("read %s from revision %d: %w", stream, from, err)})
			return
		}
		end := len(evs) < PageSize
		if rg.ToRevision != nil {
			for i, e := range evs {
				if e.Revision > *rg.ToRevision {
					evs, end = evs[:i], true
					break
				}
			}
		}
		if len(evs) > 0 && !send(ctx, out, page{evs: evs}) {
			return
		}
		if end || len(evs) == 0 {
			return
		}
		from = evs[len(evs)-1].Revision + 1
	}
}

// raw converts a stored event for the domain.
func raw(e *eventstore.RecordedEvent) events.Raw {
	return events.Raw{Stream: e.Stream, Revision: e.Revision, ID: e.ID, Type: e.Type, Data: e.Data, Metadata: e.Metadata, Created: e.Created}
}

// civil is the ledger's calendar (UTC+8, career.CivilOffset), in which
// the GraphQL API reads a date too.
var civil = time.FixedZone("UTC+8", career.CivilOffset)

// ParseTime reads a date "2006-01-02" of the ledger's calendar, UTC+8
// (the start of that day, or its last nanosecond when end is set — the
// GraphQL API's asOf reads a date the same way), or an RFC 3339 instant;
// the answer is in UTC.
func ParseTime(s string, end bool) (time.Time, error) {
	if t, err := time.ParseInLocation(time.DateOnly, s, civil); err == nil {
		if end {
			return career.EndOfDay(t), nil
		}
		return t.UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, errs.E(errs.InvalidArgument, "%q is neither a date (2006-01-02) nor an RFC 3339 time", s)
	}
	return t.UTC(), nil
}

// Parallel reads of $all.
//
// A parallel scan cuts the log into chunks of about ChunkEvents events,
// reads up to k chunks at once (each on its own ReadAll stream, so the
// client decodes them on k goroutines) and hands their events to fn in
// $all order, exactly as the sequential scan does: fn sees the same
// events in the same order, only sooner. Chunks are read ahead at most
// 2k at a time, so memory stays bounded (about 2k chunks of events).
//
// Chunk boundaries are real event positions, found by probing: a read of
// one event from a candidate position returns the first event at or after
// it (the embedded server numbers its log records; KurrentDB's positions
// are byte offsets in its log). A chunk runs from its boundary up to, not
// including, the next one, so chunks neither overlap nor leave gaps
// whatever the positions mean. A probe that fails or answers out of order
// ends the splitting: the rest of the log is read as one chunk, as the
// sequential scan would.

// DefaultParallel is how many concurrent reads verify and replay use
// when their options leave Parallel 0: GOMAXPROCS, at least 2 (the client
// decodes each read on its own goroutine, so even a 2-core machine keeps
// both cores busy) and at most 4 (each read buffers up to two chunks).
func DefaultParallel() int { return min(max(runtime.GOMAXPROCS(0), 2), 4) }

func parallelOr(n int) int {
	if n == 0 {
		return DefaultParallel()
	}
	return n
}

// ChunkEvents is about how many events one chunk of a parallel scan holds.
const ChunkEvents = 32 * 1024

// chunkSample is at most how many events the scan reads first to
// estimate how far apart positions are (positions per event); a log with
// fewer is read sequentially.
const chunkSample = 1024

type chunk struct {
	pages chan page
}

// scanParallel is scan over $all with plan.parallel concurrent readers. It returns
// handled=false (and reads nothing for fn) when the log is too small to be
// worth splitting or its first probes fail; the caller then scans
// sequentially.
func scanParallel(ctx context.Context, st eventstore.Store, scope Scope, rg Range, tk *ticker, plan readPlan, fn func(*eventstore.RecordedEvent) error) (n int64, handled bool, err error) {
	k := plan.parallel
	chunkEvents := cmp.Or(plan.chunkEvents, ChunkEvents)
	pageSize := cmp.Or(plan.pageSize, PageSize)
	from := eventstore.StartPosition()
	if rg.FromPosition != nil {
		from = *rg.FromPosition
	}
	want := min(max(chunkEvents, 2), chunkSample)
	sample, err := st.ReadAll(ctx, eventstore.ReadAllOptions{From: from, Max: want})
	if err != nil || len(sample) < want {
		return 0, false, nil
	}
	first, last := sample[0].Position, sample[len(sample)-1].Position
	if !first.Less(last) || last.Commit <= first.Commit {
		return 0, false, nil
	}
	perEvent := float64(last.Commit-first.Commit) / float64(len(sample)-1)
	span := uint64(perEvent * float64(chunkEvents))
	if span == 0 {
		return 0, false, nil
	}
	markAllEnd(ctx, st, tk)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	window := make(chan struct{}, 2*k) // chunks started and not yet consumed
	readers := make(chan struct{}, k)  // chunks being read
	chunks := make(chan *chunk, 2*k)
	var prefix string
	if scope.Category != "" {
		prefix = scope.Category + "-"
	}
	pagesPerChunk := chunkEvents/pageSize + 2
	go func() {
		defer close(chunks)
		lo := first
		for {
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case readers <- struct{}{}:
			case <-ctx.Done():
				return
			}
			// The next boundary: the first event at or after lo + span.
			var hi *eventstore.Position
			if c := lo.Commit + span; c > lo.Commit && (rg.ToPosition == nil || c <= rg.ToPosition.Commit) {
				next, err := st.ReadAll(ctx, eventstore.ReadAllOptions{From: eventstore.Position{Commit: c, Prepare: c}, Max: 1})
				if err == nil && len(next) == 1 && lo.Less(next[0].Position) {
					hi = &next[0].Position
				}
				// Otherwise (the end of the log, a failed or odd probe)
				// the rest is one chunk.
			}
			if plan.onChunk != nil {
				plan.onChunk(lo, hi)
			}
			ch := &chunk{pages: make(chan page, pagesPerChunk)}
			go func(lo eventstore.Position, hi *eventstore.Position) {
				defer func() { <-readers }()
				readChunk(ctx, st, prefix, plan.system, lo, hi, rg.ToPosition, perEvent, pageSize, ch.pages)
			}(lo, hi)
			select {
			case chunks <- ch:
			case <-ctx.Done():
				return
			}
			if hi == nil {
				return
			}
			lo = *hi
		}
	}()
	for ch := range chunks {
		for p := range ch.pages {
			if err := deliver(p, rg, fn, tk, atCommit, &n); err != nil {
				return n, true, err
			}
		}
		<-window
	}
	return n, true, ctx.Err()
}

// readChunk reads the events at positions from lo up to, not including,
// hi (nil: to the end of the log), and not after to (inclusive, nil: no
// bound), keeping the streams starting with prefix ("" keeps all; with
// system, system events too, and the metadata streams "$$"+prefix…), in
// pages of about pageSize to out, which it closes. perEvent (positions per event) sizes the
// last page so the read does not run far past hi.
func readChunk(ctx context.Context, st eventstore.Store, prefix string, system bool, lo eventstore.Position, hi, to *eventstore.Position, perEvent float64, pageSize int, out chan<- page) {
	defer close(out)
	opts := eventstore.ReadAllOptions{From: lo, WithSystem: system}
	skip := false
	for {
		opts.Max = pageSize + 1
		if hi != nil && perEvent > 0 {
			if est := float64(hi.Commit-opts.From.Commit)/perEvent + 16; est < float64(pageSize) {
				opts.Max = int(est) + 1
			}
		}
		evs, first, err := readAllPage(ctx, st, opts, skip)
		if err != nil {
			send(ctx, out, page{err: err})
			return
		}
		if len(evs) == first {
			return
		}
		next := evs[len(evs)-1].Position
		keep := evs[first:]
		end := false
		for i := range keep {
			p := keep[i].Position
			if hi != nil && !p.Less(*hi) || to != nil && to.Less(p) {
				keep, end = keep[:i], true
				break
			}
		}
		if prefix != "" {
			kept := keep[:0]
			for _, e := range keep {
				if strings.HasPrefix(e.Stream, prefix) || system && strings.HasPrefix(e.Stream, "$$") && strings.HasPrefix(e.Stream[2:], prefix) {
					kept = append(kept, e)
				}
			}
			keep = kept
		}
		if len(keep) > 0 && !send(ctx, out, page{evs: keep}) {
			return
		}
		if end || len(evs) < opts.Max {
			return
		}
		opts.From, skip = next, true
	}
}
