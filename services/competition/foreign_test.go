package competition_test

import (
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
)

// A stored correction that replaces the competition's definition with a
// fact of another type (the services never write one; the career fold and
// pkg/command ignore it: events.ForeignReplacement) decides nothing here
// either: the competition stays defined and its results can be published.
func TestCorrectionOfAnotherTypeIsIgnored(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", events.Senior)
	var def command.Result
	if code, eb := e.Do("issuer", "POST", "/v1/competitions", classOne("c1"), &def); code != 201 {
		t.Fatalf("define: %d %+v", code, eb)
	}
	rep, err := events.NewReplacement(events.TrainingEnrolled{CraftsmanID: "w", EnrolmentID: "en1", AcademyID: "a", CourseID: "k", Trade: events.Trade{Code: trade}, Mode: events.ModeClassroom}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.Seed(events.CompetitionStream("c1"), e.Now, events.EventCorrected{SupersedesEventID: def.EventIDs[0], Reason: "legacy", Replacement: rep})
	if code, eb := e.Do("issuer", "POST", "/v1/competitions/c1/results", publish(pl("w", "employees", 3)), nil); code != 201 {
		t.Errorf("publishing results of c1, whose definition a correction of another type does not replace: %d %+v", code, eb)
	}
}
