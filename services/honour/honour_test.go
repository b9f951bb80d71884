package honour_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/policy"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/servicekit"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/honour"
)

func TestConferHonour(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", events.Technician)
	body := `{"code":"national_technical_expert","occurredAt":"2024-12-01"}`
	var r, again command.Result
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/honours", body, &r); code != 201 {
		t.Fatalf("confer: %d %+v", code, eb)
	}
	evs, err := e.Store.ReadStream(context.Background(), "craftsman-w", eventstore.ReadOptions{From: r.Revision, Max: 1})
	if err != nil {
		t.Fatal(err)
	}
	var p events.HonourConferred
	if err := json.Unmarshal(evs[0].Data, &p); err != nil {
		t.Fatal(err)
	}
	if p.Level != events.LevelNational || p.ConferringBody != "MOHRSS" || p.Name != "全国技术能手" || !strings.HasPrefix(p.HonourID, "h-") {
		t.Errorf("catalogue defaults not applied: %+v", p)
	}
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/honours", body, &again); code != 200 || !again.Replayed || again.Revision != r.Revision {
		t.Errorf("repeat: %d %+v %+v", code, eb, again)
	}
	if n := e.Count("craftsman-w", events.TypeHonourConferred); n != 1 {
		t.Errorf("%d honours after a repeat", n)
	}
	tests := []struct {
		name, caller, path, body string
		status                   int
		code, field              string
	}{
		{"same honour, other body", "issuer", "/v1/craftsmen/w/honours", `{"code":"national_technical_expert","conferringBody":"someone","occurredAt":"2024-12-01"}`, 409, "CONFLICT", ""},
		{"level against the catalogue", "issuer", "/v1/craftsmen/w/honours", `{"code":"national_model_worker","level":"city","occurredAt":"2020-05-01"}`, 400, "INVALID_ARGUMENT", "level"},
		{"custom honour without level", "issuer", "/v1/craftsmen/w/honours", `{"code":"shop_star","conferringBody":"works council"}`, 400, "INVALID_ARGUMENT", "level"},
		{"custom honour without body", "issuer", "/v1/craftsmen/w/honours", `{"code":"shop_star","level":"enterprise"}`, 400, "INVALID_ARGUMENT", "conferringBody"},
		{"bad code", "issuer", "/v1/craftsmen/w/honours", `{"code":"Model Worker","level":"city","conferringBody":"x"}`, 400, "INVALID_ARGUMENT", "code"},
		{"bad trade", "issuer", "/v1/craftsmen/w/honours", `{"code":"city_craftsman","trade":{"code":"x"}}`, 400, "INVALID_ARGUMENT", "trade.code"},
		{"future", "issuer", "/v1/craftsmen/w/honours", `{"code":"city_craftsman","occurredAt":"2031-01-01"}`, 400, "INVALID_ARGUMENT", "occurredAt"},
		{"unknown worker", "issuer", "/v1/craftsmen/ghost/honours", `{"code":"city_craftsman"}`, 404, "NOT_FOUND", ""},
		{"unknown placement", "issuer", "/v1/craftsmen/w/honours", `{"code":"city_craftsman","placementId":"c9:w:` + trade + `:employees"}`, 404, "NOT_FOUND", "placementId"},
		{"worker may not", "worker", "/v1/craftsmen/w/honours", `{"code":"city_craftsman"}`, 403, "PERMISSION_DENIED", ""},
		{"hr may not", "hr", "/v1/craftsmen/w/honours", `{"code":"city_craftsman"}`, 403, "PERMISSION_DENIED", ""},
		{"no token", "", "/v1/craftsmen/w/honours", `{"code":"city_craftsman"}`, 401, "UNAUTHENTICATED", ""},
		{"unknown field", "issuer", "/v1/craftsmen/w/honours", `{"code":"city_craftsman","medal":"gold"}`, 400, "INVALID_ARGUMENT", "medal"},
		{"unknown route", "issuer", "/v1/craftsmen/w/medals", `{}`, 404, "NOT_FOUND", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, eb := e.Do(tc.caller, "POST", tc.path, tc.body, nil)
			if code != tc.status || eb.Code != tc.code || eb.Field != tc.field {
				t.Errorf("got %d %+v, want %d %s field %q", code, eb, tc.status, tc.code, tc.field)
			}
		})
	}
	if n := e.Count("craftsman-w", events.TypeHonourConferred); n != 1 {
		t.Errorf("refusals wrote: %d honours", n)
	}
}

