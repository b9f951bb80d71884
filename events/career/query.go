package career

import (
	"math"
	"slices"
	"time"

	"github.com/craftledger/craftledger/events"
)

// DaysPerYear converts accumulated days of work to years for display.
const DaysPerYear = 365.25

// RequiredDays is the number of days of work that make n years when no
// anchor date is known: floor(n × 365.25).
func RequiredDays(n float64) int { return int(math.Floor(n * DaysPerYear)) }

// RequiredDaysFrom is the number of days of work that make n years counted
// from anchor: the days from anchor to the same calendar date n years
// later (fractions of a year as whole months), both civil dates (China:
// an anchor of 00:00 China time, 16:00 UTC the day before, counts from its
// China date). Continuous work thus qualifies exactly on the anniversary;
// every day of gap postpones it a day. A zero anchor falls back to
// RequiredDays.
func RequiredDaysFrom(anchor time.Time, n float64) int {
	if anchor.IsZero() {
		return RequiredDays(n)
	}
	a := CivilDate(anchor)
	return int(day(YearsLater(a, n)) - day(a))
}

// YearsLater is the civil date n years after the civil date of t (n < 0:
// before), fractions of a year as whole months, as UTC midnight of that
// date: the same calendar date (a date the month lacks rolls over, as
// time.AddDate does).
func YearsLater(t time.Time, n float64) time.Time {
	whole := int(n)
	months := int(math.Round((n - float64(whole)) * 12))
	return CivilDate(t).AddDate(whole, months, 0)
}

// WorkAnchor is the first day of employment in any of trades (zero if none).
func (s *State) WorkAnchor(trades []string) time.Time {
	var first time.Time
	for _, e := range s.Employments {
		if slices.Contains(trades, e.Trade) && (first.IsZero() || e.Start.Before(first)) {
			first = e.Start
		}
	}
	return first
}

// CivilOffset is the offset of the ledger's calendar, China Standard Time
// (UTC+8), in seconds: the date of a fact is its date there, so an
// occurredAt sent as local midnight (2020-01-01T00:00+08:00) and one sent as
// UTC midnight (2020-01-01T00:00Z) fall on the same day. Days of work, ages
// and earliest dates are counted in these civil days.
const CivilOffset = 8 * 3600

func day(t time.Time) int64 {
	return int64(math.Floor(float64(t.Unix()+CivilOffset) / 86400))
}

// dayTime is a civil day as UTC midnight of its date (how dates are shown).
func dayTime(d int64) time.Time { return time.Unix(d*86400, 0).UTC() }

// CivilDate returns the date of t in the ledger's calendar (UTC+8) as UTC
// midnight of that date.
func CivilDate(t time.Time) time.Time { return dayTime(day(t)) }

// BeforeDay reports whether t falls on an earlier day than ref in the
// ledger's calendar: a fact at 07:00 China time (23:00 UTC the day
// before) is on the same day as one dated that day's midnight UTC.
func BeforeDay(t, ref time.Time) bool { return day(t) < day(ref) }

// EndOfDay is the last instant (nanosecond) of t's day in the ledger's
// calendar, in UTC: what a date means as the end of a period (an as-of
// date, the day a fact may still be dated on).
func EndOfDay(t time.Time) time.Time {
	return time.Unix((day(t)+1)*86400-CivilOffset, 0).UTC().Add(-time.Nanosecond)
}

// CivilDay is the date of t in the ledger's calendar as text (YYYY-MM-DD),
// as messages about dates show it.
func CivilDay(t time.Time) string { return CivilDate(t).Format(time.DateOnly) }

// Interval is a half-open day range [From, To).
type interval struct{ from, to int64 }

// workIntervals returns the merged employment day-intervals in the trades,
// clipped to [since, at).
func (s *State) workIntervals(trades []string, since, at time.Time) []interval {
	lo, hi := int64(math.MinInt64), day(at)
	if !since.IsZero() {
		lo = day(since)
	}
	var iv []interval
	for _, e := range s.Employments {
		if !slices.Contains(trades, e.Trade) {
			continue
		}
		from, to := day(e.Start), hi
		if !e.End.IsZero() && day(e.End) < to {
			to = day(e.End)
		}
		from = max(from, lo)
		if to > from {
			iv = append(iv, interval{from, to})
		}
	}
	slices.SortFunc(iv, func(a, b interval) int {
		switch {
		case a.from < b.from:
			return -1
		case a.from > b.from:
			return 1
		}
		return 0
	})
	out := iv[:0]
	for _, x := range iv {
		if n := len(out); n > 0 && x.from <= out[n-1].to {
			out[n-1].to = max(out[n-1].to, x.to)
			continue
		}
		out = append(out, x)
	}
	return out
}

// WorkDays is the number of days worked in any of trades within [since,
// at); overlapping employments count once, gaps not at all. A zero since
// means from the start.
func (s *State) WorkDays(trades []string, since, at time.Time) int {
	n := int64(0)
	for _, x := range s.workIntervals(trades, since, at) {
		n += x.to - x.from
	}
	return int(n)
}

