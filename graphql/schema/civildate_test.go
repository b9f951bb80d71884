package schema

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/graphql-go/graphql"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/graphql/readmodel"
	"github.com/craftledger/craftledger/pkg/auth"
)

// TestDatesAreChinaCivilDates: the dates and years the schema derives
// from an occurrence are those of the ledger's calendar (UTC+8,
// career.CivilDate), not of UTC: a certificate of 2020-01-01 00:30 in
// China is of 2020-01-01 and a training of 2025-01-01 07:00 in China
// counts in 2025.
func TestDatesAreChinaCivilDates(t *testing.T) {
	g := &popGen{t: t, m: readmodel.NewMemory(), rng: rand.New(rand.NewPCG(1, 1)), rev: map[string]uint64{}, home: map[string]string{}}
	cst := time.FixedZone("CST", 8*3600)
	id, trade := "tz1", popTrades[0]
	g.add(id, time.Date(2019, 6, 1, 0, 0, 0, 0, time.UTC), events.CraftsmanRegistered{CraftsmanID: id, NationalIDHash: "ab", BirthDate: "1990-01-01"}, "emp1")
	newYear := time.Date(2020, 1, 1, 0, 30, 0, 0, cst) // 2019-12-31T16:30Z
	g.add(id, newYear, events.TradeEntered{CraftsmanID: id, Trade: trade}, "emp1")
	g.certify(id, newYear, trade, "acad1", "acad1", events.Junior, events.Junior)
	g.add(id, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), events.TrainingCompleted{CraftsmanID: id, AcademyID: "acad1", CourseID: "k", Trade: trade, Hours: 4, Mode: "classroom", Passed: true}, "acad1")
	g.add(id, time.Date(2025, 1, 1, 7, 0, 0, 0, cst), events.TrainingCompleted{CraftsmanID: id, AcademyID: "acad1", CourseID: "k", Trade: trade, Hours: 8, Mode: "classroom", Passed: true}, "acad1")
	g.flush()
	s := mustSchema(t, Deps{Model: g.m, Waiter: nopWaiter{}})
	q := `{ craftsman(id: "tz1") { trades { since } training { byYear { year hours } }
		timeline(first: 10, kinds: ["certificate", "training"]) { edges { node { date kind } } } } }`
	r := graphql.Do(graphql.Params{Schema: s, RequestString: q, Context: auth.WithClaims(context.Background(), auth.Claims{Subject: "a", Role: auth.RoleAuditor})})
	if len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	raw, _ := json.Marshal(r.Data)
	var got struct {
		Craftsman struct {
			Trades   []struct{ Since string }
			Training struct {
				ByYear []struct {
					Year  int
					Hours float64
				}
			}
			Timeline struct {
				Edges []struct{ Node struct{ Date, Kind string } }
			}
		}
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	c := got.Craftsman
	if len(c.Trades) != 1 || c.Trades[0].Since != "2020-01-01T00:00:00Z" {
		t.Errorf("trades.since %+v, want the civil date 2020-01-01T00:00:00Z", c.Trades)
	}
	if by := c.Training.ByYear; len(by) != 2 || by[0].Year != 2024 || by[0].Hours != 4 || by[1].Year != 2025 || by[1].Hours != 8 {
		t.Errorf("training.byYear %+v, want 2024: 4 h, 2025: 8 h", by)
	}
	want := []string{"certificate 2020-01-01T00:00:00Z", "training 2024-06-01T00:00:00Z", "training 2025-01-01T00:00:00Z"}
	if e := c.Timeline.Edges; len(e) != len(want) {
		t.Fatalf("timeline %+v", e)
	}
	for i, e := range c.Timeline.Edges {
		if g := e.Node.Kind + " " + e.Node.Date; g != want[i] {
			t.Errorf("timeline entry %d: %s, want %s", i, g, want[i])
		}
	}
}
