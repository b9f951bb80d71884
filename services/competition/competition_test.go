package competition_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/services/competition"
)

// classOne is a national class-I trade competition's definition
// (POLICY.md): employees ranks 1–5 → technician (technician → senior
// technician), ranks 6–20 → senior (senior → technician), students ranks
// 1–5 → senior; top 5 → 全国技术能手; approval required; at most one
// competition promotion a year.
func classOne(id string) string {
	return `{"competitionId":"` + id + `","name":"全国行业职业技能竞赛","tier":"national_class_1",
	"trades":[{"code":"` + trade + `","name":"电工"}],"tracks":["employees","students"],
	"startsOn":"2025-09-01","endsOn":"2025-09-05",
	"rules":{"grants":[
		{"id":"emp-1-5","band":{"track":"employees","fromRank":1,"toRank":5},"level":"technician","raiseIfHeld":true},
		{"id":"emp-6-20","band":{"track":"employees","fromRank":6,"toRank":20},"level":"senior","raiseIfHeld":true},
		{"id":"stu-1-5","band":{"track":"students","fromRank":1,"toRank":5},"level":"senior"}],
	"honours":[{"band":{"track":"employees","fromRank":1,"toRank":5},"honourCode":"national_technical_expert","level":"national","conferringBody":"MOHRSS"}],
	"requiresApproval":true,"maxPromotionsPerYear":1}}`
}

// classOneOn is classOne held on the one day startsOn (its year's
// competition).
func classOneOn(id, startsOn string) string {
	return strings.Replace(classOne(id), `"startsOn":"2025-09-01","endsOn":"2025-09-05"`, `"startsOn":"`+startsOn+`","endsOn":"`+startsOn+`"`, 1)
}

func TestDefineCompetition(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var res command.Result
	if code, eb := e.Do("issuer", "POST", "/v1/competitions", classOne("c1"), &res); code != 201 {
		t.Fatalf("define: %d %+v", code, eb)
	}
	if res.Stream != "competition-c1" || res.Revision != 0 || len(res.EventIDs) != 1 {
		t.Errorf("result %+v", res)
	}
	if got := e.Types("competition-c1"); !cmp.Equal(got, []string{events.TypeCompetitionDefined}) {
		t.Errorf("stream %v", got)
	}
	// The same definition again (a retry) is answered as first recorded.
	var again command.Result
	if code, eb := e.Do("issuer", "POST", "/v1/competitions", classOne("c1"), &again); code != 200 || !again.Replayed || !cmp.Equal(again.EventIDs, res.EventIDs) || again.Position != res.Position {
		t.Errorf("define again: %d %+v %+v", code, eb, again)
	}
	tests := []struct {
		name, caller, body string
		status             int
		code, field        string
	}{
		{"same id, other definition", "issuer", strings.Replace(classOne("c1"), "全国行业职业技能竞赛", "另一个竞赛", 1), 409, "CONFLICT", "competitionId"},
		{"no token", "", classOne("c2"), 401, "UNAUTHENTICATED", ""},
		{"worker", "worker", classOne("c2"), 403, "PERMISSION_DENIED", ""},
		{"hr", "hr", classOne("c2"), 403, "PERMISSION_DENIED", ""},
		{"organiser of another organisation", "otherIssuer", strings.Replace(classOne("c2"), `"tier"`, `"organiser":"`+orgFed+`","tier"`, 1), 403, "PERMISSION_DENIED", ""},
		{"unknown tier", "issuer", strings.Replace(classOne("c2"), "national_class_1", "galactic", 1), 400, "INVALID_ARGUMENT", "tier"},
		{"unknown field", "issuer", strings.Replace(classOne("c2"), `"tier"`, `"colour":"red","tier"`, 1), 400, "INVALID_ARGUMENT", "colour"},
		{"bad rank band", "issuer", strings.Replace(classOne("c2"), `"fromRank":6,"toRank":20`, `"fromRank":20,"toRank":6`, 1), 400, "INVALID_ARGUMENT", "rules.grants[1].band.fromRank"},
		{"bad trade code", "issuer", strings.Replace(classOne("c2"), trade, "6-31", 1), 400, "INVALID_ARGUMENT", "trades[0].code"},
		{"unknown level", "issuer", strings.Replace(classOne("c2"), `"level":"senior"`, `"level":"grandmaster"`, 1), 400, "INVALID_ARGUMENT", ""},
		{"grants without approval", "issuer", strings.Replace(classOne("c2"), `"requiresApproval":true`, `"requiresApproval":false`, 1), 400, "INVALID_ARGUMENT", "rules.requiresApproval"},
		{"grants, approval omitted", "issuer", strings.Replace(classOne("c2"), `"requiresApproval":true,`, ``, 1), 400, "INVALID_ARGUMENT", "rules.requiresApproval"},
		{"ends before start", "issuer", strings.Replace(classOne("c2"), "2025-09-05", "2025-08-01", 1), 400, "INVALID_ARGUMENT", "endsOn"},
		{"malformed", "issuer", `{"competitionId":`, 400, "INVALID_ARGUMENT", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, eb := e.Do(tc.caller, "POST", "/v1/competitions", tc.body, nil)
			if code != tc.status || eb.Code != tc.code || (tc.field != "" && eb.Field != tc.field) {
				t.Errorf("got %d %+v, want %d %s field %q", code, eb, tc.status, tc.code, tc.field)
			}
		})
	}
	if got := e.Types("competition-c2"); got != nil {
		t.Errorf("a refused definition wrote %v", got)
	}
	// Rules that grant no level (honours only) need no approval.
	honoursOnly := `{"competitionId":"c4","name":"班组赛","tier":"enterprise","trades":[{"code":"` + trade + `"}],"tracks":["employees"],
	"rules":{"honours":[{"band":{"fromRank":1,"toRank":1},"honourCode":"enterprise_craftsman","level":"enterprise","conferringBody":"` + orgFed + `"}]}}`
	if code, eb := e.Do("issuer", "POST", "/v1/competitions", honoursOnly, nil); code != 201 {
		t.Errorf("honours only, no approval: %d %+v", code, eb)
	}
	// An admin may define for any organiser.
	if code, eb := e.Do("admin", "POST", "/v1/competitions", strings.Replace(classOne("c3"), `"tier"`, `"organiser":"`+orgOther+`","tier"`, 1), nil); code != 201 {
		t.Errorf("admin define: %d %+v", code, eb)
	}
}

