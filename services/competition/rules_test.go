package competition_test

import (
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/services/competition"
)

// Team events have their own rank cut-offs; award bands select by the best
// award (WorldSkills gold → senior technician).
func TestTeamsAndAwards(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, w := range []string{"p1", "p2", "solo", "t1", "t2", "gold", "silver"} {
		e.register(w, events.Senior)
	}
	team := `{"competitionId":"team","name":"班组赛","tier":"national_class_2","trades":[{"code":"` + trade + `"}],"tracks":["employees"],
	"rules":{"grants":[
		{"id":"pairs-1-3","band":{"teamSize":2,"fromRank":1,"toRank":3},"level":"technician"},
		{"id":"solo-1-5","band":{"teamSize":1,"fromRank":1,"toRank":5},"level":"technician"}],"requiresApproval":true}}`
	ws := `{"competitionId":"ws","name":"WorldSkills","tier":"world","trades":[{"code":"` + trade + `"}],"tracks":["employees"],
	"rules":{"grants":[{"id":"gold","band":{"minAward":"gold"},"level":"senior_technician"}],"requiresApproval":true}}`
	for _, d := range []string{team, ws} {
		if code, eb := e.Do("admin", "POST", "/v1/competitions", d, nil); code != 201 {
			t.Fatalf("define: %d %+v", code, eb)
		}
	}
	var r competition.PublishResultsResponse
	body := `{"occurredAt":"2025-09-05","placements":[
		{"craftsmanId":"p1","teamSize":2,"teamId":"A","rank":3},
		{"craftsmanId":"p2","teamSize":2,"teamId":"A","rank":3},
		{"craftsmanId":"solo","rank":4},
		{"craftsmanId":"t1","teamSize":2,"teamId":"B","rank":4},
		{"craftsmanId":"t2","teamSize":2,"teamId":"B","rank":4}]}`
	if code, eb := e.Do("admin", "POST", "/v1/competitions/team/results", body, &r); code != 201 {
		t.Fatalf("publish: %d %+v", code, eb)
	}
	want := []string{"technician", "technician", "technician", "", ""}
	for i, p := range r.Placements {
		got := ""
		if p.Entitlement != nil {
			got = p.Entitlement.Level.String()
		}
		if got != want[i] {
			t.Errorf("%s: %q, want %q", p.CraftsmanID, got, want[i])
		}
	}
	if code, eb := e.Do("admin", "POST", "/v1/competitions/team/results", `{"placements":[{"craftsmanId":"t1","teamSize":3,"rank":1}]}`, nil); code != 400 || eb.Field != "placements[0].teamId" {
		t.Errorf("team without id: %d %+v", code, eb)
	}
	var w competition.PublishResultsResponse
	if code, eb := e.Do("admin", "POST", "/v1/competitions/ws/results", `{"occurredAt":"2025-09-20","placements":[{"craftsmanId":"gold","rank":1,"award":"gold"},{"craftsmanId":"silver","rank":2,"award":"silver"}]}`, &w); code != 201 {
		t.Fatalf("worldskills: %d %+v", code, eb)
	}
	if e0, e1 := w.Placements[0].Entitlement, w.Placements[1].Entitlement; e0 == nil || e0.Level != events.SeniorTechnician || e1 != nil {
		t.Errorf("worldskills: gold %+v, silver %+v", e0, e1)
	}
}
