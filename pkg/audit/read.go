package audit

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/craftledger/craftledger/events"
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

func (s Scope) validate() error {
	if s.Stream != "" && s.Category != "" {
		return errs.E(errs.InvalidArgument, "scope: give a stream or a category, not both")
	}
	if strings.Contains(s.Category, "-") {
		return errs.E(errs.InvalidArgument, "scope: category %q contains '-' (a category is the part of a stream name before its first '-')", s.Category)
	}
	return nil
}

func (s Scope) filter() *eventstore.Filter {
	if s.Category == "" {
		return nil
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
	if err := scope.validate(); err != nil {
		return 0, err
	}
	if err := rg.validate(scope); err != nil {
		return 0, err
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
		if tk != nil && tk.fn != nil {
			if last, err := st.ReadAll(ctx, eventstore.ReadAllOptions{Direction: eventstore.Backwards, FromEnd: true, Max: 1}); err == nil && len(last) == 1 {
				tk.end = last[0].Position.Commit
			}
		}
		go readAll(ctx, st, scope.filter(), rg, pages)
	}
	var n int64
	for p := range pages {
		if p.err != nil {
			return n, p.err
		}
		for i := range p.evs {
			e := &p.evs[i]
			if !rg.RecordedBy.IsZero() && e.Created.After(rg.RecordedBy) {
				continue
			}
			n++
			if err := fn(e); err != nil {
				return n, err
			}
			if scope.Stream != "" {
				tk.tick(n, e.Revision)
			} else {
				tk.tick(n, e.Position.Commit)
			}
		}
	}
	return n, ctx.Err()
}

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

func readAll(ctx context.Context, st eventstore.Store, filter *eventstore.Filter, rg Range, out chan<- page) {
	defer close(out)
	opts := eventstore.ReadAllOptions{Max: PageSize + 1, Filter: filter}
	skip := false
	if rg.FromPosition != nil {
		opts.From = *rg.FromPosition
	}
	for {
		evs, err := st.ReadAll(ctx, opts)
		if err != nil {
			send(ctx, out, page{err: fmt.Errorf("read $all from %d: %w", opts.From.Commit, err)})
			return
		}
		first := 0
		if skip {
			for first < len(evs) && !opts.From.Less(evs[first].Position) {
				first++ // From is inclusive and was the previous page's last
			}
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

// ParseTime reads a date "2006-01-02" (the start of that day UTC, or its
// last nanosecond when end is set — the GraphQL API's asOf reads a date
// the same way) or an RFC 3339 instant.
func ParseTime(s string, end bool) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			t = t.Add(24*time.Hour - time.Nanosecond)
		}
		return t.UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, errs.E(errs.InvalidArgument, "%q is neither a date (2006-01-02) nor an RFC 3339 time", s)
	}
	return t.UTC(), nil
}
