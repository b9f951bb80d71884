// Package readmodel holds craftledger's read models: what the projector
// builds from the event log and what the GraphQL schema reads.
//
// The port is small on purpose (Writer for the projector, Reader for the
// schema) so that a deployment too big for one machine's memory can keep
// the same models in PostgreSQL; the implementation here is Memory, the
// embedded default: every ledger event kept once, decoded once, indexed by
// stream and by position, plus the derived per-craftsman state that
// population queries scan. A snapshot of Memory (WriteSnapshot /
// LoadSnapshot) lets a restart skip the replay.
package readmodel

import (
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// Prefixes are the stream-name prefixes of the ledger's streams; the
// projector subscribes to $all filtered server-side to these. Each call
// returns a fresh slice, so no caller can change another's filter.
func Prefixes() []string {
	return []string{"craftsman-", "academy-", "competition-", "mentorship-", "policy-"}
}

// Writer is what the projector needs from a read model.
type Writer interface {
	// Apply applies events (in $all order, all after the current checkpoint)
	// and moves the checkpoint to cp, atomically: a reader sees either none
	// or all of it. An event whose stream revision does not follow the last
	// applied one of its stream is a gap: Apply fails with
	// errs.FailedPrecondition and applies nothing.
	Apply(batch []eventstore.RecordedEvent, cp eventstore.Position) error
	// Checkpoint is the position of the last event (or server checkpoint)
	// applied; ok is false before anything was applied.
	Checkpoint() (cp eventstore.Position, ok bool)
}

// LogPage is a page of raw events in $all order.
type LogPage struct {
	Events  []eventstore.RecordedEvent
	HasMore bool
	// Total is the number of events matching the request (before paging).
	Total int
}

// LogQuery selects raw events for the audit view.
type LogQuery struct {
	Stream string // "" = every ledger stream
	Prefix string // stream-name prefix ("craftsman-"); ignored when Stream is set
	// After is an exclusive lower bound on the position; nil = from the start.
	After *eventstore.Position
	// RecordedBy keeps only events recorded at or before it (zero = all).
	RecordedBy time.Time
	Limit      int
	// CountTotal asks for LogPage.Total.
	CountTotal bool
}

// rawLog is every applied event in $all order with a per-stream index.
type rawLog struct {
	all     []eventstore.RecordedEvent
	streams map[string][]int32 // stream -> indexes into all, by revision
	// Corrections (EventCorrected) link two events: correction index ->
	// the superseded event's id, and superseded id -> the latest
	// correction's index. Few events are corrections; these stay small.
	supersedes   map[int32]string
	supersededBy map[string]int32
}

func newRawLog() rawLog {
	return rawLog{streams: map[string][]int32{}, supersedes: map[int32]string{}, supersededBy: map[string]int32{}}
}

// check verifies that batch continues every stream without a gap and that
// positions only grow; it returns the indexes of the events that are new
// (duplicates of already applied events are dropped).
func (l *rawLog) check(batch []eventstore.RecordedEvent, cp *eventstore.Position) ([]int, error) {
	next := map[string]uint64{}
	var last eventstore.Position
	if cp != nil {
		last = *cp
	}
	fresh := make([]int, 0, len(batch))
	for i, ev := range batch {
		if cp != nil && !last.Less(ev.Position) {
			if i == 0 || len(fresh) == 0 {
				continue // already applied: a resubscription replayed it
			}
			return nil, errs.E(errs.FailedPrecondition, "projection: position %d/%d of %s is not after %d/%d", ev.Position.Commit, ev.Position.Prepare, ev.Stream, last.Commit, last.Prepare)
		}
		want, seen := next[ev.Stream]
		if !seen {
			want = uint64(len(l.streams[ev.Stream]))
			if idx := l.streams[ev.Stream]; len(idx) > 0 {
				want = l.all[idx[len(idx)-1]].Revision + 1
			}
		}
		if ev.Revision < want {
			continue // duplicate of an applied revision
		}
		if ev.Revision != want {
			return nil, errs.E(errs.FailedPrecondition, "projection: gap in %s: expected revision %d, got %d at %d/%d", ev.Stream, want, ev.Revision, ev.Position.Commit, ev.Position.Prepare)
		}
		next[ev.Stream] = want + 1
		last = ev.Position
		cp = &last
		fresh = append(fresh, i)
	}
	return fresh, nil
}

func (l *rawLog) add(ev eventstore.RecordedEvent) {
	idx := int32(len(l.all))
	l.streams[ev.Stream] = append(l.streams[ev.Stream], idx)
	l.all = append(l.all, ev)
	if events.CurrentType(ev.Type) == events.TypeEventCorrected {
		var c struct {
			Supersedes string `json:"supersedesEventId"`
		}
		if json.Unmarshal(ev.Data, &c) == nil && c.Supersedes != "" {
			l.supersedes[idx] = c.Supersedes
			l.supersededBy[c.Supersedes] = idx
		}
	}
}

// EventRef locates one event of the log.
type EventRef struct {
	ID       string
	Stream   string
	Revision uint64
	Position eventstore.Position
	Created  time.Time
	// Found is false when only the id is known (the superseded event is
	// not in the correction's stream, or not projected).
	Found bool
}

func refOf(ev *eventstore.RecordedEvent) EventRef {
	return EventRef{ID: ev.ID, Stream: ev.Stream, Revision: ev.Revision, Position: ev.Position, Created: ev.Created, Found: true}
}

// corrections answers what the event at (stream, revision) supersedes
// and what superseded it.
func (l *rawLog) corrections(stream string, revision uint64) (supersedes, supersededBy *EventRef) {
	idxs := l.streams[stream]
	if len(idxs) == 0 {
		return nil, nil
	}
	first := l.all[idxs[0]].Revision
	if revision < first || revision-first >= uint64(len(idxs)) {
		return nil, nil
	}
	idx := idxs[revision-first]
	ev := &l.all[idx]
	if target, ok := l.supersedes[idx]; ok {
		ref := EventRef{ID: target}
		// A correction is recorded in the stream of the event it corrects.
		for i := len(idxs) - 1; i >= 0; i-- {
			if t := &l.all[idxs[i]]; t.ID == target {
				ref = refOf(t)
				break
			}
		}
		supersedes = &ref
	}
	if by, ok := l.supersededBy[ev.ID]; ok {
		ref := refOf(&l.all[by])
		supersededBy = &ref
	}
	return supersedes, supersededBy
}

// stream returns the events of one stream in revision order.
func (l *rawLog) stream(name string) []eventstore.RecordedEvent {
	idx := l.streams[name]
	out := make([]eventstore.RecordedEvent, len(idx))
	for i, j := range idx {
		out[i] = l.all[j]
	}
	return out
}

// page answers a LogQuery. Total is counted only when q.CountTotal is set
// (it costs a scan of everything that matches).
func (l *rawLog) page(q LogQuery) LogPage {
	keep := func(ev *eventstore.RecordedEvent) bool {
		if !q.RecordedBy.IsZero() && ev.Created.After(q.RecordedBy) {
			return false
		}
		if q.Stream == "" && q.Prefix != "" && !strings.HasPrefix(ev.Stream, q.Prefix) {
			return false
		}
		return true
	}
	var out LogPage
	// visit returns false to stop early.
	visit := func(ev *eventstore.RecordedEvent) bool {
		if !keep(ev) {
			return true
		}
		inPage := q.After == nil || q.After.Less(ev.Position)
		if inPage {
			if len(out.Events) < q.Limit {
				out.Events = append(out.Events, *ev)
			} else {
				out.HasMore = true
			}
		}
		if q.CountTotal {
			out.Total++
			return true
		}
		return !out.HasMore
	}
	if q.Stream != "" {
		for _, j := range l.streams[q.Stream] {
			if !visit(&l.all[j]) {
				break
			}
		}
		return out
	}
	start := 0
	if q.After != nil && !q.CountTotal {
		after := *q.After
		start = sort.Search(len(l.all), func(i int) bool { return after.Less(l.all[i].Position) })
	}
	for i := start; i < len(l.all); i++ {
		if !visit(&l.all[i]) {
			break
		}
	}
	return out
}
