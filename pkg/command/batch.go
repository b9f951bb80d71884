package command

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// BatchResult is the outcome of one command of a batch: a Result or an error.
type BatchResult struct {
	Result Result
	Err    error
}

// ExecuteBatch runs cmds, all on stream, in as few appends as it can: each
// command decides on the stream's history followed by the events of the
// commands before it, so the outcome is the same as running them one after
// the other, with one round trip to the store for many commands instead of
// one each. A command that is refused (or whose key was already used, or
// whose fact is Already recorded) contributes no events and gets its own
// error (or replayed result); the others are written. An append carries
// at most 512 KiB of events (maxBatchBytes; one command's events always go
// together) and the commands after it go in the next; when the store
// refuses an append of several commands' events (it takes less than that,
// or one command's events are too large), the commands go again one
// writer at a time, so that only a command whose events the store refuses
// alone fails, and the commands decided after it are decided again on the
// stream as it is. Every answer that depends on an append — a command's
// events, a replay of a key or fact decided earlier in it, a no-op after
// its events, and a refusal decided after its first written command —
// gets that append's position or, when the append fails otherwise (the
// store unavailable, a lost race retried to the end), fails with it;
// answers decided on the stored history alone stand. The batch re-decides
// on a lost race like Execute (every command is treated as
// RetryOnConflict). Bulk back-fill uses it for consecutive lines of one
// craftsman.
func (h *Handler) ExecuteBatch(ctx context.Context, stream string, cmds []Command) []BatchResult {
	out := make([]BatchResult, len(cmds))
	if stream == "" {
		for i := range out {
			out[i].Err = errs.E(errs.InvalidArgument, "%s: no stream", cmds[i].Name)
		}
		return out
	}
	defer h.locks.Lock(stream)()
	for done := 0; done < len(cmds); {
		done += h.appendPrefix(ctx, stream, cmds[done:], out[done:])
	}
	return out
}

// maxBatchBytes bounds the events (data and metadata) of one batched
// append: half the store's default maximum append size (1 MiB, in
// KurrentDB as in the embedded server), leaving room for what else an
// append carries.
const maxBatchBytes = 512 << 10

