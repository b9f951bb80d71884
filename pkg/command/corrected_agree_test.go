package command_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// The services' reading of corrections (command.Corrected) and the career
// fold's (career.Decide) leave the same facts in force on random
// histories: retractions, replacements of the fact's type or of another
// type (events.ForeignReplacement), corrections of corrections.
func TestCorrectedAgreesWithCareerDecide(t *testing.T) {
	elec := events.Trade{Code: "6-31-01-03"}
	training := func(h float64) events.Payload {
		return events.TrainingCompleted{CraftsmanID: "c", AcademyID: "a", CourseID: "k", Trade: elec, Hours: h, Mode: events.ModeClassroom, Passed: true}
	}
	cert := func(n int) events.Payload {
		return events.SkillLevelCertified{CraftsmanID: "c", Trade: elec, Level: events.Senior, CertificateNumber: fmt.Sprint("S-", n), Family: events.FamilySkillLevel,
			EvaluatingOrgID: "mohrss", IssuingOrg: events.Org{ID: "mohrss", Kind: events.IssuerThirdParty}, Route: events.RouteRegular}
	}
	reg := events.NewRegistry()
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(14, 1))
	type fact struct{ ID, Type, Data string }
	for round := range 2000 {
		var raw []eventstore.RecordedEvent
		var recs []events.Recorded
		for i := range 2 + rng.IntN(10) {
			var p events.Payload
			switch k := rng.IntN(5); {
			case i == 0 || k == 0:
				p = training(float64(1 + rng.IntN(40)))
			case k == 1:
				p = cert(rng.IntN(100))
			default:
				c := events.EventCorrected{CraftsmanID: "c", SupersedesEventID: raw[rng.IntN(len(raw))].ID, Reason: "r"}
				switch rng.IntN(3) {
				case 0:
				case 1:
					c.Replacement, _ = events.NewReplacement(training(float64(1+rng.IntN(40))), nil)
				default:
					c.Replacement, _ = events.NewReplacement(cert(rng.IntN(100)), nil)
				}
				p = c
			}
			typ, data, err := events.Encode(p)
			if err != nil {
				t.Fatal(err)
			}
			e := eventstore.RecordedEvent{ID: fmt.Sprintf("ev-%d", i), Stream: "craftsman-c", Revision: uint64(i), Type: typ, Data: data, Created: base.Add(time.Duration(i) * time.Hour)}
			raw = append(raw, e)
			dec, err := reg.Decode(typ, data)
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, events.Recorded{ID: e.ID, Stream: e.Stream, Revision: e.Revision, Type: typ, Payload: dec, RecordedAt: e.Created})
		}
		got, err := command.Corrected(command.History{Stream: "craftsman-c", Exists: true, Events: raw}, events.TypeEventCorrected)
		if err != nil {
			t.Fatal(err)
		}
		var services []fact
		for _, e := range got {
			services = append(services, fact{e.ID, e.Type, string(e.Data)})
		}
		d := career.Decide(recs)
		var fold []fact
		for _, r := range recs {
			if _, ok := r.Payload.(events.EventCorrected); ok {
				continue
			}
			dec, ok := d.Of[r.ID]
			switch {
			case !ok:
				fold = append(fold, fact{r.ID, r.Type, string(raw[r.Revision].Data)})
			case !dec.Retracted():
				fold = append(fold, fact{r.ID, dec.Replacement.Type, string(dec.Replacement.Data)})
			}
		}
		if diff := cmp.Diff(fold, services); diff != "" {
			var h []string
			for _, e := range raw {
				h = append(h, e.ID+" "+e.Type+" "+string(e.Data))
			}
			t.Fatalf("round %d: command.Corrected (+) differs from career.Decide (-):\n%s\nhistory:\n%q", round, diff, h)
		}
	}
}
