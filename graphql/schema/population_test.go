package schema

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/graphql-go/graphql"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/graphql/readmodel"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

type nopWaiter struct{}

func (nopWaiter) WaitFor(context.Context, eventstore.Position) error { return nil }

var popTrades = []events.Trade{{Code: "6-18-02-04", Name: "welder"}, {Code: "6-20-01-01", Name: "fitter"}, {Code: "6-31-01-03", Name: "electrician"}}

// popModel generates n craftsmen with many ties: few regions (one left
// empty), employers, academies and levels; ids in no relation to the
// registration order; some with two trades (their highest level counts
// without a trade filter), some with none (level 0).
func popModel(t *testing.T, n int) *readmodel.Memory {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 5))
	var evs []eventstore.RecordedEvent
	var pos uint64
	base := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("c%06d", rng.IntN(1_000_000))
		if seen[id] {
			continue // drawn twice
		}
		seen[id] = true
		stream := events.CraftsmanStream(id)
		var rev uint64
		at := base.AddDate(0, 0, i%3000)
		add := func(p events.Payload, issuer string) {
			typ, data, err := events.Encode(p)
			if err != nil {
				t.Fatal(err)
			}
			meta, err := events.EncodeMetadata(events.NewMetadata(typ, at, issuer, "test"))
			if err != nil {
				t.Fatal(err)
			}
			pos += 100
			evs = append(evs, eventstore.RecordedEvent{Stream: stream, ID: fmt.Sprintf("%032x", pos), Type: typ, Revision: rev,
				Position: eventstore.Position{Commit: pos, Prepare: pos}, Data: data, Metadata: meta, Created: at})
			rev++
			at = at.Add(time.Hour)
		}
		region := []string{"", "R1", "R2", "R3"}[rng.IntN(4)]
		emp := fmt.Sprintf("emp%d", rng.IntN(6))
		acad := fmt.Sprintf("acad%d", rng.IntN(5))
		add(events.CraftsmanRegistered{CraftsmanID: id, NationalIDHash: fmt.Sprintf("%064x", i), BirthDate: "1985-05-05", Region: region, Personal: &events.Personal{Name: "W " + id}}, emp)
		ntr := []int{0, 1, 1, 1, 2}[rng.IntN(5)]
		for k, tr := range rng.Perm(len(popTrades))[:ntr] {
			trade := popTrades[tr]
			if k == 0 {
				add(events.EmploymentStarted{CraftsmanID: id, EmploymentID: "e" + id, EmployerOrgID: emp, Trade: trade}, emp)
			}
			add(events.TradeEntered{CraftsmanID: id, Trade: trade}, emp)
			add(events.TrainingCompleted{CraftsmanID: id, AcademyID: acad, CourseID: "k", Trade: trade, Hours: 8, Mode: "classroom", Passed: true}, acad)
			top := events.Level(1 + rng.IntN(5))
			for lv := events.Junior; lv <= top; lv++ {
				add(events.SkillLevelCertified{CraftsmanID: id, Trade: trade, Level: lv, CertificateNumber: fmt.Sprintf("%s-%s-%d", id, trade.Code, lv), Family: events.FamilySkillLevel,
					EvaluatingOrgID: acad, IssuingOrg: events.Org{ID: acad, Kind: events.IssuerThirdParty}, Route: events.RouteRegular}, acad)
			}
		}
	}
	m := readmodel.NewMemory()
	if err := m.Apply(evs, evs[len(evs)-1].Position); err != nil {
		t.Fatal(err)
	}
	return m
}

// refMember is a craftsman in the straightforward answer.
type refMember struct {
	id     string
	region string
	level  events.Level
}