func publish(placements ...string) string {
	return `{"occurredAt":"2025-09-05","placements":[` + strings.Join(placements, ",") + `]}`
}

func pl(worker, track string, rank int) string {
	return fmt.Sprintf(`{"craftsmanId":%q,"track":%q,"rank":%d}`, worker, track, rank)
}

func TestPublishResults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("tech", events.Technician)
	e.register("novice", 0)
	e.register("student", 0)
	e.register("late", events.Senior)
	e.register("master", events.SeniorTechnician)
	if code, eb := e.Do("issuer", "POST", "/v1/competitions", classOne("c1"), nil); code != 201 {
		t.Fatalf("define: %d %+v", code, eb)
	}
	body := publish(pl("tech", "employees", 1), pl("novice", "employees", 3), pl("student", "students", 2),
		pl("late", "employees", 30), pl("master", "employees", 2))
	var first competition.PublishResultsResponse
	if code, eb := e.Do("issuer", "POST", "/v1/competitions/c1/results", body, &first); code != 201 {
		t.Fatalf("publish: %d %+v", code, eb)
	}
	type got struct {
		Worker, Level, Withheld string
		Honours                 int
	}
	summarise := func(r competition.PublishResultsResponse) []got {
		var out []got
		for _, p := range r.Placements {
			g := got{Worker: p.CraftsmanID, Withheld: p.Withheld, Honours: len(p.Honours)}
			if p.Entitlement != nil {
				g.Level = p.Entitlement.Level.String()
			}
			out = append(out, g)
		}
		return out
	}
	want := []got{
		{"tech", "senior_technician", "", 1}, // technician held → raised
		{"novice", "technician", "", 1},      // ranks 1–5 → technician
		{"student", "senior", "", 0},         // students 1–5 → senior
		{"late", "", "", 0},                  // rank 30: no band
		{"master", "", "rule emp-1-5 grants technician but senior_technician is already held", 1}, // nothing above what is held
	}
	if diff := cmp.Diff(want, summarise(first)); diff != "" {
		t.Errorf("placements (-want +got):\n%s", diff)
	}
	if first.Replayed || first.Publication.Stream != "competition-c1" || first.Publication.Revision != 1 {
		t.Errorf("publication %+v replayed=%v", first.Publication, first.Replayed)
	}
	if got := e.Types("craftsman-tech"); !cmp.Equal(got[len(got)-2:], []string{events.TypeCompetitionPlaced, events.TypePromotionEntitlementGranted}) {
		t.Errorf("tech's stream %v", got)
	}
	if p := first.Placements[0]; p.PlacementEventID != p.EventIDs[0] || p.Stream != "craftsman-tech" || p.Revision != 3 {
		t.Errorf("tech's placement result %+v", p)
	}
	if first.Position.Less(first.Placements[4].Position) {
		t.Errorf("answer position %+v before the last placement's %+v", first.Position, first.Placements[4].Position)
	}

	// The same publication again (a client retry): nothing new, the same answer.
	var again competition.PublishResultsResponse
	if code, eb := e.Do("issuer", "POST", "/v1/competitions/c1/results", body, &again); code != 200 {
		t.Fatalf("republish: %d %+v", code, eb)
	}
	if !again.Replayed {
		t.Error("republication not marked replayed")
	}
	for i := range first.Placements {
		a, b := first.Placements[i], again.Placements[i]
		if !b.Replayed || a.Revision != b.Revision || a.Position != b.Position || !cmp.Equal(a.EventIDs, b.EventIDs) || !cmp.Equal(a.Entitlement, b.Entitlement) {
			t.Errorf("replayed placement %d:\nfirst %+v\nagain %+v", i, a, b)
		}
	}
	for _, w := range []string{"tech", "novice", "student", "late", "master"} {
		if n := e.Count("craftsman-"+w, events.TypeCompetitionPlaced); n != 1 {
			t.Errorf("%s has %d placements", w, n)
		}
	}
	if n := e.Count("craftsman-tech", events.TypePromotionEntitlementGranted); n != 1 {
		t.Errorf("tech has %d entitlements", n)
	}
	if n := e.Count("competition-c1", events.TypeCompetitionResultsPublished); n != 1 {
		t.Errorf("competition has %d publications", n)
	}

	// A second publication adding one placement writes only that one.
	e.register("extra", 0)
	var more competition.PublishResultsResponse
	if code, eb := e.Do("issuer", "POST", "/v1/competitions/c1/results", publish(pl("tech", "employees", 1), pl("extra", "employees", 7)), &more); code != 201 {
		t.Fatalf("publish more: %d %+v", code, eb)
	}
	if !more.Placements[0].Replayed || more.Placements[1].Replayed || more.Placements[1].Entitlement == nil || more.Placements[1].Entitlement.Level != events.Senior {
		t.Errorf("more: %+v", more.Placements)
	}

	rejections := []struct {
		name, caller, path, body string
		status                   int
		code, field              string
	}{
		{"changed rank", "issuer", "/v1/competitions/c1/results", publish(pl("tech", "employees", 2)), 409, "CONFLICT", "placements[0]"},
		{"unknown worker", "issuer", "/v1/competitions/c1/results", publish(pl("new1", "employees", 4), pl("ghost", "employees", 1)), 404, "NOT_FOUND", "placements[1].craftsmanId"},
		{"unknown competition", "issuer", "/v1/competitions/nope/results", publish(pl("tech", "employees", 1)), 404, "NOT_FOUND", ""},
		{"other organisation", "otherIssuer", "/v1/competitions/c1/results", publish(pl("novice", "employees", 3)), 403, "PERMISSION_DENIED", ""},
		{"hr may not publish", "hr", "/v1/competitions/c1/results", publish(pl("novice", "employees", 3)), 403, "PERMISSION_DENIED", ""},
		{"unknown track", "issuer", "/v1/competitions/c1/results", publish(pl("novice", "juniors", 3)), 400, "INVALID_ARGUMENT", "placements[0].track"},
		{"rank zero", "issuer", "/v1/competitions/c1/results", publish(pl("novice", "employees", 0)), 400, "INVALID_ARGUMENT", "placements[0].rank"},
		{"twice in one list", "issuer", "/v1/competitions/c1/results", publish(pl("novice", "employees", 3), pl("novice", "employees", 3)), 400, "INVALID_ARGUMENT", "placements[1].craftsmanId"},
		{"no placements", "issuer", "/v1/competitions/c1/results", publish(), 400, "INVALID_ARGUMENT", "placements"},
		{"dated before the competition", "issuer", "/v1/competitions/c1/results", `{"occurredAt":"2025-08-31","placements":[` + pl("novice", "employees", 3) + `]}`, 400, "INVALID_ARGUMENT", "occurredAt"},
		{"future date", "issuer", "/v1/competitions/c1/results", `{"occurredAt":"2031-01-01","placements":[` + pl("novice", "employees", 3) + `]}`, 400, "INVALID_ARGUMENT", "occurredAt"},
		{"wrong trade", "issuer", "/v1/competitions/c1/results", `{"placements":[{"craftsmanId":"novice","track":"employees","rank":1,"trade":{"code":"6-01-01-01"}}]}`, 400, "INVALID_ARGUMENT", "placements[0].trade.code"},
	}
	e.register("new1", 0)
	for _, tc := range rejections {
		t.Run(tc.name, func(t *testing.T) {
			code, eb := e.Do(tc.caller, "POST", tc.path, tc.body, nil)
			if code != tc.status || eb.Code != tc.code || eb.Field != tc.field {
				t.Errorf("got %d %+v, want %d %s field %q", code, eb, tc.status, tc.code, tc.field)
			}
		})
	}
	// Refused publications wrote nothing.
	if n := e.Count("competition-c1", events.TypeCompetitionResultsPublished); n != 2 {
		t.Errorf("competition has %d publications, want 2", n)
	}
	if n := e.Count("craftsman-new1", events.TypeCompetitionPlaced); n != 0 {
		t.Errorf("a refused publication placed new1")
	}
	for _, s := range []string{"competition-c1", "craftsman-tech", "craftsman-extra", "craftsman-master"} {
		e.VerifyChain(s)
	}
	if n := e.Count("craftsman-tech", events.TypeCompetitionPlaced); n != 1 {
		t.Errorf("tech has %d placements after a changed rank", n)
	}
}