// An honour triggered by a competition placement names the placement and
// is caused by the placement's event.
func TestHonourFromPlacement(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", events.Technician)
	pid := events.PlacementID("c1", "w", trade, events.TrackEmployees)
	e.Seed("craftsman-w", time.Date(2025, 9, 5, 0, 0, 0, 0, time.UTC), events.CompetitionPlaced{CraftsmanID: "w", CompetitionID: "c1",
		PlacementID: pid, Tier: events.TierNationalClass1, Track: events.TrackEmployees, TeamSize: 1, Trade: events.Trade{Code: trade}, Rank: 2, Award: events.AwardSilver})
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/honours", `{"code":"national_technical_expert","placementId":"`+pid+`","occurredAt":"2025-08-01"}`, nil); code != 400 || eb.Field != "occurredAt" {
		t.Errorf("honour before its placement: %d %+v", code, eb)
	}
	var r command.Result
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/honours", `{"code":"national_technical_expert","placementId":"`+pid+`","occurredAt":"2025-10-01"}`, &r); code != 201 {
		t.Fatalf("confer: %d %+v", code, eb)
	}
	evs, _ := e.Store.ReadStream(context.Background(), "craftsman-w", eventstore.ReadOptions{From: r.Revision, Max: 1})
	var p events.HonourConferred
	if err := json.Unmarshal(evs[0].Data, &p); err != nil {
		t.Fatal(err)
	}
	if p.HonourID != policy.HonourID(pid, "national_technical_expert") || p.PlacementID != pid {
		t.Errorf("honour %+v: want the id the competition service lists", p)
	}
	m, _ := command.DecodeMetadata(evs[0].Metadata)
	if m.CausationID != events.DeterministicID("placement", pid) || m.IssuerOrgID != orgAcademy {
		t.Errorf("metadata %+v, want causation %s", m, events.DeterministicID("placement", pid))
	}
}

func TestWithdrawHonour(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", events.Technician)
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/honours", `{"honourId":"h1","code":"city_model_worker","occurredAt":"2023-04-28"}`, nil); code != 201 {
		t.Fatalf("confer: %d %+v", code, eb)
	}
	path := "/v1/craftsmen/w/honours/h1/withdraw"
	tests := []struct {
		name, caller, path, body string
		status                   int
		code, field              string
	}{
		{"another organisation", "otherIssuer", path, `{"reason":"fraud"}`, 403, "PERMISSION_DENIED", ""},
		{"no reason", "issuer", path, `{}`, 400, "INVALID_ARGUMENT", "reason"},
		{"before the conferral", "issuer", path, `{"reason":"fraud","occurredAt":"2022-01-01"}`, 400, "INVALID_ARGUMENT", "occurredAt"},
		{"unknown honour", "issuer", "/v1/craftsmen/w/honours/nope/withdraw", `{"reason":"fraud"}`, 404, "NOT_FOUND", ""},
		{"unknown worker", "issuer", "/v1/craftsmen/ghost/honours/h1/withdraw", `{"reason":"fraud"}`, 404, "NOT_FOUND", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, eb := e.Do(tc.caller, "POST", tc.path, tc.body, nil)
			if code != tc.status || eb.Code != tc.code || eb.Field != tc.field {
				t.Errorf("got %d %+v, want %d %s field %q", code, eb, tc.status, tc.code, tc.field)
			}
		})
	}
	if n := e.Count("craftsman-w", events.TypeHonourWithdrawn); n != 0 {
		t.Fatalf("refusals wrote %d withdrawals", n)
	}
	var r, again command.Result
	body := `{"reason":"revoked by the city government","occurredAt":"2025-01-15"}`
	if code, eb := e.Do("issuer", "POST", path, body, &r); code != 201 {
		t.Fatalf("withdraw: %d %+v", code, eb)
	}
	if code, _ := e.Do("issuer", "POST", path, body, &again); code != 200 || !again.Replayed || again.Revision != r.Revision {
		t.Errorf("withdraw again: %d %+v", code, again)
	}
	if code, eb := e.Do("admin", "POST", path, `{"reason":"another reason"}`, nil); code != 409 {
		t.Errorf("withdraw with another reason: %d %+v", code, eb)
	}
	if n := e.Count("craftsman-w", events.TypeHonourWithdrawn); n != 1 {
		t.Errorf("%d withdrawals", n)
	}
	e.VerifyChain("craftsman-w")
	// An admin may withdraw what any organisation recorded.
	if code, eb := e.Do("mohrss", "POST", "/v1/craftsmen/w/honours", `{"honourId":"h2","code":"national_technical_expert","occurredAt":"2024-04-28"}`, nil); code != 201 {
		t.Fatalf("mohrss confers: %d %+v", code, eb)
	}
	if code, eb := e.Do("admin", "POST", "/v1/craftsmen/w/honours/h2/withdraw", `{"reason":"appeal"}`, nil); code != 201 {
		t.Errorf("admin withdraw: %d %+v", code, eb)
	}
}