// WorkYears is WorkDays in years.
func (s *State) WorkYears(trades []string, since, at time.Time) float64 {
	return float64(s.WorkDays(trades, since, at)) / DaysPerYear
}

// WorkingAt reports whether an employment in one of trades is open at at.
func (s *State) WorkingAt(trades []string, at time.Time) bool {
	for _, e := range s.Employments {
		if slices.Contains(trades, e.Trade) && !e.Start.After(at) && (e.End.IsZero() || e.End.After(at)) {
			return true
		}
	}
	return false
}

// WorkEvidence returns the evidence of the employments in trades.
func (s *State) WorkEvidence(trades []string) []events.Ref {
	var out []events.Ref
	for _, e := range s.Employments {
		if slices.Contains(trades, e.Trade) {
			out = append(out, e.Ref)
		}
	}
	return out
}

// DateWhenWorked returns the first date on which the days worked in trades
// since since reach days, assuming the employment open at at continues;
// ok is false if it will not (no open employment).
func (s *State) DateWhenWorked(trades []string, since, at time.Time, days int) (time.Time, bool) {
	have := s.WorkDays(trades, since, at)
	if have >= days {
		return at, true
	}
	if !s.WorkingAt(trades, at) {
		return time.Time{}, false
	}
	return dayTime(day(at) + int64(days-have)), true
}

// TrainingHours sums passed training hours in trades within the civil
// dates [from, to], both included (zero from: no lower bound), in modes
// (empty: any), with evidence.
func (s *State) TrainingHours(trades []string, modes []string, from, to time.Time) (float64, []events.Ref) {
	lo, hi := day(from), day(to)
	var h float64
	var refs []events.Ref
	for _, t := range s.Training {
		if !t.Passed || !slices.Contains(trades, t.Trade) || (len(modes) > 0 && !slices.Contains(modes, t.Mode)) {
			continue
		}
		if d := day(t.Date); (!from.IsZero() && d < lo) || d > hi {
			continue
		}
		h += t.Hours
		refs = append(refs, t.Ref)
	}
	return h, refs
}

// HighestLevel returns the highest level held in any of trades and its record.
func (s *State) HighestLevel(trades []string) (LevelHeld, bool) {
	var best LevelHeld
	found := false
	for _, code := range trades {
		t, ok := s.Trades[code]
		if !ok {
			continue
		}
		for _, l := range t.Levels {
			if !found || l.Level > best.Level || (l.Level == best.Level && l.Since.Before(best.Since)) {
				best, found = l, true
			}
		}
	}
	return best, found
}

// LevelSince returns the earliest date a level of at least l was reached
// in any of trades (the certificate "since" which years count).
func (s *State) LevelSince(trades []string, l events.Level) (LevelHeld, bool) {
	var best LevelHeld
	found := false
	for _, code := range trades {
		t, ok := s.Trades[code]
		if !ok {
			continue
		}
		for _, h := range t.Levels {
			if h.Level >= l && (!found || h.Since.Before(best.Since)) {
				best, found = h, true
			}
		}
	}
	return best, found
}

// ActiveHonours returns the honours not withdrawn.
func (s *State) ActiveHonours() []Honour {
	var out []Honour
	for _, h := range s.Honours {
		if !h.Withdrawn {
			out = append(out, h)
		}
	}
	return out
}

// Level returns the level held in a trade (apprentice when none).
func (s *State) Level(trade string) events.Level {
	if t, ok := s.Trades[trade]; ok {
		return t.Level
	}
	return events.Apprentice
}

// Work is the merged employment of a worker in a set of trades up to an
// instant, computed once and queried many times (eligibility does).
type Work struct {
	iv       []interval
	at       int64
	open     bool
	anchor   time.Time
	evidence []events.Ref
}

// Work merges the employments in trades up to at.
func (s *State) Work(trades []string, at time.Time) *Work {
	w := &Work{iv: s.workIntervals(trades, time.Time{}, at), at: day(at), open: s.WorkingAt(trades, at), anchor: s.WorkAnchor(trades)}
	w.evidence = s.WorkEvidence(trades)
	return w
}

// Days is the number of days worked since since (zero: from the start).
func (w *Work) Days(since time.Time) int {
	lo := int64(math.MinInt64)
	if !since.IsZero() {
		lo = day(since)
	}
	n := int64(0)
	for _, x := range w.iv {
		if f := max(x.from, lo); x.to > f {
			n += x.to - f
		}
	}
	return int(n)
}

// Anchor is the first day of work (zero if none).
func (w *Work) Anchor() time.Time { return w.anchor }

// Evidence is the employments' evidence.
func (w *Work) Evidence() []events.Ref { return w.evidence }

// DateWhen is the first date on which the days worked since since reach
// days, if the employment open at the instant continues; ok is false when
// none is open (time alone will not do it).
func (w *Work) DateWhen(since time.Time, days int) (time.Time, bool) {
	have := w.Days(since)
	if have >= days {
		return dayTime(w.at), true
	}
	if !w.open {
		return time.Time{}, false
	}
	return dayTime(w.at + int64(days-have)), true
}