// Concurrent retries of one publication record each placement once.
func TestPublishConcurrentRetries(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := range 4 {
		e.register(fmt.Sprintf("w%d", i), 0)
	}
	if code, eb := e.Do("issuer", "POST", "/v1/competitions", classOne("c1"), nil); code != 201 {
		t.Fatalf("define: %d %+v", code, eb)
	}
	body := publish(pl("w0", "employees", 1), pl("w1", "employees", 2), pl("w2", "employees", 8), pl("w3", "students", 1))
	var wg sync.WaitGroup
	codes := make([]int, 6)
	ents := make([]string, 6)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r competition.PublishResultsResponse
			codes[i], _ = e.Do("issuer", "POST", "/v1/competitions/c1/results", body, &r)
			if len(r.Placements) > 0 && r.Placements[0].Entitlement != nil {
				ents[i] = r.Placements[0].Entitlement.EntitlementID
			}
		}()
	}
	wg.Wait()
	created := 0
	for i, c := range codes {
		switch c {
		case 201:
			created++
		case 200:
		default:
			t.Errorf("request %d: status %d", i, c)
		}
		if ents[i] != ents[0] || ents[i] == "" {
			t.Errorf("request %d: entitlement %q, first %q", i, ents[i], ents[0])
		}
	}
	if created == 0 {
		t.Error("no request reported writing")
	}
	for i := range 4 {
		s := fmt.Sprintf("craftsman-w%d", i)
		if p, g := e.Count(s, events.TypeCompetitionPlaced), e.Count(s, events.TypePromotionEntitlementGranted); p != 1 || g != 1 {
			t.Errorf("%s: %d placements, %d entitlements", s, p, g)
		}
	}
	if n := e.Count("competition-c1", events.TypeCompetitionResultsPublished); n != 1 {
		t.Errorf("%d publications", n)
	}
}