func TestRecogniseInnovation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", events.Technician)
	body := `{"kind":"patent","title":"焊缝自动检测装置","level":"national","patentNumber":"ZL2024 1 0000001.2","role":"leader","inUse":true,"occurredAt":"2024-06-01"}`
	var r, again command.Result
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/innovations", body, &r); code != 201 {
		t.Fatalf("innovation: %d %+v", code, eb)
	}
	if code, _ := e.Do("issuer", "POST", "/v1/craftsmen/w/innovations", body, &again); code != 200 || !again.Replayed || again.Revision != r.Revision {
		t.Errorf("repeat: %d %+v", code, again)
	}
	tests := []struct {
		name, body  string
		status      int
		code, field string
	}{
		{"five-small without category", `{"kind":"five_small","title":"t","level":"enterprise"}`, 400, "INVALID_ARGUMENT", "category"},
		{"patent without number", `{"kind":"patent","title":"t","level":"national"}`, 400, "INVALID_ARGUMENT", "patentNumber"},
		{"studio without studio", `{"kind":"studio_project","title":"t","level":"city"}`, 400, "INVALID_ARGUMENT", "studioId"},
		{"unknown kind", `{"kind":"idea","title":"t","level":"city"}`, 400, "INVALID_ARGUMENT", "kind"},
		{"no title", `{"kind":"breakthrough","level":"city"}`, 400, "INVALID_ARGUMENT", "title"},
		{"unknown role", `{"kind":"breakthrough","title":"t","level":"city","role":"boss"}`, 400, "INVALID_ARGUMENT", "role"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/innovations", tc.body, nil)
			if code != tc.status || eb.Code != tc.code || eb.Field != tc.field {
				t.Errorf("got %d %+v, want %d %s field %q", code, eb, tc.status, tc.code, tc.field)
			}
		})
	}
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/innovations", `{"kind":"five_small","category":"suggestion","title":"省料建议","level":"enterprise","occurredAt":"2023-03-01"}`, nil); code != 201 {
		t.Errorf("five-small: %d %+v", code, eb)
	}
	if n := e.Count("craftsman-w", events.TypeInnovationRecognised); n != 2 {
		t.Errorf("%d innovations", n)
	}
}

