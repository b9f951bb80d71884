package schema

import (
	"strings"
	"sync"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/events/policy"
)

// eligIndex remembers, per craftsman, the eligibility answer at the moment
// of their last event (t0): eligible then, or the earliest date time alone
// makes them eligible. Without new events, and under a policy version that
// stays in force and has only criteria that time cannot undo (no training
// window), "eligible by D" for D ≥ t0 follows from it without folding the
// career again. Entries are dropped when the craftsman's ledger or the
// policy set changes.
type eligIndex struct {
	mu sync.Mutex
	m  map[string]*eligEntry
}

type eligEntry struct {
	n    int // records the entry was computed from
	gen  int // policy set generation
	t0   time.Time
	byTT map[string]eligAt // trade|target|policy names
}

type eligAt struct {
	ok       bool // a policy answered
	eligible bool
	earliest *time.Time
	pol      *policy.Policy
}

func newEligIndex() *eligIndex { return &eligIndex{m: map[string]*eligEntry{}} }

// lastMoment is when a craftsman's ledger last changed in either sense.
func lastMoment(recs []events.Recorded) time.Time {
	var t time.Time
	for _, r := range recs {
		if r.RecordedAt.After(t) {
			t = r.RecordedAt
		}
		if r.Meta.OccurredAt.After(t) {
			t = r.Meta.OccurredAt
		}
	}
	return t
}

// lookup returns the cached answer for (trade, target, names) or computes it.
func (x *eligIndex) lookup(id string, recs []events.Recorded, gen int, set *policy.Set, names []string, trade string, target events.Level) (eligAt, time.Time) {
	key := trade + "|" + target.String() + "|" + strings.Join(names, ",")
	x.mu.Lock()
	e := x.m[id]
	if e != nil && e.n == len(recs) && e.gen == gen {
		if at, ok := e.byTT[key]; ok {
			x.mu.Unlock()
			return at, e.t0
		}
	}
	x.mu.Unlock()
	t0 := lastMoment(recs)
	st := career.Fold(recs, t0, career.AsRecorded)
	var at eligAt
	if res, pol, ok := evaluateWith(st, set, names, trade, target, t0); ok {
		at = eligAt{ok: true, eligible: res.Eligible, earliest: res.EarliestDate, pol: pol}
	}
	x.mu.Lock()
	if e == nil || e.n != len(recs) || e.gen != gen {
		e = &eligEntry{n: len(recs), gen: gen, t0: t0, byTT: map[string]eligAt{}}
		x.m[id] = e
	}
	e.byTT[key] = at
	x.mu.Unlock()
	return at, t0
}

// decide answers "eligible by d" from the index when it can; known is
// false when only a full evaluation can tell.
func (at eligAt) decide(t0, d time.Time, set *policy.Set, trade string, target events.Level, names []string) (eligible, known bool) {
	if d.Before(t0) {
		return false, false
	}
	if !at.ok {
		// No policy covered it at t0; one may by d.
		return false, false
	}
	if p, _, ok := pick(set, names, trade, target, d); !ok || p != at.pol || hasWindow(p, target) {
		return false, false
	}
	if at.eligible {
		return true, true
	}
	// Earliest dates are civil dates (UTC+8) shown as UTC midnight.
	return at.earliest != nil && !at.earliest.After(career.CivilDate(d)), true
}

// hasWindow reports whether the rule for target has a criterion that the
// mere passing of time can make false (training hours within a window).
func hasWindow(p *policy.Policy, target events.Level) bool {
	rule, ok := p.Rule(target)
	if !ok {
		return false
	}
	var walk func(cs []policy.Criterion) bool
	walk = func(cs []policy.Criterion) bool {
		for _, c := range cs {
			if c.WithinYears > 0 || walk(c.Of) {
				return true
			}
		}
		return false
	}
	for _, r := range rule.Routes {
		if walk(r.Criteria) {
			return true
		}
	}
	return false
}