// At most one competition promotion per calendar year: a second
// competition the same year records the placement but grants nothing; the
// next year grants again.
func TestYearlyCap(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", 0)
	for id, on := range map[string]string{"a": "2024-04-20", "b": "2024-10-20", "c": "2025-02-20"} {
		if code, eb := e.Do("issuer", "POST", "/v1/competitions", classOneOn(id, on), nil); code != 201 {
			t.Fatalf("define %s: %d %+v", id, code, eb)
		}
	}
	var a, b, c competition.PublishResultsResponse
	e.Do("issuer", "POST", "/v1/competitions/a/results", `{"occurredAt":"2024-05-01","placements":[`+pl("w", "employees", 10)+`]}`, &a)
	e.Do("issuer", "POST", "/v1/competitions/b/results", `{"occurredAt":"2024-11-01","placements":[`+pl("w", "employees", 1)+`]}`, &b)
	e.Do("issuer", "POST", "/v1/competitions/c/results", `{"occurredAt":"2025-03-01","placements":[`+pl("w", "employees", 1)+`]}`, &c)
	if a.Placements[0].Entitlement == nil || a.Placements[0].Entitlement.Level != events.Senior {
		t.Errorf("first of 2024: %+v", a.Placements[0])
	}
	if b.Placements[0].Entitlement != nil || !strings.Contains(b.Placements[0].Withheld, "yearly cap") {
		t.Errorf("second of 2024 not capped: %+v", b.Placements[0])
	}
	if c.Placements[0].Entitlement == nil || c.Placements[0].Entitlement.Level != events.Technician {
		t.Errorf("2025: %+v", c.Placements[0])
	}
	if n := e.Count("craftsman-w", events.TypeCompetitionPlaced); n != 3 {
		t.Errorf("%d placements, want 3 (capped placements are still recorded)", n)
	}
	if n := e.Count("craftsman-w", events.TypePromotionEntitlementGranted); n != 2 {
		t.Errorf("%d entitlements, want 2", n)
	}
	// Out of order: a later-dated result recorded first still counts.
	e.register("v", 0)
	var late, early competition.PublishResultsResponse
	e.Do("issuer", "POST", "/v1/competitions/b/results", `{"occurredAt":"2024-11-01","placements":[`+pl("v", "employees", 1)+`]}`, &late)
	e.Do("issuer", "POST", "/v1/competitions/a/results", `{"occurredAt":"2024-05-01","placements":[`+pl("v", "employees", 10)+`]}`, &early)
	if late.Placements[0].Entitlement == nil || early.Placements[0].Entitlement != nil || !strings.Contains(early.Placements[0].Withheld, "yearly cap") {
		t.Errorf("out of order: later %+v, earlier %+v", late.Placements[0], early.Placements[0])
	}
}

