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

// TestTimelineWithdrawnBy: a withdrawn honour's conferral names the
// withdrawal (TimelineEntry.withdrawnBy); a current honour's does not, nor
// does one whose withdrawal is not recorded by asOf.
func TestTimelineWithdrawnBy(t *testing.T) {
	g := &popGen{t: t, m: readmodel.NewMemory(), rng: rand.New(rand.NewPCG(1, 1)), rev: map[string]uint64{}, home: map[string]string{}}
	id, s := "hw1", events.CraftsmanStream("hw1")
	day := func(d string) time.Time { t, _ := time.Parse(time.DateOnly, d); return t }
	g.addTo(s, day("2019-06-01"), day("2019-06-01"), events.CraftsmanRegistered{CraftsmanID: id, NationalIDHash: "ab", BirthDate: "1990-01-01"}, "emp1")
	h1 := g.addTo(s, day("2020-05-01"), day("2020-05-01"), events.HonourConferred{CraftsmanID: id, HonourID: "h1", Code: "city_craftsman", Name: "哈尔滨工匠", Level: "city", ConferringBody: "市总工会"}, "emp1")
	h2 := g.addTo(s, day("2021-05-01"), day("2021-05-01"), events.HonourConferred{CraftsmanID: id, HonourID: "h2", Code: "model_worker", Name: "劳动模范", Level: "city", ConferringBody: "市总工会"}, "emp1")
	withdrawal := g.addTo(s, day("2022-03-01"), day("2022-03-02"), events.HonourWithdrawn{CraftsmanID: id, HonourID: "h1", Reason: "revoked"}, "emp1")
	g.flush()
	sch := mustSchema(t, Deps{Model: g.m, Waiter: nopWaiter{}})
	for _, c := range []struct {
		asOf string
		want map[string]any // honour id -> withdrawnBy
	}{
		{"", map[string]any{"h1": withdrawal, "h2": nil}},
		{"2021-12-31", map[string]any{"h1": nil, "h2": nil}},
	} {
		q := `query($asOf: String) { craftsman(id: "hw1", asOf: $asOf) { timeline(first: 10, kinds: ["honour"]) { edges { node { type withdrawnBy evidence { eventId } } } } } }`
		vars := map[string]any{}
		if c.asOf != "" {
			vars["asOf"] = c.asOf
		}
		r := graphql.Do(graphql.Params{Schema: sch, RequestString: q, VariableValues: vars, Context: auth.WithClaims(context.Background(), auth.Claims{Subject: "a", Role: auth.RoleAuditor})})
		if len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		raw, _ := json.Marshal(r.Data)
		var got struct {
			Craftsman struct {
				Timeline struct {
					Edges []struct {
						Node struct {
							Type        string
							WithdrawnBy *string
							Evidence    struct{ EventID string }
						}
					}
				}
			}
		}
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		seen := map[string]any{}
		for _, e := range got.Craftsman.Timeline.Edges {
			if e.Node.Type != events.TypeHonourConferred {
				if e.Node.WithdrawnBy != nil {
					t.Errorf("asOf %q: %s has withdrawnBy %q", c.asOf, e.Node.Type, *e.Node.WithdrawnBy)
				}
				continue
			}
			h := map[string]string{h1: "h1", h2: "h2"}[e.Node.Evidence.EventID]
			if e.Node.WithdrawnBy != nil {
				seen[h] = *e.Node.WithdrawnBy
			} else {
				seen[h] = nil
			}
		}
		for h, w := range c.want {
			if seen[h] != w {
				t.Errorf("asOf %q: conferral of %s withdrawnBy %v, want %v", c.asOf, h, seen[h], w)
			}
		}
	}
}
