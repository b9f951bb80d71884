package career_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
)

// TestCorrectionReversalRestores: for random events of a random career,
// a correction (a replacement with another date and data, or a
// retraction) followed by its reversal gives back exactly the state
// before, in both modes; and a replacement alone changes something.
func TestCorrectionReversalRestores(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	asOf := time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
	for trial := 0; trial < 200; trial++ {
		base := longCareer(30 + r.IntN(60))
		i := 1 + r.IntN(len(base)-1)
		target := base[i]
		if _, ok := target.Payload.(events.EventCorrected); ok || alreadyCorrected(base, target.ID) {
			continue
		}
		evs := append([]events.Recorded(nil), base...)
		before := career.Fold(evs, asOf, career.AsOccurred)
		add := func(p events.Payload) string {
			rev := uint64(len(evs))
			id := fmt.Sprintf("fix-%d", rev)
			at := time.Date(2035, 1, 1, 0, 0, int(rev), 0, time.UTC)
			evs = append(evs, events.Recorded{Stream: "craftsman-c-1", Revision: rev, ID: id, Type: p.EventType(), RecordedAt: at,
				Meta: events.NewMetadata(p.EventType(), at, "o", "u"), Payload: p})
			return id
		}
		corr := events.EventCorrected{CraftsmanID: "c-1", SupersedesEventID: target.ID, Reason: "property"}
		if tc, ok := target.Payload.(events.TrainingCompleted); ok && r.IntN(2) == 0 {
			tc.Hours += 1 + float64(r.IntN(10))
			moved := target.Meta.OccurredAt.AddDate(0, 0, -1-r.IntN(400))
			rep, err := events.NewReplacement(tc, &moved)
			if err != nil {
				t.Fatal(err)
			}
			corr.Replacement = rep
		}
		cid := add(corr)
		changed := career.Fold(evs, asOf, career.AsOccurred)
		if corr.Replacement != nil && summary(changed) == summary(before) {
			t.Fatalf("trial %d: correcting %s (%s) changed nothing", trial, target.ID, target.Type)
		}
		add(events.EventCorrected{CraftsmanID: "c-1", SupersedesEventID: cid, Reason: "reversal"})
		for _, mode := range []career.Mode{career.AsOccurred, career.AsRecorded} {
			b := career.Fold(base, asOf, mode)
			a := career.Fold(evs, asOf, mode)
			if summary(a) != summary(b) {
				t.Fatalf("trial %d (%s, %s): reversal did not restore\n%s\n%s", trial, target.Type, mode, summary(b), summary(a))
			}
		}
	}
}

// TestModesAgreeWhenNothingIsLate: when every event is recorded the day it
// occurs, as-recorded and as-occurred folds agree at every instant.
func TestModesAgreeWhenNothingIsLate(t *testing.T) {
	evs := longCareer(300)
	for _, d := range []string{"1995-06-01", "1996-01-01", "1997-03-15", "2000-01-01"} {
		a := career.Fold(evs, date(d), career.AsRecorded)
		b := career.Fold(evs, date(d), career.AsOccurred)
		a.Mode = b.Mode
		if summary(a) != summary(b) {
			t.Errorf("%s: modes disagree", d)
		}
	}
}

func alreadyCorrected(evs []events.Recorded, id string) bool {
	for _, e := range evs {
		if c, ok := e.Payload.(events.EventCorrected); ok && c.SupersedesEventID == id {
			return true
		}
	}
	return false
}