func TestBackfill(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w1", events.Senior)
	e.register("w2", events.Technician)
	file := strings.Join([]string{
		`{"craftsmanId":"w1","code":"city_craftsman","occurredAt":"2016-05-01"}`,
		`{"craftsmanId":"w2","code":"provincial_model_worker","occurredAt":"2012-04-28","withdrawn":{"reason":"revoked","occurredAt":"2014-01-01"}}`,
		`{"craftsmanId":"w1","code":"city_craftsman"}`,
		`{"craftsmanId":"ghost","code":"city_craftsman","occurredAt":"2016-05-01"}`,
		`{"craftsmanId":"w1","kind":"patent","occurredAt":"2016-05-01"}`,
		``,
		`{"craftsmanId":"w2","code":"enterprise_craftsman","level":"national","occurredAt":"2019-01-01"}`,
		`not json`,
		`{"craftsmanId":"w1","code":"provincial_craftsman","occurredAt":"2018-05-01","withdrawn":{"reason":"x","occurredAt":"2017-01-01"}}`,
	}, "\n")
	code, lines, sum := e.Backfill("issuer", "/v1/backfill/honours", "application/x-ndjson", file)
	if code != 200 {
		t.Fatalf("backfill: %d", code)
	}
	want := map[int]string{1: "", 2: "", 3: "INVALID_ARGUMENT", 4: "NOT_FOUND", 5: "INVALID_ARGUMENT", 7: "INVALID_ARGUMENT", 8: "INVALID_ARGUMENT", 9: "INVALID_ARGUMENT"}
	for line, code := range want {
		lr, ok := lines[line]
		if !ok || lr.OK != (code == "") || lr.Code != code {
			t.Errorf("line %d: %+v, want code %q", line, lr, code)
		}
	}
	if sum.Summary.Lines != 8 || sum.Summary.OK != 2 || sum.Summary.Failed != 6 {
		t.Errorf("summary %+v", sum.Summary)
	}
	if n := e.Count("craftsman-w2", events.TypeHonourWithdrawn); n != 1 {
		t.Errorf("w2 has %d withdrawals", n)
	}
	if n := e.Count("craftsman-w1", events.TypeHonourConferred); n != 1 {
		t.Errorf("w1 has %d honours: a refused line wrote", n)
	}
	evs, _ := e.Store.ReadStream(context.Background(), "craftsman-w1", eventstore.ReadOptions{})
	m, _ := command.DecodeMetadata(evs[len(evs)-1].Metadata)
	if m.Source != "import" || m.OccurredAt.Year() != 2016 || !strings.HasPrefix(m.CorrelationID, "backfill-") {
		t.Errorf("back-filled metadata %+v", m)
	}
	// Importing the same file again writes nothing new.
	_, lines, sum = e.Backfill("issuer", "/v1/backfill/honours", "application/x-ndjson", file)
	if sum.Summary.OK != 2 || sum.Summary.Replayed != 2 || !lines[1].Replayed || !lines[2].Replayed {
		t.Errorf("re-import: %+v %+v %+v", sum.Summary, lines[1], lines[2])
	}
	if n1, n2 := e.Count("craftsman-w1", events.TypeHonourConferred), e.Count("craftsman-w2", events.TypeHonourConferred); n1 != 1 || n2 != 1 {
		t.Errorf("after re-import: %d and %d honours", n1, n2)
	}
	// Innovations.
	_, lines, sum = e.Backfill("issuer", "/v1/backfill/innovations", "application/x-ndjson",
		`{"craftsmanId":"w1","kind":"breakthrough","title":"主轴故障攻关","level":"provincial","occurredAt":"2018-09-01"}`+"\n"+
			`{"craftsmanId":"w1","kind":"five_small","title":"x","level":"enterprise","occurredAt":"2018-09-01"}`)
	if sum.Summary.OK != 1 || lines[2].Code != "INVALID_ARGUMENT" {
		t.Errorf("innovations: %+v %+v", sum.Summary, lines)
	}
	// Refused as a whole.
	if code, _, _ := e.Backfill("issuer", "/v1/backfill/honours", "text/csv", "craftsmanId,code\nw1,city_craftsman\n"); code != 400 {
		t.Errorf("CSV: %d, want 400", code)
	}
	if code, _, _ := e.Backfill("hr", "/v1/backfill/honours", "application/x-ndjson", file); code != 403 {
		t.Errorf("hr: %d, want 403", code)
	}
}

