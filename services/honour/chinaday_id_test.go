package honour_test

import (
	"strings"
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
)

// TestHonourIDByChinaDay: an honour or innovation recorded without an id
// takes one derived from its China day. "2024-05-01" (UTC midnight) and
// "2024-05-01T00:00:00+08:00" are the same China day and one honour: the
// second is refused as other data for it (409), not recorded as another
// honour (the UTC dates, 05-01 and 04-30, used to give two ids).
func TestHonourIDByChinaDay(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", events.Technician)
	for _, tc := range []struct{ path, first, second, typ string }{
		{"honours", `{"code":"city_craftsman","occurredAt":"2024-05-01"}`, `{"code":"city_craftsman","occurredAt":"2024-05-01T00:00:00+08:00"}`, events.TypeHonourConferred},
		{"innovations", `{"kind":"breakthrough","title":"焊缝检测","level":"national","occurredAt":"2024-05-01"}`, `{"kind":"breakthrough","title":"焊缝检测","level":"national","occurredAt":"2024-05-01T00:00:00+08:00"}`, events.TypeInnovationRecognised},
	} {
		if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/"+tc.path, tc.first, nil); code != 201 {
			t.Fatalf("%s: %d %+v", tc.first, code, eb)
		}
		if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/"+tc.path, tc.second, nil); code != 409 {
			t.Errorf("%s on the same China day: %d %+v, want 409", tc.second, code, eb)
		}
		if n := e.Count("craftsman-w", tc.typ); n != 1 {
			t.Errorf("%s: one China day's fact recorded %d times", tc.path, n)
		}
	}
}

// TestHonourIDBeforeChinaDays: a fact recorded before ids were derived
// from China days has the id of its UTC date; the same request sent again
// finds it (200, a replay of it) instead of recording it a second time
// under the China day's id — also a back-fill line, whose withdrawal then
// withdraws it. The UTC date's id of a fact of another China day is another
// fact: recorded (201).
func TestHonourIDBeforeChinaDays(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", events.Technician)
	// What the earlier rule recorded for 2024-05-01T00:00:00+08:00
	// (2024-04-30T16:00Z): the id of the UTC date, given explicitly here.
	utcID := func(parts ...string) string { return events.DeterministicID(parts...) }
	const at = "2024-05-01T00:00:00+08:00"
	honour := "h-" + utcID("honour-id", "w", "city_craftsman", "2024-04-30")
	innovation := "i-" + utcID("innovation-id", "w", "breakthrough", "焊缝检测", "2024-04-30")
	post := func(path, body string, want int) command.Result {
		t.Helper()
		var r command.Result
		if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/"+path, body, &r); code != want {
			t.Fatalf("%s %s: %d %+v, want %d", path, body, code, eb, want)
		}
		return r
	}
	old := post("honours", `{"honourId":"`+honour+`","code":"city_craftsman","occurredAt":"`+at+`"}`, 201)
	if r := post("honours", `{"code":"city_craftsman","occurredAt":"`+at+`"}`, 200); !r.Replayed || r.EventIDs[0] != old.EventIDs[0] {
		t.Errorf("honour sent again: %+v, want a replay of %s", r, old.EventIDs[0])
	}
	oldIn := post("innovations", `{"innovationId":"`+innovation+`","kind":"breakthrough","title":"焊缝检测","level":"national","occurredAt":"`+at+`"}`, 201)
	if r := post("innovations", `{"kind":"breakthrough","title":"焊缝检测","level":"national","occurredAt":"`+at+`"}`, 200); !r.Replayed || r.EventIDs[0] != oldIn.EventIDs[0] {
		t.Errorf("innovation sent again: %+v, want a replay of %s", r, oldIn.EventIDs[0])
	}
	file := `{"craftsmanId":"w","code":"city_craftsman","occurredAt":"` + at + `","withdrawn":{"reason":"revoked","occurredAt":"2024-06-01"}}` + "\n"
	if code, lines, sum := e.Backfill("issuer", "/v1/backfill/honours", "application/x-ndjson", file); code != 200 || sum.Summary.OK != 1 {
		t.Errorf("back-fill line: %d %+v %+v", code, lines, sum)
	}
	if n := e.Count("craftsman-w", events.TypeHonourConferred); n != 1 {
		t.Errorf("honour conferred %d times", n)
	}
	if n := e.Count("craftsman-w", events.TypeInnovationRecognised); n != 1 {
		t.Errorf("innovation recognised %d times", n)
	}
	if n := e.Count("craftsman-w", events.TypeHonourWithdrawn); n != 1 {
		t.Errorf("the back-fill line withdrew %d honours", n)
	}
	// 2024-04-30 (UTC midnight) is China day 04-30 under either rule; the
	// 05-01 China day's request whose UTC date is 04-30 is another honour.
	post("honours", `{"code":"provincial_craftsman","occurredAt":"2024-04-30"}`, 201)
	if r := post("honours", `{"code":"provincial_craftsman","occurredAt":"`+at+`"}`, 201); !strings.HasPrefix(r.Stream, "craftsman-") {
		t.Errorf("%+v", r)
	}
}
