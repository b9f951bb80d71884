package honour_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
)

// Corrections over real HTTP against the embedded store: the recording
// organisation (or an admin) supersedes an honour with a reason; both stay
// in the history, the views see the corrected fact, a repeat is replayed,
// and others, foreign facts and identity changes are refused.
func TestCorrect(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", events.Technician)
	var conf command.Result
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/honours", `{"honourId":"h-1","code":"city_craftsman","occurredAt":"2024-05-01"}`, &conf); code != 201 {
		t.Fatalf("confer: %d %+v", code, eb)
	}
	orig := conf.EventIDs[0]
	registered := servicetest.EventID(t, e.Store, "w", events.TypeCraftsmanRegistered)
	rep := func(id, name string) string {
		return fmt.Sprintf(`{"supersedesEventId":%q,"reason":"the certificate names it differently","replacement":{"data":{"craftsmanId":"w","honourId":%q,"code":"city_craftsman","name":%q,"level":"city","conferringBody":"city trade-union federation"},"occurredAt":"2024-04-28"}}`, orig, id, name)
	}
	// upgrade replaces one field of the honour: who may confer it depends
	// on its code, level and conferring body, so a correction keeps them.
	upgrade := func(field, value string) string {
		data := map[string]string{"craftsmanId": "w", "honourId": "h-1", "code": "city_craftsman", "level": "city", "conferringBody": "city trade-union federation"}
		data[field] = value
		b, _ := json.Marshal(map[string]any{"supersedesEventId": orig, "reason": "r", "replacement": map[string]any{"data": data}})
		return string(b)
	}
	for _, tc := range []struct {
		name, caller, path, body string
		code                     int
		field                    string
	}{
		{"another organisation", "otherIssuer", "/v1/craftsmen/w/corrections", rep("h-1", "工匠之星"), 403, ""},
		{"a worker", "worker", "/v1/craftsmen/w/corrections", rep("h-1", "工匠之星"), 403, ""},
		{"no reason", "issuer", "/v1/craftsmen/w/corrections", fmt.Sprintf(`{"supersedesEventId":%q}`, orig), 400, "reason"},
		{"unknown event", "issuer", "/v1/craftsmen/w/corrections", `{"supersedesEventId":"nope","reason":"r"}`, 404, "supersedesEventId"},
		{"event of another craftsman's stream", "issuer", "/v1/craftsmen/v/corrections", fmt.Sprintf(`{"supersedesEventId":%q,"reason":"r"}`, orig), 404, "supersedesEventId"},
		{"a fact the service does not record", "admin", "/v1/craftsmen/w/corrections", fmt.Sprintf(`{"supersedesEventId":%q,"reason":"r"}`, registered), 400, "supersedesEventId"},
		{"another honour", "issuer", "/v1/craftsmen/w/corrections", rep("h-2", "工匠之星"), 400, "replacement.data.honourId"},
		{"invalid replacement", "issuer", "/v1/craftsmen/w/corrections", fmt.Sprintf(`{"supersedesEventId":%q,"reason":"r","replacement":{"data":{"craftsmanId":"w","honourId":"h-1","code":"city_craftsman","level":"galactic","conferringBody":"b"}}}`, orig), 400, "replacement.data.level"},
		{"another code", "issuer", "/v1/craftsmen/w/corrections", upgrade("code", "national_model_worker"), 400, "replacement.data.code"},
		{"another level", "issuer", "/v1/craftsmen/w/corrections", upgrade("level", "national"), 400, "replacement.data.level"},
		{"another conferring body", "issuer", "/v1/craftsmen/w/corrections", upgrade("conferringBody", "State Council"), 400, "replacement.data.conferringBody"},
		{"another type", "issuer", "/v1/craftsmen/w/corrections", fmt.Sprintf(`{"supersedesEventId":%q,"reason":"r","replacement":{"type":"HonourWithdrawn.v1","data":{}}}`, orig), 400, "replacement.type"},
	} {
		if code, eb := e.Do(tc.caller, "POST", tc.path, tc.body, nil); code != tc.code || (tc.field != "" && eb.Field != tc.field) {
			t.Errorf("%s: %d %+v, want %d on %q", tc.name, code, eb, tc.code, tc.field)
		}
	}
	if n := e.Count("craftsman-w", events.TypeEventCorrected); n != 0 {
		t.Fatalf("refusals wrote %d corrections", n)
	}

	var c1, again command.Result
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/corrections", rep("h-1", "工匠之星"), &c1); code != 201 {
		t.Fatalf("correct: %d %+v", code, eb)
	}
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/corrections", rep("h-1", "工匠之星"), &again); code != 200 || !again.Replayed || again.EventIDs[0] != c1.EventIDs[0] {
		t.Errorf("repeat: %d %+v %+v", code, eb, again)
	}
	// The same correction with its fields in another order is the same correction.
	spaced := strings.Replace(rep("h-1", "工匠之星"), `"honourId":"h-1","code":"city_craftsman"`, `"code":"city_craftsman", "honourId":"h-1"`, 1)
	if spaced == rep("h-1", "工匠之星") {
		t.Fatal("the reordered body is the same body")
	}
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/corrections", spaced, &again); code != 200 || !again.Replayed {
		t.Errorf("repeat, reformatted: %d %+v %+v", code, eb, again)
	}
	if n := e.Count("craftsman-w", events.TypeEventCorrected); n != 1 {
		t.Errorf("%d corrections, want 1", n)
	}
	if n := e.Count("craftsman-w", events.TypeHonourConferred); n != 1 {
		t.Errorf("the original is gone: %d HonourConferred", n)
	}
	st := servicetest.Career(t, e.Store, "w")
	if len(st.Honours) != 1 || st.Honours[0].Name != "工匠之星" || st.Honours[0].Date.Format("2006-01-02") != "2024-04-28" ||
		st.Honours[0].Supersedes == nil || st.Honours[0].Supersedes.EventID != orig {
		t.Errorf("corrected honour: %+v", st.Honours)
	}

	// An admin reverses the correction: the original applies again.
	if code, eb := e.Do("admin", "POST", "/v1/craftsmen/w/corrections", fmt.Sprintf(`{"supersedesEventId":%q,"reason":"the first record was right"}`, c1.EventIDs[0]), nil); code != 201 {
		t.Fatalf("reverse: %d %+v", code, eb)
	}
	st = servicetest.Career(t, e.Store, "w")
	if len(st.Honours) != 1 || st.Honours[0].Name == "工匠之星" || st.Honours[0].Supersedes != nil {
		t.Errorf("after the reversal: %+v", st.Honours)
	}
	// A retraction by the recording organisation removes it from the views.
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/corrections", fmt.Sprintf(`{"supersedesEventId":%q,"reason":"conferred on the wrong worker"}`, orig), nil); code != 201 {
		t.Fatalf("retract: %d %+v", code, eb)
	}
	if st := servicetest.Career(t, e.Store, "w"); len(st.Honours) != 0 || len(st.Corrections) != 3 {
		t.Errorf("after the retraction: honours %+v corrections %+v", st.Honours, st.Corrections)
	}
	e.VerifyChain("craftsman-w")
}