func TestApproveEntitlement(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", events.Technician)
	e.Do("issuer", "POST", "/v1/competitions", classOne("c1"), nil)
	var r competition.PublishResultsResponse
	if code, eb := e.Do("issuer", "POST", "/v1/competitions/c1/results", publish(pl("w", "employees", 1)), &r); code != 201 {
		t.Fatalf("publish: %d %+v", code, eb)
	}
	ent := r.Placements[0].Entitlement.EntitlementID
	path := "/v1/craftsmen/w/entitlements/" + ent + "/approve"
	rejections := []struct {
		name, caller, path, body string
		status                   int
		code, field              string
	}{
		{"issuer may not approve", "issuer", path, `{"approvalRef":"津人社 2025-17"}`, 403, "PERMISSION_DENIED", ""},
		{"worker may not approve", "worker", path, `{"approvalRef":"津人社 2025-17"}`, 403, "PERMISSION_DENIED", ""},
		{"hr of a non-authority", "otherHR", path, `{"approvalRef":"津人社 2025-17"}`, 403, "PERMISSION_DENIED", ""},
		{"hr for another organisation", "hr", path, `{"approvalRef":"x","approvingOrgId":"elsewhere"}`, 403, "PERMISSION_DENIED", "approvingOrgId"},
		{"no reference", "hr", path, `{}`, 400, "INVALID_ARGUMENT", "approvalRef"},
		{"before the grant", "hr", path, `{"approvalRef":"x","occurredAt":"2025-01-01"}`, 400, "INVALID_ARGUMENT", "occurredAt"},
		{"unknown entitlement", "hr", "/v1/craftsmen/w/entitlements/ent-nope/approve", `{"approvalRef":"x"}`, 404, "NOT_FOUND", ""},
		{"unknown worker", "hr", "/v1/craftsmen/ghost/entitlements/" + ent + "/approve", `{"approvalRef":"x"}`, 404, "NOT_FOUND", ""},
	}
	for _, tc := range rejections {
		t.Run(tc.name, func(t *testing.T) {
			code, eb := e.Do(tc.caller, "POST", tc.path, tc.body, nil)
			if code != tc.status || eb.Code != tc.code || eb.Field != tc.field {
				t.Errorf("got %d %+v, want %d %s field %q", code, eb, tc.status, tc.code, tc.field)
			}
		})
	}
	if n := e.Count("craftsman-w", events.TypePromotionEntitlementApproved); n != 0 {
		t.Fatalf("refused approvals wrote %d events", n)
	}
	var ok, again command.Result
	if code, eb := e.Do("hr", "POST", path, `{"approvalRef":"津人社 2025-17","occurredAt":"2025-10-10"}`, &ok); code != 201 {
		t.Fatalf("approve: %d %+v", code, eb)
	}
	if code, eb := e.Do("hr", "POST", path, `{"approvalRef":"津人社 2025-17","occurredAt":"2025-10-10"}`, &again); code != 200 || !again.Replayed || again.Revision != ok.Revision || !cmp.Equal(again.EventIDs, ok.EventIDs) {
		t.Errorf("approve again: %d %+v %+v (first %+v)", code, eb, again, ok)
	}
	if code, eb := e.Do("admin", "POST", path, `{"approvalRef":"other"}`, nil); code != 422 || eb.Code != "FAILED_PRECONDITION" {
		t.Errorf("second approval under another reference: %d %+v", code, eb)
	}
	if n := e.Count("craftsman-w", events.TypePromotionEntitlementApproved); n != 1 {
		t.Errorf("%d approvals", n)
	}
}