// TestWhoMayConfer: a catalogue honour is recorded only by an organisation
// acting as its conferring body; an enterprise or academy honour and an
// innovation only by an organisation linked to the worker (registrar,
// current employer, academy of an enrolment); a national, provincial or
// city honour outside the catalogue only by an admin. No refusal writes.
func TestWhoMayConfer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", events.Technician)
	e.Seed("craftsman-w", now.AddDate(-1, 0, 0), events.EmploymentStarted{CraftsmanID: "w", EmploymentID: "e1", EmployerOrgID: orgEmployer, Trade: events.Trade{Code: trade}})
	e.register("left", events.Technician)
	// "left" worked for orgEmployer from 2023-11-20 to 2024-11-20.
	e.Seed("craftsman-left", now.AddDate(-2, 0, 0), events.EmploymentStarted{CraftsmanID: "left", EmploymentID: "e1", EmployerOrgID: orgEmployer, Trade: events.Trade{Code: trade}})
	e.Seed("craftsman-left", now.AddDate(-1, 0, 0), events.EmploymentEnded{CraftsmanID: "left", EmploymentID: "e1"})
	national := `{"code":"fake_star","name":"假荣誉","level":"national","conferringBody":"国务院","occurredAt":"2023-06-01"}`
	shop := func(id string) string {
		return `{"honourId":"` + id + `","code":"shop_star","name":"车间之星","level":"enterprise","conferringBody":"works council","occurredAt":"2023-06-01"}`
	}
	innovation := func(id string) string {
		return `{"innovationId":"` + id + `","kind":"five_small","category":"suggestion","title":"省料建议","level":"enterprise","occurredAt":"2023-03-01"}`
	}
	catalogue := func(code, id string) string {
		return `{"honourId":"` + id + `","code":"` + code + `","occurredAt":"2024-12-01"}`
	}
	for _, tc := range []struct {
		name, caller, path, body string
		status                   int
	}{
		// Refused: nothing is written.
		{"unlinked issuer, national honour outside the catalogue", "otherIssuer", "/v1/craftsmen/w/honours", national, 403},
		{"linked issuer, national honour outside the catalogue", "issuer", "/v1/craftsmen/w/honours", national, 403},
		{"employer, provincial honour outside the catalogue", "employer", "/v1/craftsmen/w/honours",
			`{"code":"fake_prov","level":"provincial","conferringBody":"x","occurredAt":"2023-06-01"}`, 403},
		{"unlinked issuer, catalogue honour of another body", "otherIssuer", "/v1/craftsmen/w/honours", catalogue("national_technical_expert", "n1"), 403},
		{"employer, catalogue honour of another body", "employer", "/v1/craftsmen/w/honours", catalogue("city_model_worker", "n2"), 403},
		{"mohrss, catalogue honour of ACFTU", "mohrss", "/v1/craftsmen/w/honours", catalogue("national_may_day_medal", "n3"), 403},
		{"unlinked issuer, enterprise honour", "otherIssuer", "/v1/craftsmen/w/honours", shop("s0"), 403},
		{"unlinked issuer, enterprise catalogue honour", "otherIssuer", "/v1/craftsmen/w/honours", catalogue("enterprise_craftsman", "s00"), 403},
		{"former employer, enterprise honour from before", "employer", "/v1/craftsmen/left/honours", shop("s1"), 403},
		{"former employer, enterprise honour from after", "employer", "/v1/craftsmen/left/honours",
			`{"honourId":"s2","code":"shop_star","level":"enterprise","conferringBody":"works council","occurredAt":"2025-06-01"}`, 403},
		{"unlinked issuer, innovation", "otherIssuer", "/v1/craftsmen/w/innovations", innovation("i0"), 403},
		{"former employer, innovation", "employer", "/v1/craftsmen/left/innovations", innovation("i1"), 403},
		// Allowed.
		{"admin, national honour outside the catalogue", "admin", "/v1/craftsmen/w/honours", national, 201},
		{"the body by its id, catalogue honour", "mohrss", "/v1/craftsmen/w/honours", catalogue("national_technical_expert", "ok1"), 201},
		{"a configured body, catalogue honour", "issuer", "/v1/craftsmen/w/honours", catalogue("city_model_worker", "ok2"), 201},
		{"current employer, enterprise honour", "employer", "/v1/craftsmen/w/honours", shop("ok3"), 201},
		{"current employer, enterprise catalogue honour", "employer", "/v1/craftsmen/w/honours", catalogue("enterprise_craftsman", "ok4"), 201},
		{"academy of an enrolment, academy honour", "issuer", "/v1/craftsmen/w/honours",
			`{"honourId":"ok5","code":"academy_star","level":"academy","conferringBody":"academy-1","occurredAt":"2023-06-01"}`, 201},
		{"registrar, enterprise honour", "registrar", "/v1/craftsmen/left/honours", shop("ok6"), 201},
		{"former employer, enterprise honour of that time", "employer", "/v1/craftsmen/left/honours",
			`{"honourId":"ok6b","code":"shop_star","level":"enterprise","conferringBody":"works council","occurredAt":"2024-06-01"}`, 201},
		{"current employer, innovation", "employer", "/v1/craftsmen/w/innovations", innovation("ok7"), 201},
		{"academy of an enrolment, innovation", "issuer", "/v1/craftsmen/w/innovations", innovation("ok8"), 201},
		{"admin, innovation of an unlinked worker", "admin", "/v1/craftsmen/left/innovations", innovation("ok9"), 201},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stream := "craftsman-w"
			if strings.Contains(tc.path, "/left/") {
				stream = "craftsman-left"
			}
			before := len(e.Types(stream))
			code, eb := e.Do(tc.caller, "POST", tc.path, tc.body, nil)
			if code != tc.status {
				t.Fatalf("%d %+v, want %d", code, eb, tc.status)
			}
			wrote := len(e.Types(stream)) - before
			if tc.status == 403 && (eb.Code != "PERMISSION_DENIED" || wrote != 0) {
				t.Errorf("refusal %s wrote %d events", eb.Code, wrote)
			}
			if tc.status == 201 && wrote != 1 {
				t.Errorf("wrote %d events", wrote)
			}
		})
	}
	// Back-fill lines are checked like the commands, line by line.
	before := len(e.Types("craftsman-w"))
	_, lines, sum := e.Backfill("otherIssuer", "/v1/backfill/honours", "application/x-ndjson", strings.Join([]string{
		`{"craftsmanId":"w","code":"national_model_worker","occurredAt":"2020-05-01"}`,
		`{"craftsmanId":"w","code":"shop_star","level":"enterprise","conferringBody":"works council","occurredAt":"2021-05-01"}`,
		`{"craftsmanId":"w","code":"fake_prov","level":"provincial","conferringBody":"x","occurredAt":"2021-05-01"}`,
	}, "\n"))
	_, ilines, _ := e.Backfill("otherIssuer", "/v1/backfill/innovations", "application/x-ndjson",
		`{"craftsmanId":"w","kind":"five_small","category":"suggestion","title":"省料建议","level":"enterprise","occurredAt":"2023-03-01"}`)
	for i := 1; i <= 3; i++ {
		if lines[i].Code != "PERMISSION_DENIED" {
			t.Errorf("back-fill honour line %d: %+v, want PERMISSION_DENIED", i, lines[i])
		}
	}
	if ilines[1].Code != "PERMISSION_DENIED" {
		t.Errorf("back-fill innovation line: %+v, want PERMISSION_DENIED", ilines[1])
	}
	if sum.Summary.OK != 0 || len(e.Types("craftsman-w")) != before {
		t.Errorf("refused back-fill lines wrote: %+v", sum)
	}
}

