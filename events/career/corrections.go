package career

import (
	"slices"

	"github.com/craftledger/craftledger/events"
)

// Decision is how the corrections among a craftsman's events decide one
// event they supersede: By is the correction in force, Replacement what
// takes the event's place (nil, or without a payload: the event is
// retracted).
type Decision struct {
	By          *events.Recorded
	Replacement *events.Replacement
}

// Retracted reports whether the event is left out without a replacement.
func (d Decision) Retracted() bool { return d.Replacement == nil || d.Replacement.Payload == nil }

// foreignReplacement reports whether ec replaces the fact it supersedes
// (followed back through corrections) with a fact of another type
// (events.ForeignReplacement, the rule the services read their streams
// with): such a correction decides nothing — it neither replaces nor
// retracts its target, nor cancels a correction it supersedes. A target
// not among the events (or not decoded) is not checked.
func foreignReplacement(byID map[string]*events.Recorded, ec events.EventCorrected) bool {
	r := ec.Replacement
	if r == nil || r.Payload == nil {
		return false
	}
	return events.ForeignReplacement(r.Payload.EventType(), ec.SupersedesEventID, func(id string) (string, string, bool) {
		t, ok := byID[id]
		if !ok || t.Payload == nil {
			return "", "", false
		}
		if tc, isCorr := t.Payload.(events.EventCorrected); isCorr {
			return events.TypeEventCorrected, tc.SupersedesEventID, true
		}
		return t.Payload.EventType(), "", true
	})
}

// Decisions are the domain's correction rule applied to a set of events
// (Decide): the rule Fold applies.
type Decisions struct {
	// Of maps a superseded event's id to the decision in force for it:
	// the latest correction recorded decides its target (one replacing
	// its fact with a fact of another type decides nothing:
	// foreignReplacement); correcting a
	// correction cancels it, and a replacement then applies to what that
	// correction targeted. An event not in Of stands as recorded.
	Of map[string]Decision
	// CancelledBy maps a correction's id to the later correction in
	// force that cancelled it (a cancelled correction decides nothing).
	CancelledBy map[string]*events.Recorded
	// notes are the corrections, in record order (Fold's State.Corrections).
	notes []Correction
}

// Decide applies the domain's correction rule to evs (a craftsman's
// events in any order, each of them visible): the same decisions Fold
// takes, for readers that list the facts in force themselves. Nil maps
// when there is no correction.
func Decide(evs []events.Recorded) Decisions {
	return decide(evs, func(*events.Recorded) bool { return true })
}

// decide is Decide over the events visible says a fold sees.
func decide(evs []events.Recorded, visible func(e *events.Recorded) bool) Decisions {
	var out Decisions
	// Corrections, latest recorded first: a live correction decides its
	// target; a live retraction of a correction reverses it.
	var corrs []*events.Recorded
	for i := range evs {
		if e := &evs[i]; visible(e) {
			if _, ok := e.Payload.(events.EventCorrected); ok {
				corrs = append(corrs, e)
			}
		}
	}
	if len(corrs) == 0 {
		return out
	}
	// The visible events by id (the last of an id wins): what a
	// correction targets.
	byID := make(map[string]*events.Recorded, len(evs))
	for i := range evs {
		if e := &evs[i]; visible(e) && e.ID != "" {
			byID[e.ID] = e
		}
	}
	slices.SortStableFunc(corrs, func(a, b *events.Recorded) int { return -cmpRecorded(a, b) })
	out.Of = map[string]Decision{}
	out.CancelledBy = map[string]*events.Recorded{}
	for _, c := range corrs {
		ec := c.Payload.(events.EventCorrected)
		note := Correction{Ref: c.Ref(), SupersedesEventID: ec.SupersedesEventID, Reason: ec.Reason,
			Retraction: ec.Replacement == nil, Recorded: c.RecordedAt.UTC()}
		if _, cancelled := out.CancelledBy[c.ID]; cancelled {
			note.Reversed = true
			out.notes = append(out.notes, note)
			continue
		}
		out.notes = append(out.notes, note)
		if foreignReplacement(byID, ec) {
			continue
		}
		target := ec.SupersedesEventID
		// Correcting a correction cancels it; a replacement then
		// applies to what that correction targeted.
		for depth := 0; depth < 64; depth++ {
			t, ok := byID[target]
			if !ok {
				break
			}
			tc, isCorr := t.Payload.(events.EventCorrected)
			if !isCorr {
				break
			}
			if _, done := out.CancelledBy[target]; !done {
				out.CancelledBy[target] = c
			}
			if ec.Replacement == nil {
				target = ""
				break
			}
			target = tc.SupersedesEventID
		}
		if target == "" {
			continue
		}
		if _, done := out.Of[target]; !done {
			out.Of[target] = Decision{By: c, Replacement: ec.Replacement}
		}
	}
	slices.Reverse(out.notes)
	return out
}