// Results cannot be dated before their competition: the results' date
// decides the year of the yearly cap, and a competition of 2025 whose
// results were dated 2024 would earn a second promotion in 2025.
func TestResultsDatedBeforeCompetition(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", 0)
	noStart := `{"competitionId":"c3","name":"厂内比武","tier":"enterprise","year":2025,"trades":[{"code":"` + trade + `"}],"tracks":["employees"],
	"rules":{"grants":[{"id":"top3","band":{"fromRank":1,"toRank":3},"level":"senior"}],"requiresApproval":true,"maxPromotionsPerYear":1}}`
	for _, d := range []string{classOne("c1"), classOne("c2"), noStart} {
		if code, eb := e.Do("issuer", "POST", "/v1/competitions", d, nil); code != 201 {
			t.Fatalf("define: %d %+v", code, eb)
		}
	}
	var first competition.PublishResultsResponse
	if code, eb := e.Do("issuer", "POST", "/v1/competitions/c1/results", publish(pl("w", "employees", 2)), &first); code != 201 || first.Placements[0].Entitlement == nil {
		t.Fatalf("c1: %d %+v %+v", code, eb, first.Placements)
	}
	for _, tc := range []struct{ name, path, date string }{
		{"a year before its start", "/v1/competitions/c2/results", "2024-12-31"},
		{"the day before its start", "/v1/competitions/c2/results", "2025-08-31"},
		{"before its year (no start given)", "/v1/competitions/c3/results", "2024-12-31"},
	} {
		body := `{"occurredAt":"` + tc.date + `","placements":[` + pl("w", "employees", 2) + `]}`
		if code, eb := e.Do("issuer", "POST", tc.path, body, nil); code != 400 || eb.Code != "INVALID_ARGUMENT" || eb.Field != "occurredAt" {
			t.Errorf("%s: %d %+v, want 400 on occurredAt", tc.name, code, eb)
		}
	}
	if p, g := e.Count("craftsman-w", events.TypeCompetitionPlaced), e.Count("craftsman-w", events.TypePromotionEntitlementGranted); p != 1 || g != 1 {
		t.Errorf("%d placements and %d entitlements, want 1 and 1", p, g)
	}
	// The start date's midnight in China (UTC+8) is on the start date.
	e.register("x", 0)
	if code, eb := e.Do("issuer", "POST", "/v1/competitions/c2/results", `{"occurredAt":"2025-09-01T00:00:00+08:00","placements":[`+pl("x", "employees", 2)+`]}`, nil); code != 201 {
		t.Errorf("results at the start date's midnight in China: %d %+v", code, eb)
	}
	// Dated within the competition's year, the cap applies.
	var r competition.PublishResultsResponse
	if code, eb := e.Do("issuer", "POST", "/v1/competitions/c3/results", `{"occurredAt":"2025-01-02","placements":[`+pl("w", "employees", 2)+`]}`, &r); code != 201 {
		t.Fatalf("c3 in 2025: %d %+v", code, eb)
	}
	if r.Placements[0].Entitlement != nil || !strings.Contains(r.Placements[0].Withheld, "yearly cap") {
		t.Errorf("c3 in 2025 not capped: %+v", r.Placements[0])
	}
}