// appendPrefix decides a prefix of cmds whose events fit in one append,
// appends them, fills in the prefix's results in out and returns the
// prefix's length (at least 1).
func (h *Handler) appendPrefix(ctx context.Context, stream string, cmds []Command, out []BatchResult) int {
	useCache := true
	bound := maxBatchBytes // 0 after the store refused several writers' events: one writer an append
	readBack := false      // decided again after another writer's events answered a fixed-id append
	for attempt := 0; ; attempt++ {
		var hist History
		cached := false
		if useCache {
			hist, cached = h.cache.get(stream)
		}
		if !cached {
			var err error
			if hist, err = h.loadAndCache(ctx, stream); err != nil {
				for i := range out {
					out[i] = BatchResult{Err: fmt.Errorf("%s: %w", cmds[i].Name, err)}
				}
				return len(cmds)
			}
		}
		// The history grows with the batch's events; each decision sees a
		// prefix of it. The cached tip grows in place, after its length
		// (what it shows never changes, and the stream lock keeps other
		// commands of this process off it); any other history is copied.
		work := hist.Events
		if !h.cache.isTip(hist) || len(work)+2*len(cmds) > cap(work) {
			work = make([]eventstore.RecordedEvent, len(hist.Events), grow(len(hist.Events), 2*len(cmds)))
			copy(work, hist.Events)
		}
		cur := History{Stream: stream, Exists: hist.Exists, Events: work, lastHash: hist.lastHash}
		var data []eventstore.EventData
		size := 0
		// owner: the commands whose results are those of this append —
		// those with events in it, and replays and no-ops answered at a
		// revision decided earlier in it: they get its position.
		// dependent: the commands whose answers fail with it — the owners
		// and the refusals decided after its first written command.
		owner := make([]int, 0, len(cmds))
		var dependent []int
		inBatch := func(rev uint64) bool { return !hist.Exists || rev > hist.Revision() }
		firstWriter, writers := -1, 0
		fixed := false // an event of the append has a fixed id: read it back
		n := len(cmds) // the prefix this append decides
		refusedOnCache := false
		for i, c := range cmds {
			out[i] = BatchResult{}
			if c.Stream != stream {
				out[i].Err = errs.E(errs.Internal, "%s: stream %s in a batch of %s", c.Name, c.Stream, stream)
				continue
			}
			scope := ""
			if c.Meta.IdempotencyKey != "" {
				var res Result
				var done bool
				var err error
				scope, res, done, err = checkKey(ctx, c, cur)
				if err != nil || done {
					out[i] = BatchResult{Result: res, Err: err}
					switch {
					case err == nil && inBatch(res.Revision):
						owner = append(owner, i) // a key used twice in one batch
					case err != nil && firstWriter >= 0:
						dependent = append(dependent, i)
					}
					continue
				}
			}
			evs, err := c.Decide(ctx, cur)
			if cached && (err != nil || len(evs) == 0) {
				refusedOnCache = true
				break
			}
			if e, ok := recorded(err); ok {
				out[i].Result = replayOf(stream, e)
				if inBatch(e.Revision) {
					owner = append(owner, i)
				}
				continue
			}
			if err != nil {
				out[i].Err = err
				if firstWriter >= 0 {
					dependent = append(dependent, i) // decided on unwritten events
				}
				continue
			}
			if len(evs) == 0 {
				if cur.Exists {
					last := cur.Events[len(cur.Events)-1]
					out[i].Result = Result{Stream: stream, Revision: last.Revision, Position: last.Position, EventIDs: []string{}}
					if inBatch(last.Revision) {
						owner = append(owner, i) // a no-op after the batch's own events
					}
				} else {
					out[i].Result = Result{Stream: stream}
				}
				continue
			}
			d, ids, lastHash, err := h.prepare(c, cur, evs, scope)
			if err != nil {
				out[i].Err = fmt.Errorf("%s: %w", c.Name, err)
				continue
			}
			sz := eventsSize(d)
			if len(data) > 0 && size+sz > bound {
				out[i] = BatchResult{}
				n = i // this command and the rest go in the next append
				break
			}
			size += sz
			writers++
			fixed = fixed || fixedIDs(c, evs)
			if firstWriter < 0 {
				firstWriter = i
			}
			next := uint64(len(d)) - 1
			if cur.Exists {
				next += cur.Revision() + 1
			}
			first := next + 1 - uint64(len(d))
			for k, ev := range d {
				r := h.recordedNow()
				r.Stream, r.ID, r.Type, r.Revision, r.Data, r.Metadata = stream, ev.ID, ev.Type, first+uint64(k), ev.Data, ev.Metadata
				cur.Events = append(cur.Events, r)
			}
			cur.Exists = true
			cur.lastHash = lastHash
			out[i].Result = Result{Stream: stream, Revision: next, EventIDs: ids}
			data = append(data, d...)
			owner = append(owner, i)
		}
		if refusedOnCache {
			// Refusals and no-ops are decided on the store's state only.
			useCache = false
			attempt--
			continue
		}
		if len(data) == 0 {
			return n
		}
		// fail answers every command whose answer depended on the append.
		fail := func(err func(c Command) error) int {
			for _, i := range append(owner, dependent...) {
				out[i] = BatchResult{Err: err(cmds[i])}
			}
			return n
		}
		exp := eventstore.NoStream()
		if hist.Exists {
			exp = eventstore.At(hist.Revision())
		}
		ar, err := h.store.Append(ctx, stream, exp, data...)
		if err == nil && fixed {
			// As in Execute (readback.go): the whole append is read back.
			own, rerr := h.ownAppend(ctx, stream, ar, data)
			if rerr != nil || !own {
				h.cache.drop(stream)
			}
			switch {
			case rerr != nil:
				return fail(func(c Command) error { return errReadBack(c.Name, stream, rerr) })
			case !own && readBack:
				return fail(func(c Command) error { return errNotOwn(c.Name, stream) })
			case !own:
				readBack, useCache = true, false
				attempt--
				continue
			}
		}
		if err == nil {
			for k := len(hist.Events); k < len(cur.Events); k++ {
				cur.Events[k].Position = ar.Position
			}
			h.cache.put(cur)
			for _, i := range owner {
				out[i].Result.Position = ar.Position
			}
			return n
		}
		h.cache.drop(stream)
		if errors.Is(err, errs.InvalidArgument) {
			// The store refused what the append carries (its size): never
			// what several commands carry together.
			if writers > 1 {
				bound = 0
				attempt--
				continue
			}
			// This writer's events alone: it fails as it would alone, and
			// the commands decided after it are decided again without it.
			out[firstWriter] = BatchResult{Err: fmt.Errorf("%s: append %s: %w", cmds[firstWriter].Name, stream, err)}
			return firstWriter + 1
		}
		if errors.Is(err, errs.Conflict) && cached {
			useCache = false
			attempt--
			continue
		}
		if !errors.Is(err, errs.Conflict) || attempt >= h.retries {
			return fail(func(c Command) error { return fmt.Errorf("%s: append %s: %w", c.Name, stream, err) })
		}
		wait := time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 6)))
		select {
		case <-ctx.Done():
			return fail(func(c Command) error {
				return errs.E(errs.DeadlineExceeded, "%s: gave up retrying %s: %v", c.Name, stream, ctx.Err())
			})
		case <-time.After(wait):
		}
	}
}

// eventsSize is what events add to an append, counting their data and
// metadata.
func eventsSize(evs []eventstore.EventData) int {
	n := 0
	for _, e := range evs {
		n += len(e.Data) + len(e.Metadata)
	}
	return n
}
