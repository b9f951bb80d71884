package schema

import (
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/events/policy"
	"github.com/craftledger/craftledger/graphql/readmodel"
)

// The eligibility index answers "eligible for target in trade by D" for
// a population scan without folding anyone's career again. Per policy
// version, trade and target it keeps one column of compact entries, by
// the craftsman's registration index (seq), each the answer at t0, the
// craftsman's last moment (the latest record or occurrence time of their
// events): eligible then, or the earliest date time alone makes them
// eligible. An entry names the number of events it was computed from, a
// number the model knows without decoding anything: a craftsman whose
// ledger grew since is evaluated again (alone), the others are read.
//
// For D ≥ t0 the fold as of D sees the same facts as the fold as of t0
// (everything was recorded and had occurred by t0), so only criteria
// that depend on the instant change, and those only become true with
// time (years of work, years since a level, age) — except training hours
// within a window, which time can undo: a policy with such a criterion
// for the target is never answered from the index. The policy is the one
// in force at D (the entry is computed under it, whatever was in force at
// t0). A candidate the index cannot answer (D before t0, a window) is
// folded as of D and evaluated, as full evaluation does.

// eligIndex holds the columns (at most maxEligCols, the least recently
// used dropped first).
type eligIndex struct {
	mu   sync.Mutex
	cols []*eligCol // least recently used first
}

const maxEligCols = 8

type eligKey struct {
	pol    *policy.Policy // parsed policy versions are kept: the same version is the same pointer
	trade  string
	target events.Level
}

// eligCol is one key's column: 12 bytes per craftsman, no pointers.
type eligCol struct {
	key   eligKey
	mu    sync.Mutex // one query at a time reads and fills the column
	epoch readmodel.Epoch
	ents  []eligEnt // by seq
}

// eligEnt is one craftsman's answer at t0 under the column's policy.
type eligEnt struct {
	n        uint32 // events it was computed from (0: no entry)
	t0       uint32 // t0 in Unix seconds, rounded up (t0 ≤ this)
	earliest int32  // civil day (days since 1970-01-01) from which time alone makes them eligible: eligibleAtT0, neverByTime
}

const (
	eligibleAtT0 = math.MinInt32
	neverByTime  = math.MaxInt32
)

func newEligIndex() *eligIndex { return &eligIndex{} }

// column returns key's column (made when new), locked: the caller unlocks.
func (x *eligIndex) column(key eligKey) *eligCol {
	x.mu.Lock()
	i := slices.IndexFunc(x.cols, func(c *eligCol) bool { return c.key == key })
	var c *eligCol
	if i >= 0 {
		c = x.cols[i]
		x.cols = append(slices.Delete(x.cols, i, i+1), c)
	} else {
		c = &eligCol{key: key}
		if len(x.cols) >= maxEligCols {
			x.cols = slices.Delete(x.cols, 0, 1)
		}
		x.cols = append(x.cols, c)
	}
	x.mu.Unlock()
	c.mu.Lock()
	return c
}

