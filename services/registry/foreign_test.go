package registry_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
)

// A stored correction replacing an employment's start with a fact of
// another type (the services never write one) decides nothing for the
// registry, as for the career fold (events.ForeignReplacement): the
// employment still stands and its employer can end it.
func TestCorrectionOfAnotherTypeIsIgnored(t *testing.T) {
	e := newEnv(t)
	e.register(t, "k1", 79)
	steel := issuer(t, "steelworks")
	r := e.do(t, "POST", "/v1/craftsmen/k1/employments", steel, map[string]any{"employmentId": "e1", "employerOrgId": "steelworks",
		"trade": map[string]any{"code": "6-31-01-03"}, "occurredAt": "2015-05-01"})
	if r.Status != http.StatusCreated {
		t.Fatalf("employment: %d %s", r.Status, r.Body)
	}
	var started command.Result
	r.JSON(t, &started)
	rep, err := events.NewReplacement(events.TrainingEnrolled{CraftsmanID: "k1", EnrolmentID: "n1", AcademyID: "a", CourseID: "c",
		Trade: events.Trade{Code: "6-31-01-03"}, Mode: events.ModeClassroom}, nil)
	if err != nil {
		t.Fatal(err)
	}
	forged := events.EventCorrected{CraftsmanID: "k1", SupersedesEventID: started.EventIDs[0], Reason: "legacy", Replacement: rep}
	_, err = command.New(e.store, command.Options{}).Execute(context.Background(), command.Command{Name: "seed", Stream: "craftsman-k1",
		Meta: command.Meta{Issuer: "seed", Actor: "test"},
		Decide: func(context.Context, command.History) ([]command.Event, error) {
			return []command.Event{{Type: forged.EventType(), Data: forged, OccurredAt: time.Now()}}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if r := e.do(t, "POST", "/v1/craftsmen/k1/employments/e1/end", steel, map[string]any{"occurredAt": "2016-01-01"}); r.Status != http.StatusCreated {
		t.Errorf("end of e1, which the career fold shows started: %d %s", r.Status, r.Body)
	}
}