// refPopulation is the straightforward answer: every visible match
// collected, then sorted.
func refPopulation(m *readmodel.Memory, c auth.Claims, args map[string]string, order string) []refMember {
	var out []refMember
	m.Summaries(func(id string, s readmodel.Summary) bool {
		if c.Role == auth.RoleHR && !s.LinkedTo(c.OrgID) {
			return true
		}
		if e := args["employer"]; e != "" && !slices.Contains(s.Employers, e) {
			return true
		}
		if a := args["academy"]; a != "" && !slices.Contains(s.Academies, a) {
			return true
		}
		if r := args["region"]; r != "" && s.Region != r {
			return true
		}
		var lvl events.Level
		if tr := args["trade"]; tr != "" {
			l, ok := s.Levels[tr]
			if !ok {
				return true
			}
			lvl = l
		} else {
			for _, l := range s.Levels {
				lvl = max(lvl, l)
			}
		}
		if ml, ok := args["minLevel"]; ok {
			if want, _ := events.ParseLevel(ml); lvl < want {
				return true
			}
		}
		if el, ok := args["level"]; ok {
			if want, _ := events.ParseLevel(el); lvl != want {
				return true
			}
		}
		out = append(out, refMember{id: id, region: s.Region, level: lvl})
		return true
	})
	less := map[string]func(a, b refMember) bool{
		"":           func(a, b refMember) bool { return a.id < b.id },
		"id":         func(a, b refMember) bool { return a.id < b.id },
		"level_desc": func(a, b refMember) bool { return a.level > b.level || (a.level == b.level && a.id < b.id) },
		"level_asc":  func(a, b refMember) bool { return a.level < b.level || (a.level == b.level && a.id < b.id) },
		"region":     func(a, b refMember) bool { return a.region < b.region || (a.region == b.region && a.id < b.id) },
	}[order]
	sort.Slice(out, func(i, j int) bool { return less(out[i], out[j]) })
	return out
}