// lastMoment is when a craftsman's ledger last changed in either sense:
// the latest record time, occurrence time or occurrence time of a
// correction's replacement.
func lastMoment(recs []events.Recorded) time.Time {
	var t time.Time
	readmodel.Moments(recs, func(m time.Time) {
		if m.After(t) {
			t = m
		}
	})
	return t
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

// civilDay is the civil day (UTC+8, as the domain counts days) of t, in
// days since 1970-01-01.
func civilDay(t time.Time) int64 { return career.CivilDate(t).Unix() / 86400 }

// eligQuery decides the candidates of one eligibleFor scan.
type eligQuery struct {
	trade  string
	target events.Level
	d      time.Time
	dSec   int64
	dDay   int64
	pol    *policy.Policy // in force at d (nil: none covers it: nobody is eligible)
	col    *eligCol       // nil: no answer is kept (a window, or d out of the index's range)
	tab    *eligLookup    // the entries built ahead (EligEntries), nil: none for this query
	epoch  readmodel.Epoch
	// decided holds this query's answers for candidates the index cannot
	// answer (folded as of d), with the number of events they are of.
	decided map[int]eligDecided
	pending popPendings // candidates met undecided
}

type eligDecided struct {
	n        int
	eligible bool
}

// popPending is a craftsman a scan met and could not answer from what
// it keeps: evaluated between scans (resolve reads its events anew).
type popPending struct {
	seq int
	id  string
}

// admit reports whether a match is an eligible candidate (below the
// target level, and eligible by check).
func (q *eligQuery) admit(part, seq, n int, id string, lvl events.Level) bool {
	if lvl >= q.target {
		return false
	}
	ok, _ := q.check(part, seq, n, id)
	return ok
}

// check answers a candidate (seq, with n events) from the index or this
// query's answers; known is false when neither can, and the candidate is
// noted for resolve.
func (q *eligQuery) check(part, seq, n int, id string) (eligible, known bool) {
	if q.pol == nil {
		return false, true
	}
	if q.col != nil && seq < len(q.col.ents) {
		if e := q.col.ents[seq]; int(e.n) == n && n > 0 && q.dSec >= int64(e.t0) {
			return q.dDay >= int64(e.earliest), true
		}
		if q.tab != nil {
			if e, ok := q.tab.find(seq, n, q.target, q.dSec); ok {
				// Into the column: the next query reads one entry
				// instead of a head and its items.
				q.col.ents[seq] = e // each seq once: no other part writes it
				return q.dDay >= int64(e.earliest), true
			}
		}
	}
	if dd, ok := q.decided[seq]; ok && dd.n == n {
		return dd.eligible, true
	}
	q.pending[part] = append(q.pending[part], popPending{seq: seq, id: id})
	return false, false
}

// reset forgets every answer (the model's craftsmen were replaced).
func (q *eligQuery) reset(epoch readmodel.Epoch) {
	q.epoch = epoch
	q.decided = map[int]eligDecided{}
	if q.tab != nil && q.tab.t.epoch != epoch {
		q.tab = nil
	}
	if q.col != nil {
		q.col.epoch = epoch
		clear(q.col.ents)
	}
}

// recordsOnce is the part of a read model resolve reads (readmodel.Memory).
type recordsOnce interface {
	RecordsOnce(id string) ([]events.Recorded, int)
}

// resolve evaluates the pending candidates (in parallel: the fold and the
// policy engine are pure) into the index, or, when the index cannot
// answer them, into this query's answers; then forgets them.
func (q *eligQuery) resolve(m recordsOnce) {
	todo := q.pending.take()
	if q.col != nil {
		q.col.ents = growFor(q.col.ents, todo)
	}
	workers := runtime.GOMAXPROCS(0)
	type decidedSeq struct {
		seq int
		dd  eligDecided
	}
	found := make([][]decidedSeq, workers)
	stripes(workers, len(todo), func(w int) func(int) {
		return func(i int) {
			p := todo[i]
			recs, n := m.RecordsOnce(p.id)
			if q.col != nil {
				e := q.entry(recs, n)
				q.col.ents[p.seq] = e // each seq once: no other worker writes it
				if e.n > 0 && q.dSec >= int64(e.t0) {
					return // the next scan reads it
				}
			}
			st := career.Fold(recs, q.d, career.AsRecorded)
			res := policy.Evaluate(st, q.pol, q.trade, q.target, q.d)
			found[w] = append(found[w], decidedSeq{p.seq, eligDecided{n: n, eligible: res.Eligible}})
		}
	})
	for _, f := range found {
		for _, x := range f {
			q.decided[x.seq] = x.dd
		}
	}
}

// entry computes a craftsman's entry under the column's policy (n = 0:
// not representable, never read).
func (q *eligQuery) entry(recs []events.Recorded, n int) eligEnt {
	t0, sec, ok := entryTime(recs, n)
	if !ok {
		return eligEnt{}
	}
	st := career.Fold(recs, t0, career.AsRecorded)
	return entryOf(policy.EvaluateBrief(st, q.pol, q.trade, q.target, t0), n, sec)
}

// entryTime is the instant an entry of a craftsman with events recs (n
// of them) is computed at, their last moment t0, and t0 in Unix seconds
// rounded up; ok is false when an entry cannot hold them.
func entryTime(recs []events.Recorded, n int) (t0 time.Time, sec int64, ok bool) {
	t0 = lastMoment(recs)
	sec = t0.Unix()
	if t0.Nanosecond() > 0 {
		sec++
	}
	return t0, sec, n > 0 && n <= math.MaxUint32 && sec >= 0 && sec <= math.MaxUint32
}

// entryOf is the entry of the answer res at t0 (sec: entryTime's) of a
// craftsman with n events (n = 0: not representable, never read).
// EvaluateBrief's Eligible and EarliestDate are Evaluate's.
func entryOf(res policy.Result, n int, sec int64) eligEnt {
	e := eligEnt{n: uint32(n), t0: uint32(sec), earliest: neverByTime}
	switch {
	case res.Eligible:
		e.earliest = eligibleAtT0
	case res.EarliestDate != nil:
		// Eligible by d when earliest ≤ d's civil date (at midnight):
		// from the first civil day not before earliest.
		ed := *res.EarliestDate
		day := ed.Unix() / 86400
		if ed.After(time.Unix(day*86400, 0)) {
			day++
		}
		if day <= eligibleAtT0 || day >= neverByTime {
			return eligEnt{}
		}
		e.earliest = int32(day)
	}
	return e
}

// eligQueryFor prepares f's eligibility decisions (f.eligibleFor set, live)
// for scans in parts over a model whose craftsmen are at epoch; release
// unlocks the column.
func (b *builder) eligQueryFor(f *populationFilter, epoch readmodel.Epoch, parts int) (q *eligQuery, release func(), err error) {
	set, err := b.eligSet(f) // live: f.asOf is zero here
	if err != nil {
		return nil, nil, err
	}
	d := f.eligibleBy
	q = &eligQuery{trade: f.trade, target: *f.eligibleFor, d: d, dSec: d.Unix(), dDay: civilDay(d),
		epoch: epoch, decided: map[int]eligDecided{}, pending: make(popPendings, parts)}
	release = func() {}
	pol, _, ok := pick(set, f.policies, f.trade, q.target, d)
	if !ok {
		return q, release, nil
	}
	q.pol = pol
	if hasWindow(pol, q.target) || q.dSec < 0 || q.dSec > math.MaxUint32 {
		return q, release, nil
	}
	q.tab = b.d.Elig.lookup(pol, f.trade, epoch)
	q.col = b.elig.column(eligKey{pol: pol, trade: f.trade, target: q.target})
	if q.col.epoch != epoch {
		q.reset(epoch)
	}
	if q.tab != nil {
		if n := len(q.tab.t.head) - 1; n > len(q.col.ents) {
			q.col.ents = slices.Grow(q.col.ents, n-len(q.col.ents))[:n] // never shrunk: past len is zero
		}
	}
	return q, q.col.mu.Unlock, nil
}

// eligSet is the policy set f's eligibleFor answer is judged under: the
// versions recorded by f.asOf (every one, live), built once per query (f
// is the query's own) and shared by the scan, the candidates it evaluates
// in full and the members' lazy answers (eligAnswers).
func (b *builder) eligSet(f *populationFilter) (*policy.Set, error) {
	if f.set == nil {
		set, err := b.knownPolicySet(f.asOf, f.policies)
		if err != nil {
			return nil, err
		}
		f.set = set
	}
	return f.set, nil
}

// eligAnswers gives, for a member of an eligibleFor answer, computed when
// asked (only the page returned is): its explained answer (explain: the
// member's events recorded by asOf folded and evaluated at eligibleBy) and
// when it becomes eligible (from: the same evaluated at the query's
// moment, asOf or now).
func (b *builder) eligAnswers(f *populationFilter) (explain func(id string) func() *policy.Result, from func(id string) func() eligibleFrom, err error) {
	set, err := b.eligSet(f)
	if err != nil {
		return nil, nil, err
	}
	moment := f.asOf
	if moment.IsZero() {
		moment = b.d.Now().UTC()
	}
	target, by := *f.eligibleFor, f.eligibleBy
	at := func(id string, t time.Time) (policy.Result, bool) {
		st := career.Fold(readmodel.RecordedBy(b.d.Model.Records(id), f.asOf, time.Time{}), t, career.AsRecorded)
		return evaluate(st, set, f.policies, f.trade, target, t)
	}
	explain = func(id string) func() *policy.Result {
		return func() *policy.Result {
			if res, ok := at(id, by); ok {
				return &res
			}
			return nil
		}
	}
	from = func(id string) func() eligibleFrom {
		return func() eligibleFrom {
			res, ok := at(id, moment)
			switch {
			case ok && res.Eligible:
				return eligibleFrom{now: true, date: moment}
			case ok && res.EarliestDate != nil && !res.EarliestDate.After(career.CivilDate(by)):
				// EarliestDate is a civil date (UTC midnight of China's
				// date); by an instant, compared by its China date.
				return eligibleFrom{date: res.EarliestDate.UTC()}
			}
			return eligibleFrom{date: by}
		}
	}
	return explain, from, nil
}