// TestWritersUnchecked: without CheckWriters (the all-in-one's default
// for now) any issuer may record a catalogue honour, an enterprise honour
// or an innovation, but a national, provincial or city honour outside the
// catalogue still needs an admin.
func TestWritersUnchecked(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, honour.Options{})
	e.register("w", events.Technician)
	for _, tc := range []struct{ path, body string }{
		{"/v1/craftsmen/w/honours", `{"code":"city_craftsman","occurredAt":"2024-01-01"}`},
		{"/v1/craftsmen/w/honours", `{"code":"shop_star","level":"enterprise","conferringBody":"works council","occurredAt":"2023-06-01"}`},
		{"/v1/craftsmen/w/innovations", `{"kind":"five_small","category":"suggestion","title":"省料建议","level":"enterprise","occurredAt":"2023-03-01"}`},
	} {
		if code, eb := e.Do("otherIssuer", "POST", tc.path, tc.body, nil); code != 201 {
			t.Errorf("unchecked %s %s: %d %+v, want 201", tc.path, tc.body, code, eb)
		}
	}
	if code, eb := e.Do("otherIssuer", "POST", "/v1/craftsmen/w/honours", `{"code":"fake_star","level":"national","conferringBody":"国务院","occurredAt":"2023-06-01"}`, nil); code != 403 || eb.Code != "PERMISSION_DENIED" {
		t.Errorf("national honour outside the catalogue: %d %+v, want 403", code, eb)
	}
}