// TestCorrectionConfersNothingNew: an organisation that may not confer a
// national honour confers an enterprise one and cannot correct it into the
// national one.
func TestCorrectionConfersNothingNew(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", events.Technician)
	if code, eb := e.Do("registrar", "POST", "/v1/craftsmen/w/honours", `{"code":"national_model_worker","occurredAt":"2024-05-01"}`, nil); code != 403 {
		t.Fatalf("registrar confers a national honour: %d %+v, want 403", code, eb)
	}
	var r command.Result
	if code, eb := e.Do("registrar", "POST", "/v1/craftsmen/w/honours", `{"honourId":"h-ent-1","code":"enterprise_craftsman","occurredAt":"2024-05-01"}`, &r); code != 201 {
		t.Fatalf("registrar confers an enterprise honour: %d %+v", code, eb)
	}
	corr := `{"supersedesEventId":"` + r.EventIDs[0] + `","reason":"typo","replacement":{"data":{"craftsmanId":"w","honourId":"h-ent-1","code":"national_model_worker","name":"全国劳动模范","level":"national","conferringBody":"State Council"}}}`
	if code, eb := e.Do("registrar", "POST", "/v1/craftsmen/w/corrections", corr, nil); code != 400 || eb.Code != "INVALID_ARGUMENT" {
		t.Errorf("enterprise honour corrected into a national one: %d %+v, want 400", code, eb)
	}
	if n := e.Count("craftsman-w", events.TypeEventCorrected); n != 0 {
		t.Errorf("the refusal wrote %d corrections", n)
	}
	if st := servicetest.Career(t, e.Store, "w"); len(st.Honours) != 1 || st.Honours[0].Code != "enterprise_craftsman" {
		t.Errorf("honours %+v", st.Honours)
	}
}
