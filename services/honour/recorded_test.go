package honour_test

import (
	"fmt"
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
)

// TestKeyDecides: with an Idempotency-Key, the key decides whatever ids
// the body derives (a date, an honourId): the same key with the same
// request is the first answer, with another body 422 and nothing written.
// It used to be ignored whenever occurredAt or honourId was given: another
// honour under a used key was recorded, and a key first sent without a
// date and retried with today's date recorded the honour twice (R6).
func TestKeyDecides(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", events.Technician)
	post := func(path, body, key string, out *command.Result) (int, string) {
		t.Helper()
		if out == nil {
			out = new(command.Result)
		}
		code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/"+path, body, out, "Idempotency-Key", key)
		return code, eb.Code
	}
	var first, again command.Result
	for _, c := range []struct {
		what, path, body, other string
	}{
		{"a dated honour", "honours", `{"code":"city_model_worker","occurredAt":"2023-04-28"}`, `{"code":"provincial_craftsman","occurredAt":"2023-04-28"}`},
		{"an honour sent undated", "honours", `{"code":"enterprise_craftsman"}`, `{"code":"enterprise_craftsman","occurredAt":"2025-11-20"}`},
		{"an honour with its id", "honours", `{"honourId":"hx","code":"city_craftsman","occurredAt":"2024-01-02"}`, `{"honourId":"hy","code":"city_craftsman","occurredAt":"2024-01-02"}`},
		{"a dated innovation", "innovations", `{"kind":"five_small","category":"invention","title":"A","level":"enterprise","occurredAt":"2024-06-01"}`,
			`{"kind":"five_small","category":"invention","title":"B","level":"enterprise","occurredAt":"2024-06-01"}`},
		{"a withdrawal", "honours/hx/withdraw", `{"reason":"fraud","occurredAt":"2024-05-01"}`, `{"reason":"fraud, confirmed","occurredAt":"2024-05-01"}`},
	} {
		key := "key-" + c.path + fmt.Sprint(len(c.body))
		if code, ec := post(c.path, c.body, key, &first); code != 201 {
			t.Fatalf("%s: %d %s", c.what, code, ec)
		}
		if code, ec := post(c.path, c.body, key, &again); code != 200 || !again.Replayed || fmt.Sprint(again.EventIDs) != fmt.Sprint(first.EventIDs) || again.Revision != first.Revision {
			t.Errorf("%s retried: %d %s %+v, want a replay of %+v", c.what, code, ec, again, first)
		}
		if code, ec := post(c.path, c.other, key, nil); code != 422 || ec != "FAILED_PRECONDITION" {
			t.Errorf("%s: its key with another body: %d %s, want 422 FAILED_PRECONDITION", c.what, code, ec)
		}
	}
	// The key of one command sent to another route is another request.
	if code, ec := post("innovations", `{"kind":"breakthrough","title":"攻关","level":"enterprise","occurredAt":"2024-06-01"}`, "key-honours"+fmt.Sprint(len(`{"code":"enterprise_craftsman"}`)), nil); code != 422 || ec != "FAILED_PRECONDITION" {
		t.Errorf("an honour's key sent with an innovation: %d %s, want 422", code, ec)
	}
	for typ, want := range map[string]int{events.TypeHonourConferred: 3, events.TypeInnovationRecognised: 1, events.TypeHonourWithdrawn: 1} {
		if n := e.Count("craftsman-w", typ); n != want {
			t.Errorf("%d %s, want %d: %v", n, typ, want, e.Types("craftsman-w"))
		}
	}
	e.VerifyChain("craftsman-w")
}

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