// TestKeyedRetryAcrossMidnight: a request without occurredAt is dated
// today, so its default id cannot come from the date when it is retried
// with the same Idempotency-Key after midnight: the key gives the honour
// and the innovation their ids, the retry replays the first result, and
// the key reused for another body is refused; another organisation's
// same key is its own.
func TestKeyedRetryAcrossMidnight(t *testing.T) {
	t.Parallel()
	var clock atomic.Int64
	clock.Store(time.Date(2025, 11, 20, 23, 59, 50, 0, time.UTC).UnixNano())
	nowf := func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	e := &env{servicetest.Start(t, servicetest.Config{Now: nowf(), Seal: servicekit.Seal,
		Callers: map[string]auth.Claims{
			"issuer": {Subject: "u-academy", Role: auth.RoleIssuer, OrgID: orgAcademy},
			"admin":  {Subject: "u-admin", Role: auth.RoleAdmin},
		},
		Handler: func(st eventstore.Store) (http.Handler, error) {
			svc, err := honour.New(st, nowf, honour.Options{CheckWriters: true, ConferringBodies: testBodies()})
			if err != nil {
				return nil, err
			}
			return honour.NewHTTPHandler(svc, slog.New(slog.DiscardHandler), auth.DevKey(), honour.HTTPOptions{}), nil
		},
	})}
	e.register("w", events.Technician)
	hon := `{"code":"national_technical_expert"}`
	inno := `{"kind":"five_small","category":"invention","title":"快速接线夹","level":"enterprise"}`
	var h1, i1 command.Result
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/honours", hon, &h1, "Idempotency-Key", "req-42"); code != 201 {
		t.Fatalf("honour: %d %+v", code, eb)
	}
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/innovations", inno, &i1, "Idempotency-Key", "req-43"); code != 201 {
		t.Fatalf("innovation: %d %+v", code, eb)
	}
	clock.Add(int64(20 * time.Second)) // the client's retry, after midnight UTC
	var h2, i2 command.Result
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/honours", hon, &h2, "Idempotency-Key", "req-42"); code != 200 || !h2.Replayed || h2.EventIDs[0] != h1.EventIDs[0] {
		t.Errorf("honour retried after midnight: %d %+v %+v, want a replay of %+v", code, eb, h2, h1)
	}
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/innovations", inno, &i2, "Idempotency-Key", "req-43"); code != 200 || !i2.Replayed || i2.EventIDs[0] != i1.EventIDs[0] {
		t.Errorf("innovation retried after midnight: %d %+v %+v, want a replay of %+v", code, eb, i2, i1)
	}
	// The key reused for another body is refused, not recorded.
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/honours", `{"code":"city_craftsman"}`, nil, "Idempotency-Key", "req-42"); code != 422 || eb.Code != "FAILED_PRECONDITION" {
		t.Errorf("key reused for another honour: %d %+v, want 422", code, eb)
	}
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/innovations", `{"kind":"breakthrough","title":"攻关","level":"enterprise"}`, nil, "Idempotency-Key", "req-43"); code != 422 || eb.Code != "FAILED_PRECONDITION" {
		t.Errorf("key reused for another innovation: %d %+v, want 422", code, eb)
	}
	if n, m := e.Count("craftsman-w", events.TypeHonourConferred), e.Count("craftsman-w", events.TypeInnovationRecognised); n != 1 || m != 1 {
		t.Fatalf("%d honours and %d innovations, want 1 and 1", n, m)
	}
	// Another organisation's key of the same name is its own request.
	if code, eb := e.Do("admin", "POST", "/v1/craftsmen/w/honours", hon, nil, "Idempotency-Key", "req-42"); code != 201 {
		t.Errorf("admin's own req-42: %d %+v, want 201", code, eb)
	}
}
