package servicekit

import (
	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// RecordedAgainID is the id a fact recorded under id takes when it is
// recorded again after a correction retracted it: the next link of the
// fact's chain of ids. Derived, so that a retry of the new recording finds
// it (a replay) as the first recording's retry found that.
func RecordedAgainID(id string) string {
	return events.DeterministicID("fact recorded again", id)
}

// Retraction reports whether an event (the link-th of its fact's chain of
// ids, from 0) is retracted.
type Retraction func(link int, id string) (bool, error)

// FactOnStream looks for the fact whose first id is id on h, following its
// chain of ids (RecordedAgainID) past every recording that retracted says
// is retracted: it returns the recording in force (found, with its link
// and id) or, when there is none, the link and id a new recording takes.
// A fact recorded, retracted by a correction, then sent again is thus
// recorded again rather than answered as a replay of the retracted
// recording; the same rule as a correction sent again after its reversal
// (Corrector: command.InForce). A recording a correction replaced stays
// in force: the request finds it.
func FactOnStream(h command.History, id string, retracted Retraction) (link int, next string, found *eventstore.RecordedEvent, err error) {
	byID := func(id string) *eventstore.RecordedEvent {
		for i := range h.Events {
			if h.Events[i].ID == id {
				return &h.Events[i]
			}
		}
		return nil
	}
	for link = 0; link <= len(h.Events); link++ {
		e := byID(id)
		if e == nil {
			return link, id, nil, nil
		}
		gone, err := retracted(link, id)
		if err != nil {
			return 0, "", nil, err
		}
		if !gone {
			return link, id, e, nil
		}
		id = RecordedAgainID(id)
	}
	return link, id, nil, nil
}

// RetractedOn is the Retraction of h's own corrections: an event of h
// that h's corrections (events.TypeEventCorrected, as command.Corrected
// decides them: the latest correction of an event decides it, a reversed
// correction does not count) retract. It folds h's corrections once, on
// its first question, and not at all when h holds none.
func RetractedOn(h command.History) Retraction {
	folded := false
	var kept map[string]bool // nil: h holds no correction
	return func(_ int, id string) (bool, error) {
		if !folded {
			for i := range h.Events {
				if h.Events[i].Type != events.TypeEventCorrected {
					continue
				}
				evs, err := command.Corrected(h, events.TypeEventCorrected)
				if err != nil {
					return false, err
				}
				kept = make(map[string]bool, len(evs))
				for _, e := range evs {
					kept[e.ID] = true
				}
				break
			}
			folded = true
		}
		if kept == nil || kept[id] {
			return false, nil
		}
		for i := range h.Events {
			if h.Events[i].ID == id {
				return h.Events[i].Type != events.TypeEventCorrected, nil
			}
		}
		return false, nil
	}
}
