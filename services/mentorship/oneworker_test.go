package mentorship_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/mentorship"
)

// TestOneWorkerRetracted: a completion retracted on the master's stream
// only, then completed again at another level. The pairing took it as
// retracted and recorded the new completion on its stream and the master's,
// while the apprentice's stream, whose copy is still in force, answered
// 409: the pairing was stuck with the streams disagreeing. The request is
// refused (422 naming the apprentice's stream) before anything is written;
// once the apprentice's copy is retracted too it is recorded on all three.
func TestOneWorkerRetracted(t *testing.T) {
	t.Parallel()
	e := newRetractedEnv(t, mentorship.Options{})
	done := e.post("complete", "/v1/mentorships/m1/complete", `{"levelReached":"intermediate","occurredAt":"2025-10-01"}`, 201)
	e.post("retract on master", "/v1/craftsmen/master/corrections", fmt.Sprintf(`{"supersedesEventId":%q,"reason":"wrong level"}`, done.Master.EventIDs[0]), 201)
	count := func() [3]int {
		return [3]int{e.Count("mentorship-m1", events.TypeMentorshipCompleted), e.Count("craftsman-master", events.TypeMentorshipCompleted), e.Count("craftsman-app", events.TypeMentorshipCompleted)}
	}
	const senior = `{"levelReached":"senior","occurredAt":"2025-10-01"}`
	for _, body := range []string{senior, senior, `{"levelReached":"intermediate","occurredAt":"2025-10-01"}`} {
		code, eb := e.Do("issuer", "POST", "/v1/mentorships/m1/complete", body, nil)
		if code != 422 || eb.Code != "FAILED_PRECONDITION" || !strings.Contains(eb.Message, "craftsman-app is still in force") {
			t.Errorf("%s: %d %+v; want 422 naming craftsman-app", body, code, eb)
		}
		if n := count(); n != [3]int{1, 1, 1} {
			t.Errorf("%s: completions on the pairing's, master's, apprentice's streams %v, want one each", body, n)
		}
	}
	e.post("retract on app", "/v1/craftsmen/app/corrections", fmt.Sprintf(`{"supersedesEventId":%q,"reason":"wrong level"}`, done.Apprentice.EventIDs[0]), 201)
	e.post("complete again", "/v1/mentorships/m1/complete", senior, 201)
	if n := count(); n != [3]int{2, 2, 2} {
		t.Errorf("completed again: %v completions, want two each (one retracted)", n)
	}
}

// failingStore fails the appends to one stream while fail is set.
type failingStore struct {
	eventstore.Store
	stream string
	fail   *atomic.Bool
}

func (f failingStore) Append(ctx context.Context, stream string, exp eventstore.Expected, evs ...eventstore.EventData) (eventstore.AppendResult, error) {
	if f.fail.Load() && stream == f.stream {
		return eventstore.AppendResult{}, errs.E(errs.Unavailable, "store down")
	}
	return f.Store.Append(ctx, stream, exp, evs...)
}

// TestRetractedBothHalfRecordedAgain: a completion retracted on both
// workers, sent again, recorded on the pairing's and the master's streams
// when the apprentice's append failed. The retry is no disagreement (the
// apprentice's stream lacks the new copy; its old one is retracted): it
// completes the write, one completion in force on each stream.
func TestRetractedBothHalfRecordedAgain(t *testing.T) {
	t.Parallel()
	var fail atomic.Bool
	e := retractedEnv{newEnvWrapped(t, mentorship.Options{}, func(st eventstore.Store) eventstore.Store {
		return failingStore{Store: st, stream: "craftsman-app", fail: &fail}
	}, nil), t}
	e.register("master", events.SeniorTechnician)
	e.register("app", 0)
	e.start("m1", "app", 201)
	const done = `{"levelReached":"intermediate","occurredAt":"2025-10-01"}`
	e.retract(e.post("complete", "/v1/mentorships/m1/complete", done, 201))
	fail.Store(true)
	if code, eb := e.Do("issuer", "POST", "/v1/mentorships/m1/complete", done, nil); code < 500 {
		t.Fatalf("with the apprentice's append failing: %d %+v", code, eb)
	}
	fail.Store(false)
	e.post("retried", "/v1/mentorships/m1/complete", `{"levelReached":"intermediate","occurredAt":"2025-10-01"}`, 201)
	for _, w := range []string{"master", "app"} {
		var n int
		for _, m := range servicetest.Career(t, e.Store, w).Mentorships {
			if m.Status == career.MentorshipCompleted {
				n++
			}
		}
		if n != 1 || e.Count("craftsman-"+w, events.TypeMentorshipCompleted) != 2 {
			t.Errorf("%s: %d completed pairings, %d completions recorded; want 1 and 2", w, n, e.Count("craftsman-"+w, events.TypeMentorshipCompleted))
		}
	}
}
