package honour_test

import (
	"fmt"
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
)

// TestRecordedAgainAfterRetraction: a fact a correction retracted does not
// count as recorded: sent again, it is recorded again (201) under the next
// id of its chain, and a retry of that is a replay of it. It used to be
// answered as a replay of the retracted recording and nothing was written:
// a withdrawal retracted then sent again left the honour in force, a
// conferral retracted then sent again conferred nothing (R6).
func TestRecordedAgainAfterRetraction(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", events.Technician)
	do := func(what, path, body string, want int) command.Result {
		t.Helper()
		var r command.Result
		if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/"+path, body, &r); code != want {
			t.Fatalf("%s: %d %+v, want %d", what, code, eb, want)
		}
		return r
	}
	retract := func(what string, r command.Result) {
		t.Helper()
		do("retract "+what, "corrections", fmt.Sprintf(`{"supersedesEventId":%q,"reason":"recorded by mistake"}`, r.EventIDs[0]), 201)
	}
	do("confer h1", "honours", `{"honourId":"h1","code":"city_model_worker","occurredAt":"2023-04-28"}`, 201)
	const withdraw = `{"reason":"fraud","occurredAt":"2024-01-01"}`
	w1 := do("withdraw", "honours/h1/withdraw", withdraw, 201)
	retract("the withdrawal", w1)
	w2 := do("withdraw again", "honours/h1/withdraw", withdraw, 201)
	if w2.Replayed || w2.EventIDs[0] == w1.EventIDs[0] {
		t.Errorf("withdrawn again: %+v, want a new recording (not %s)", w2, w1.EventIDs[0])
	}
	if r := do("withdraw again, retried", "honours/h1/withdraw", withdraw, 200); !r.Replayed || r.EventIDs[0] != w2.EventIDs[0] {
		t.Errorf("retry: %+v, want a replay of %s", r, w2.EventIDs[0])
	}
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/honours/h1/withdraw", `{"reason":"another","occurredAt":"2024-01-01"}`, nil); code != 409 {
		t.Errorf("withdrawn in force, another reason: %d %+v, want 409", code, eb)
	}
	// Retracted twice: the third recording takes the third id.
	retract("the second withdrawal", w2)
	if w3 := do("withdraw a third time", "honours/h1/withdraw", withdraw, 201); w3.EventIDs[0] == w1.EventIDs[0] || w3.EventIDs[0] == w2.EventIDs[0] {
		t.Errorf("third withdrawal %+v reuses an id", w3)
	}

	const h2 = `{"honourId":"h2","code":"city_model_worker","occurredAt":"2024-04-28"}`
	c1 := do("confer h2", "honours", h2, 201)
	retract("the conferral", c1)
	c2 := do("confer h2 again", "honours", h2, 201)
	if c2.Replayed || c2.EventIDs[0] == c1.EventIDs[0] {
		t.Errorf("conferred again: %+v, want a new recording", c2)
	}
	// And the honour conferred again is the one in force: withdrawable.
	do("withdraw h2", "honours/h2/withdraw", `{"reason":"fraud","occurredAt":"2025-01-01"}`, 201)
	i1 := do("innovation", "innovations", `{"kind":"five_small","category":"invention","title":"A","level":"enterprise","occurredAt":"2024-06-01"}`, 201)
	retract("the innovation", i1)
	do("innovation again", "innovations", `{"kind":"five_small","category":"invention","title":"A","level":"enterprise","occurredAt":"2024-06-01"}`, 201)
	for typ, want := range map[string]int{events.TypeHonourConferred: 3, events.TypeHonourWithdrawn: 4, events.TypeInnovationRecognised: 2} {
		if n := e.Count("craftsman-w", typ); n != want {
			t.Errorf("%d %s, want %d: %v", n, typ, want, e.Types("craftsman-w"))
		}
	}
	e.VerifyChain("craftsman-w")
}
