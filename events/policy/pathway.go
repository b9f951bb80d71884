package policy

import (
	"slices"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
)

// Pathway is a worker's career pathway in one trade: the levels reached
// with dates and evidence, and for each level above what is still missing.
type Pathway struct {
	CraftsmanID string       `json:"craftsmanId"`
	Trade       string       `json:"trade"`
	TradeName   string       `json:"tradeName,omitempty"`
	At          time.Time    `json:"at"`
	Level       events.Level `json:"level"`
	YearsOfWork float64      `json:"yearsOfWork"`
	// Reached is the levels reached in the trade, lowest first: the
	// state's own list, shared with it — read-only (never sort or modify
	// it in place; an append copies).
	Reached []career.LevelHeld `json:"reached"`
	// Next answers each level above the current one, nearest first, under
	// the first named policy (in force at At) that covers the trade and
	// has routes to that level.
	Next []Result `json:"next"`
}

// PathwayFor builds the pathway of one trade. names are policy names in
// order of preference (e.g. a standard's template, then the enterprise's
// upper-grade policy); set picks each one's version in force at at. With
// no names, each level is answered by set.ForTrade.
func PathwayFor(s *career.State, set *Set, names []string, trade string, at time.Time) Pathway {
	return pathwayFor(s, set, names, trade, at, false)
}

// PathwayBrief is PathwayFor with each next level answered by
// EvaluateBrief (no route lists its criteria); every other field is
// PathwayFor's.
func PathwayBrief(s *career.State, set *Set, names []string, trade string, at time.Time) Pathway {
	return pathwayFor(s, set, names, trade, at, true)
}

func pathwayFor(s *career.State, set *Set, names []string, trade string, at time.Time, brief bool) Pathway {
	at = at.UTC()
	level := s.Level(trade)
	// Room for every level above: Result is large, so growing by doubling
	// would copy and discard it.
	pw := Pathway{CraftsmanID: s.CraftsmanID, Trade: trade, At: at, Level: level, Reached: []career.LevelHeld{},
		Next: make([]Result, 0, max(0, int(events.ChiefTechnician)-int(level)))}
	if t, ok := s.Trades[trade]; ok {
		pw.TradeName, pw.YearsOfWork = t.Name, t.YearsOfWork
		if len(t.Levels) > 0 {
			// The state's own list, read-only like the state (clipped: an
			// append copies).
			pw.Reached = slices.Clip(t.Levels)
		}
	}
	for target := pw.Level + 1; target <= events.ChiefTechnician; target++ {
		if len(names) == 0 {
			if p, ok := set.ForTrade(trade, target, at); ok {
				pw.Next = append(pw.Next, evaluate(s, p, trade, target, at, brief))
			}
			continue
		}
		for _, n := range names {
			p, ok := set.At(n, at)
			if !ok || !p.Covers(trade) {
				continue
			}
			if _, ok := p.Rule(target); !ok {
				continue
			}
			pw.Next = append(pw.Next, evaluate(s, p, trade, target, at, brief))
			break
		}
	}
	return pw
}

// Pathways builds the pathway of every trade in the state, by occupation code.
func Pathways(s *career.State, set *Set, names []string, at time.Time) []Pathway {
	codes := make([]string, 0, len(s.Trades))
	for c := range s.Trades {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	out := make([]Pathway, 0, len(codes))
	for _, c := range codes {
		out = append(out, PathwayFor(s, set, names, c, at))
	}
	return out
}
