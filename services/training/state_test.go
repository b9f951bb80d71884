package training

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// The incremental fold (cached state + new events) equals folding the
// whole history, at every length, and never changes a cached state.
func TestIncrementalFoldMatchesFullFold(t *testing.T) {
	reg := events.NewRegistry()
	elec := events.Trade{Code: "6-31-01-03"}
	var evs []eventstore.RecordedEvent
	add := func(p events.Payload) {
		data, _ := json.Marshal(p)
		evs = append(evs, eventstore.RecordedEvent{Stream: "craftsman-x", ID: fmt.Sprintf("id-%d", len(evs)), Type: p.EventType(), Revision: uint64(len(evs)), Data: data})
	}
	add(events.CraftsmanRegistered{CraftsmanID: "x"})
	for i := 0; i < 5; i++ {
		add(events.TrainingEnrolled{CraftsmanID: "x", EnrolmentID: fmt.Sprint("e", i), AcademyID: "a", CourseID: "c", Trade: elec, Mode: events.ModeClassroom})
		add(events.TrainingCompleted{CraftsmanID: "x", EnrolmentID: fmt.Sprint("e", i), AcademyID: "a", CourseID: "c", Trade: elec, Hours: 2, Mode: events.ModeClassroom})
	}
	add(events.PromotionEntitlementGranted{CraftsmanID: "x", EntitlementID: "g", Trade: elec, Level: events.Technician, RequiresApproval: true})
	add(events.PromotionEntitlementApproved{CraftsmanID: "x", EntitlementID: "g"})
	add(events.SkillLevelCertified{CraftsmanID: "x", Trade: elec, Level: events.Technician, CertificateNumber: "n1", Route: events.RouteExceptional, EntitlementID: "g"})

	full := func(n int) craftsman {
		st := newCraftsman()
		for _, r := range evs[:n] {
			st.apply(reg, r)
		}
		return st
	}
	f := newFolds(8)
	var kept []craftsman
	for n := 1; n <= len(evs); n++ {
		got := f.fold(reg, command.History{Stream: "craftsman-x", Exists: true, Events: evs[:n]})
		if want := full(n); !reflect.DeepEqual(got, want) {
			t.Fatalf("after %d events:\n got %+v\nwant %+v", n, got, want)
		}
		kept = append(kept, got)
	}
	for n, st := range kept {
		if want := full(n + 1); !reflect.DeepEqual(st, want) {
			t.Fatalf("state after %d events changed later", n+1)
		}
	}
	// A different history under the same name is folded anew.
	other := append([]eventstore.RecordedEvent(nil), evs[:3]...)
	other[2].ID = "changed"
	if got := f.fold(reg, command.History{Stream: "craftsman-x", Exists: true, Events: other}); len(got.enrolments) != 1 {
		t.Fatalf("refolded state %+v", got)
	}
}