// TestPopulationPagesMatchFullSort: every craftsmen order, with filters,
// scopes and page sizes, paged through with Relay cursors, gives exactly
// the members, levels, cursors and totals of collecting every match and
// sorting it, whatever the number of scan parts.
func TestPopulationPagesMatchFullSort(t *testing.T) {
	m := popModel(t, 1500) // > 1024: the scan splits into parts
	s, err := New(Deps{Model: m, Waiter: nopWaiter{}, MaxPageSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	aud := auth.Claims{Subject: "a", Role: auth.RoleAuditor}
	hr := auth.Claims{Subject: "h", Role: auth.RoleHR, OrgID: "emp2"}
	filters := []map[string]string{
		{},
		{"trade": "6-18-02-04"},
		{"minLevel": "senior"},
		{"level": "technician"},
		{"region": "R2"},
		{"academy": "acad3", "minLevel": "intermediate"},
		{"employer": "emp2"},
		{"trade": "6-20-01-01", "minLevel": "technician", "region": "R1"},
	}
	query := func(c auth.Claims, args map[string]string, order string, first int, after string) map[string]any {
		t.Helper()
		vars := map[string]any{"first": first, "sort": order}
		if after != "" {
			vars["after"] = after
		}
		q := `query($first: Int, $after: String, $sort: String, $trade: String, $employer: String, $academy: String, $region: String, $level: String, $minLevel: String) {
			craftsmen(first: $first, after: $after, sort: $sort, trade: $trade, employer: $employer, academy: $academy, region: $region, level: $level, minLevel: $minLevel) {
				totalCount edges { cursor node { id region level { rank } } } pageInfo { hasNextPage hasPreviousPage endCursor } } }`
		for k, v := range args {
			vars[k] = v
		}
		r := graphql.Do(graphql.Params{Schema: s, RequestString: q, VariableValues: vars, Context: auth.WithClaims(context.Background(), c)})
		if len(r.Errors) > 0 {
			t.Fatalf("%v %s first %d after %q: %v", args, order, first, after, r.Errors)
		}
		raw, _ := json.Marshal(r.Data)
		var out map[string]any
		_ = json.Unmarshal(raw, &out)
		return out["craftsmen"].(map[string]any)
	}
	for _, procs := range []int{1, 4} {
		old := runtime.GOMAXPROCS(procs)
		for _, c := range []auth.Claims{aud, hr} {
			for _, args := range filters {
				if args["employer"] != "" && c.Role == auth.RoleHR {
					continue
				}
				for _, order := range []string{"", "id", "level_desc", "level_asc", "region"} {
					want := refPopulation(m, c, args, order)
					for _, first := range []int{1, 7, 50} {
						// Pages from the start, following each endCursor,
						// then ones deep in the list and at its end.
						starts := []int{0, -1, -1, len(want) / 2, max(0, len(want)-first), max(0, len(want)-1)}
						next := ""
						for _, start := range starts {
							after := next
							if start >= 0 {
								after = ""
								if start > 0 {
									after = offsetCursor(start - 1)
								}
							} else {
								start = len(want) // reached by endCursor; set below
								if next == "" {
									continue
								}
							}
							conn := query(c, args, order, first, after)
							if tc := int(conn["totalCount"].(float64)); tc != len(want) {
								t.Fatalf("procs %d %s %v sort %q: totalCount %d, want %d", procs, c.Role, args, order, tc, len(want))
							}
							edges := conn["edges"].([]any)
							var got []refMember
							from := -1
							for i, e := range edges {
								e := e.(map[string]any)
								if i == 0 {
									_, _ = fmt.Sscan(cursorOffset(t, e["cursor"].(string)), &from)
								} else if want := offsetCursor(from + i); e["cursor"] != want {
									t.Fatalf("edge %d cursor %v, want %v", i, e["cursor"], want)
								}
								n := e["node"].(map[string]any)
								region, _ := n["region"].(string)
								got = append(got, refMember{id: n["id"].(string), region: region, level: events.Level(n["level"].(map[string]any)["rank"].(float64))})
							}
							if from < 0 {
								from = min(start, len(want))
							}
							if after == "" && from != 0 || after != "" && offsetCursor(from-1) != after {
								t.Fatalf("page after %q starts at %d", after, from)
							}
							if w := want[from:min(from+first, len(want))]; !slices.Equal(got, w) {
								t.Fatalf("procs %d %s %v sort %q first %d after %d: page differs from the full sort\n got %v\nwant %v", procs, c.Role, args, order, first, from-1, got, w)
							}
							pi := conn["pageInfo"].(map[string]any)
							if pi["hasPreviousPage"] != (from > 0) || pi["hasNextPage"] != (from+len(got) < len(want)) {
								t.Fatalf("pageInfo %v at %d+%d of %d", pi, from, len(got), len(want))
							}
							next, _ = pi["endCursor"].(string)
						}
					}
					// A cursor past the end: the total, no edges.
					conn := query(c, args, order, 5, offsetCursor(len(want)+3))
					if tc := int(conn["totalCount"].(float64)); tc != len(want) || len(conn["edges"].([]any)) != 0 || conn["pageInfo"].(map[string]any)["hasNextPage"] != false {
						t.Fatalf("past the end: %v", conn)
					}
				}
			}
		}
		runtime.GOMAXPROCS(old)
	}
}

// TestTopKTies: the bounded selection keeps exactly the full sort's
// ranks start..start+n-1 on keys with heavy ties, whatever the parts.
func TestTopKTies(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	keys := make([]popKey, 3000)
	for i := range keys {
		keys[i] = popKey{id: fmt.Sprintf("x%05d", rng.IntN(100000)), region: []string{"", "A", "B"}[rng.IntN(3)], level: events.Level(rng.IntN(3))}
	}
	slices.SortFunc(keys, func(a, b popKey) int { return cmpStr(a.id, b.id) })
	keys = slices.CompactFunc(keys, func(a, b popKey) bool { return a.id == b.id })
	rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	for _, o := range []popOrder{byID, byLevelDesc, byLevelAsc, byRegion} {
		want := slices.Clone(keys)
		sort.Slice(want, func(i, j int) bool { return o.less(&want[i], &want[j]) })
		for _, parts := range []int{1, 2, 5} {
			for _, se := range [][3]int{{0, 1}, {0, 50}, {17, 13}, {len(keys) - 5, 50}, {len(keys), 5}, {0, len(keys) + 1},
				{0, 1, 1}, {0, 50, 1}, {17, 13, 1}, {1000, 50, 1}, {1500, 1, 1}, {len(keys) - 5, 50, 1}, {len(keys), 5, 1}, {0, len(keys) + 1, 1}} {
				start, n, collect := se[0], se[1], se[2] == 1
				tops := make([]*topK, parts)
				for i := range tops {
					tops[i] = newTopK(o, start+n)
					tops[i].all = collect // as for a page deeper than heapUpTo
				}
				for i, k := range keys {
					s := readmodel.Summary{Region: k.region}
					tops[i*parts/len(keys)].offer(k.id, &s, k.level)
				}
				total, page := mergeTopK(o, tops, start, n)
				if total != len(keys) {
					t.Fatalf("total %d, want %d", total, len(keys))
				}
				var got []popKey
				for _, m := range page {
					if m.s.Region != m.key.region {
						t.Fatalf("summary of %s is another's", m.key.id)
					}
					got = append(got, m.key)
				}
				if w := want[min(start, len(want)):min(start+n, len(want))]; !slices.Equal(got, w) {
					t.Fatalf("order %d parts %d start %d n %d collect %v:\n got %v\nwant %v", o, parts, start, n, collect, got, w)
				}
			}
		}
	}
}

// cursorOffset is the offset an offset cursor names.
func cursorOffset(t *testing.T, c string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(raw) < 2 || string(raw[:2]) != "o:" {
		t.Fatalf("cursor %q is not an offset cursor", c)
	}
	return string(raw[2:])
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
