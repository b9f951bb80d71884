package mentorship_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/craftledger/craftledger/events"
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
