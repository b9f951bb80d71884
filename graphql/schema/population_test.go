package schema

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graphql-go/graphql"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/policy"
	"github.com/craftledger/craftledger/graphql/readmodel"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

type nopWaiter struct{}

func (nopWaiter) WaitFor(context.Context, eventstore.Position) error { return nil }

var popTrades = []events.Trade{{Code: "6-18-02-04", Name: "welder"}, {Code: "6-20-01-01", Name: "fitter"}, {Code: "6-31-01-03", Name: "electrician"}}

// popGen writes generated ledgers into a model.
type popGen struct {
	t    *testing.T
	m    *readmodel.Memory
	rng  *rand.Rand
	pos  uint64
	rev  map[string]uint64 // next revision per stream
	home map[string]string // the employer that registered the craftsman
	ids  []string
	evs  []eventstore.RecordedEvent
}

func (g *popGen) add(id string, at time.Time, p events.Payload, issuer string) {
	g.addTo(events.CraftsmanStream(id), at, at, p, issuer)
}

// addTo appends an event to stream that occurred at occurred and was
// recorded at recorded; it returns the event's id.
func (g *popGen) addTo(stream string, occurred, recorded time.Time, p events.Payload, issuer string) string {
	typ, data, err := events.Encode(p)
	if err != nil {
		g.t.Fatal(err)
	}
	meta, err := events.EncodeMetadata(events.NewMetadata(typ, occurred, issuer, "test"))
	if err != nil {
		g.t.Fatal(err)
	}
	g.pos += 100
	id := fmt.Sprintf("%032x", g.pos)
	g.evs = append(g.evs, eventstore.RecordedEvent{Stream: stream, ID: id, Type: typ, Revision: g.rev[stream],
		Position: eventstore.Position{Commit: g.pos, Prepare: g.pos}, Data: data, Metadata: meta, Created: recorded})
	g.rev[stream]++
	return id
}

func (g *popGen) certify(id string, at time.Time, trade events.Trade, acad, issuer string, from, to events.Level) {
	for lv := from; lv <= to; lv++ {
		g.add(id, at, events.SkillLevelCertified{CraftsmanID: id, Trade: trade, Level: lv, CertificateNumber: fmt.Sprintf("%s-%s-%d", id, trade.Code, lv), Family: events.FamilySkillLevel,
			EvaluatingOrgID: acad, IssuingOrg: events.Org{ID: acad, Kind: events.IssuerThirdParty}, Route: events.RouteRegular}, issuer)
	}
}

func (g *popGen) flush() {
	g.t.Helper()
	if err := g.m.Apply(g.evs, g.evs[len(g.evs)-1].Position); err != nil {
		g.t.Fatal(err)
	}
	g.evs = nil
}

// popModel generates n craftsmen with many ties: few regions (one left
// empty), employers, academies and levels; ids in no relation to the
// registration order; some with two trades (their highest level counts
// without a trade filter), some with none (level 0).
func popModel(t *testing.T, n int) *popGen {
	t.Helper()
	g := &popGen{t: t, m: readmodel.NewMemory(), rng: rand.New(rand.NewPCG(5, 5)), rev: map[string]uint64{}, home: map[string]string{}}
	rng := g.rng
	base := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("c%06d", rng.IntN(1_000_000))
		if _, dup := g.rev[events.CraftsmanStream(id)]; dup {
			continue // drawn twice
		}
		g.ids = append(g.ids, id)
		at := base.AddDate(0, 0, i%3000)
		region := []string{"", "R1", "R2", "R3"}[rng.IntN(4)]
		emp := fmt.Sprintf("emp%d", rng.IntN(6))
		acad := fmt.Sprintf("acad%d", rng.IntN(5))
		g.home[id] = emp
		g.add(id, at, events.CraftsmanRegistered{CraftsmanID: id, NationalIDHash: fmt.Sprintf("%064x", i), BirthDate: "1985-05-05", Region: region, Personal: &events.Personal{Name: "W " + id}}, emp)
		ntr := []int{0, 1, 1, 1, 2}[rng.IntN(5)]
		for k, tr := range rng.Perm(len(popTrades))[:ntr] {
			trade := popTrades[tr]
			if k == 0 {
				g.add(id, at, events.EmploymentStarted{CraftsmanID: id, EmploymentID: "e" + id, EmployerOrgID: emp, Trade: trade}, emp)
			}
			g.add(id, at, events.TradeEntered{CraftsmanID: id, Trade: trade}, emp)
			g.add(id, at, events.TrainingCompleted{CraftsmanID: id, AcademyID: acad, CourseID: "k", Trade: trade, Hours: 8, Mode: "classroom", Passed: true}, acad)
			g.certify(id, at, trade, acad, acad, events.Junior, events.Level(1+rng.IntN(5)))
		}
	}
	g.flush()
	return g
}

// changeEligibility changes what a third of the craftsmen are eligible
// for, at at: every ninth is certified a level up, the next ends their
// employment, the next trains again. It returns how many it changed.
func (g *popGen) changeEligibility(at time.Time) (changed int) {
	for i, id := range g.ids {
		switch i % 9 {
		case 0:
			g.certify(id, at, popTrades[0], "acad1", "acad1", events.Senior, events.Senior)
		case 1:
			g.add(id, at, events.EmploymentEnded{CraftsmanID: id, EmploymentID: "e" + id, Reason: "left"}, g.home[id])
		case 2:
			g.add(id, at, events.TrainingCompleted{CraftsmanID: id, AcademyID: "acad1", CourseID: "k2", Trade: popTrades[0], Hours: 8, Mode: "classroom", Passed: true}, "acad1")
		default:
			continue
		}
		changed++
	}
	return changed
}

// change moves half of the craftsmen: a new region (some one no craftsman
// had), a new employer, a new trade with levels, each recorded by their
// own employer (so that only that part of their summaries changes); and
// registers a few more. The rows must follow.
func (g *popGen) change() {
	at := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, id := range g.ids {
		home := g.home[id]
		switch g.rng.IntN(8) {
		case 0:
			g.add(id, at, events.CraftsmanProfileChanged{CraftsmanID: id, Region: []string{"R9", "R1"}[g.rng.IntN(2)]}, home)
		case 1:
			g.add(id, at, events.EmploymentEnded{CraftsmanID: id, EmploymentID: "e" + id, Reason: "moved"}, home)
		case 3:
			g.add(id, at, events.EmploymentStarted{CraftsmanID: id, EmploymentID: "f" + id, EmployerOrgID: "emp9", Trade: popTrades[0]}, "emp9")
		case 4:
			g.add(id, at, events.TrainingEnrolled{CraftsmanID: id, AcademyID: "acad8", CourseID: "k8", Mode: "classroom"}, home)
		case 5:
			// Only the issuers change: emp8 records a note of nothing new.
			g.add(id, at, events.CraftsmanProfileChanged{CraftsmanID: id, BirthDate: "1985-05-05"}, "emp8")
		case 2:
			trade := events.Trade{Code: "6-99-00-00", Name: "new"}
			g.add(id, at, events.TradeEntered{CraftsmanID: id, Trade: trade}, home)
			g.certify(id, at, trade, "acad7", home, events.Junior, events.Level(1+g.rng.IntN(5)))
		}
	}
	for i := 0; i < 40; i++ {
		id := fmt.Sprintf("n%05d", i)
		g.ids = append(g.ids, id)
		g.add(id, at, events.CraftsmanRegistered{CraftsmanID: id, NationalIDHash: fmt.Sprintf("%064x", 1_000_000+i), BirthDate: "1990-01-01", Region: "R9"}, "emp9")
		trade := events.Trade{Code: "6-98-00-00", Name: "small"}
		g.add(id, at, events.TradeEntered{CraftsmanID: id, Trade: trade}, "emp9")
		g.certify(id, at, trade, "acad7", "acad7", events.Junior, events.Level(1+i%5))
	}
	g.flush()
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
	g := popModel(t, 1500) // > 1024: the scan splits into parts
	m := g.m
	s := mustSchema(t, Deps{Model: m, Waiter: nopWaiter{}, MaxPageSize: 50})
	aud := auth.Claims{Subject: "a", Role: auth.RoleAuditor}
	hr := auth.Claims{Subject: "h", Role: auth.RoleHR, OrgID: "emp2"}
	// emp0 registered a sixth of the craftsmen, none of the 40 of the
	// small trade added by the change: that trade's list is the shorter
	// and the scope is checked on each craftsman of it.
	hr0 := auth.Claims{Subject: "h0", Role: auth.RoleHR, OrgID: "emp0"}
	filters := []map[string]string{
		{},
		{"trade": "6-18-02-04"},
		{"minLevel": "senior"},
		{"level": "technician"},
		{"region": "R2"},
		{"academy": "acad3", "minLevel": "intermediate"},
		{"employer": "emp2"},
		{"trade": "6-20-01-01", "minLevel": "technician", "region": "R1"},
		{"region": "R9"},
		{"employer": "emp9"},
		{"trade": "6-99-00-00", "minLevel": "senior"},
		{"trade": "6-98-00-00"},
		{"academy": "acad8"},
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
	for round, procs := range []int{1, 4, 2} {
		if round == 2 {
			g.change() // the rows of changed summaries are rebuilt
		}
		old := runtime.GOMAXPROCS(procs)
		for _, c := range []auth.Claims{aud, hr, hr0, {Subject: "h8", Role: auth.RoleHR, OrgID: "emp8"}} {
			for _, args := range filters {
				if args["employer"] != "" && c.Role == auth.RoleHR {
					continue
				}
				checkStats(t, s, m, c, args)
				if round == 2 && (args["region"] == "R9" || args["employer"] == "emp9" || args["trade"] == "6-99-00-00" || args["trade"] == "6-98-00-00" || args["academy"] == "acad8") && len(refPopulation(m, c, args, "")) == 0 && c.Role == auth.RoleAuditor {
					t.Fatalf("%v: nobody after the change", args)
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
	slices.SortFunc(keys, func(a, b popKey) int { return strings.Compare(a.id, b.id) })
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
					tops[i*parts/len(keys)].offer(k.id, k.region, &s, k.level)
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

// checkStats compares populationStats with counts over the straightforward
// answer.
func checkStats(t *testing.T, s graphql.Schema, m *readmodel.Memory, c auth.Claims, args map[string]string) {
	t.Helper()
	type count struct {
		Key   string
		Count int
	}
	want := map[string][]count{}
	tally := func(name string, keys ...string) {
		for _, k := range keys {
			i := slices.IndexFunc(want[name], func(c count) bool { return c.Key == k })
			if i < 0 {
				want[name] = append(want[name], count{Key: k})
				i = len(want[name]) - 1
			}
			want[name][i].Count++
		}
	}
	members := refPopulation(m, c, args, "")
	for _, mb := range members {
		sum, _ := m.Summary(mb.id)
		if mb.level.Valid() {
			tally("byLevel", mb.level.Info().API)
		}
		for code := range sum.Levels {
			tally("byTrade", code)
		}
		tally("byRegion", sum.Region)
		tally("byAcademy", sum.Academies...)
	}
	for k := range want {
		slices.SortFunc(want[k], func(a, b count) int { return strings.Compare(a.Key, b.Key) })
	}
	vars := map[string]any{}
	for k, v := range args {
		vars[k] = v
	}
	q := `query($trade: String, $employer: String, $academy: String, $region: String, $level: String, $minLevel: String) {
		populationStats(trade: $trade, employer: $employer, academy: $academy, region: $region, level: $level, minLevel: $minLevel) {
			total byLevel { key count } byTrade { key count } byRegion { key count } byAcademy { key count } } }`
	r := graphql.Do(graphql.Params{Schema: s, RequestString: q, VariableValues: vars, Context: auth.WithClaims(context.Background(), c)})
	if len(r.Errors) > 0 {
		t.Fatalf("stats %v: %v", args, r.Errors)
	}
	raw, _ := json.Marshal(r.Data)
	var got struct {
		PopulationStats struct {
			Total                                 int
			ByLevel, ByTrade, ByRegion, ByAcademy []count
		}
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	ps := got.PopulationStats
	nz := func(c []count) []count {
		if c == nil {
			return []count{}
		}
		return c
	}
	if ps.Total != len(members) || !slices.Equal(nz(ps.ByLevel), nz(want["byLevel"])) || !slices.Equal(nz(ps.ByTrade), nz(want["byTrade"])) ||
		!slices.Equal(nz(ps.ByRegion), nz(want["byRegion"])) || !slices.Equal(nz(ps.ByAcademy), nz(want["byAcademy"])) {
		t.Fatalf("%s %v: stats %+v, want total %d %+v", c.Role, args, ps, len(members), want)
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

// TestPopRowCurrent: a row is current for the summary it was built from
// and for any with the same parts, and stale as soon as one part (map of
// levels, region, one of the lists) is another.
func TestPopRowCurrent(t *testing.T) {
	var d popDict
	s0 := readmodel.Summary{Name: "n", Region: "R1", Employers: []string{"e1"}, Academies: []string{"a1"}, Linked: []string{"e1", "a1"},
		Levels: map[string]events.Level{"6-18-02-04": events.Senior}}
	r := d.build(&s0, nil)
	if r.slow || !r.current(&s0) {
		t.Fatalf("row of s0: slow %v current %v", r.slow, r.current(&s0))
	}
	same := s0
	same.Name = "renamed" // not in the row
	if !r.current(&same) {
		t.Error("a summary with the same parts is not current")
	}
	for name, change := range map[string]func(s *readmodel.Summary){
		"levels":    func(s *readmodel.Summary) { s.Levels = map[string]events.Level{"6-18-02-04": events.Senior} },
		"region":    func(s *readmodel.Summary) { s.Region = string([]byte("R1")) },
		"employers": func(s *readmodel.Summary) { s.Employers = []string{"e1"} },
		"academies": func(s *readmodel.Summary) { s.Academies = append(slices.Clip(s.Academies), "a2") },
		"linked":    func(s *readmodel.Summary) { s.Linked = s.Linked[:1] },
	} {
		s := s0
		change(&s)
		if r.current(&s) {
			t.Errorf("%s replaced: the row is still current", name)
		}
	}
	// Too many to hold: answered from the summary, but still current.
	big := s0
	big.Linked = []string{"a", "b", "c", "d", "e"}
	if rb := d.build(&big, newBuildCache()); !rb.slow || !rb.current(&big) {
		t.Errorf("row of a long list: slow %v current %v", rb.slow, rb.current(&big))
	}
}

// TestPopRowSharedLevels: summaries sharing one level map (as the model
// shares equal ones) get the same levels from a part's cache, and each
// its own region and lists.
func TestPopRowSharedLevels(t *testing.T) {
	var d popDict
	cache := newBuildCache()
	levels := map[string]events.Level{"6-18-02-04": events.Senior, "6-20-01-01": events.Junior}
	a := readmodel.Summary{Region: "R1", Employers: []string{"e1"}, Levels: levels}
	b := readmodel.Summary{Region: "R2", Academies: []string{"a1"}, Levels: levels}
	ra, rb := d.build(&a, cache), d.build(&b, cache)
	if len(cache.levels) != 1 {
		t.Fatalf("%d level maps cached, want 1", len(cache.levels))
	}
	strs := d.snapshot()
	for _, c := range []struct {
		r popRow
		s readmodel.Summary
	}{{ra, a}, {rb, b}} {
		if c.r.slow || int(c.r.nt) != len(levels) || c.r.max != uint8(events.Senior) || strs[c.r.region] != c.s.Region {
			t.Fatalf("row %+v of %+v", c.r, c.s)
		}
		for i := range c.r.nt {
			if levels[strs[c.r.trades[i]]] != events.Level(c.r.levels[i]) {
				t.Fatalf("trade %s level %d", strs[c.r.trades[i]], c.r.levels[i])
			}
		}
	}
	if ra.ne != 1 || strs[ra.emps[0]] != "e1" || rb.na != 1 || strs[rb.acads[0]] != "a1" || ra.na != 0 || rb.ne != 0 {
		t.Fatalf("lists: %+v %+v", ra, rb)
	}
}

// plainReader is a read model without ScanSeq: the schema answers
// eligibleFor over it by full evaluation (every candidate folded as of
// eligibleBy and evaluated), the reference for the eligibility index.
type plainReader struct{ readmodel.Reader }

// fastOnly is the model under the fast schema of the index tests: it fails
// the test when a population query falls back to the scans the eligibility
// index and the as-of rows replace, so that a comparison with full
// evaluation cannot pass by both sides evaluating in full.
// It also counts the craftsmen whose records RecordsOnce reads (the
// index's misses).
type fastOnly struct {
	*readmodel.Memory
	t     *testing.T
	reads *atomic.Int64
}

func (m fastOnly) RecordsOnce(id string) ([]events.Recorded, int) {
	m.reads.Add(1)
	return m.Memory.RecordsOnce(id)
}

func (m fastOnly) ScanBy(trade, org string, parts int, fn func(part int, id string, s readmodel.Summary)) {
	m.t.Errorf("a population query fell back to ScanBy")
	m.Memory.ScanBy(trade, org, parts, fn)
}

func (m fastOnly) SummariesAsOf(asOf time.Time, fn func(id string, s readmodel.Summary) bool) {
	m.t.Errorf("a population query fell back to SummariesAsOf")
	m.Memory.SummariesAsOf(asOf, fn)
}

// eligModel generates n welders whose eligibility for the levels above
// theirs depends on time: employments from 2008 on (some ended), levels
// certified years apart, training at various dates (for a window), some
// facts recorded later than they occurred, some occurring after "now"
// and some corrected (a certificate's date moved later).
func eligModel(t *testing.T, n int) *popGen {
	t.Helper()
	g := &popGen{t: t, m: readmodel.NewMemory(), rng: rand.New(rand.NewPCG(7, 7)), rev: map[string]uint64{}, home: map[string]string{}}
	rng := g.rng
	welder := popTrades[0]
	day := func(y, d int) time.Time { return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d) }
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("w%05d", rng.IntN(100_000))
		if _, dup := g.rev[events.CraftsmanStream(id)]; dup {
			continue
		}
		g.ids = append(g.ids, id)
		emp := fmt.Sprintf("emp%d", rng.IntN(3))
		g.home[id] = emp
		start := day(2005+rng.IntN(14), rng.IntN(365))
		g.add(id, start, events.CraftsmanRegistered{CraftsmanID: id, NationalIDHash: fmt.Sprintf("%064x", i), BirthDate: "1990-05-05", Region: "R1"}, emp)
		g.add(id, start, events.EmploymentStarted{CraftsmanID: id, EmploymentID: "e" + id, EmployerOrgID: emp, Trade: welder}, emp)
		at := start
		for lv := events.Junior; lv <= events.Level(1+rng.IntN(3)); lv++ {
			at = at.AddDate(0, 0, 200+rng.IntN(1300))
			recorded := at
			if rng.IntN(5) == 0 {
				recorded = at.AddDate(0, 3, 0) // recorded late
			}
			cert := g.addTo(events.CraftsmanStream(id), at, recorded, events.SkillLevelCertified{CraftsmanID: id, Trade: welder, Level: lv, CertificateNumber: fmt.Sprintf("%s-%d", id, lv),
				Family: events.FamilySkillLevel, EvaluatingOrgID: "acad1", IssuingOrg: events.Org{ID: "acad1", Kind: events.IssuerThirdParty}, Route: events.RouteRegular}, "acad1")
			if rng.IntN(15) == 0 {
				// The date was wrong: it was certified a year later.
				later := at.AddDate(1, 0, 0)
				rep, err := events.NewReplacement(events.SkillLevelCertified{CraftsmanID: id, Trade: welder, Level: lv, CertificateNumber: fmt.Sprintf("%s-%d", id, lv),
					Family: events.FamilySkillLevel, EvaluatingOrgID: "acad1", IssuingOrg: events.Org{ID: "acad1", Kind: events.IssuerThirdParty}, Route: events.RouteRegular}, &later)
				if err != nil {
					t.Fatal(err)
				}
				g.addTo(events.CraftsmanStream(id), recorded, recorded.AddDate(0, 1, 0), events.EventCorrected{CraftsmanID: id, SupersedesEventID: cert, Reason: "date", Replacement: rep}, "acad1")
			}
		}
		for k := rng.IntN(3); k > 0; k-- {
			tr := day(2012+rng.IntN(14), rng.IntN(365))
			g.add(id, tr, events.TrainingCompleted{CraftsmanID: id, AcademyID: "acad1", CourseID: "k", Trade: welder, Hours: 8, Mode: "classroom", Passed: true}, "acad1")
		}
		switch rng.IntN(10) {
		case 0:
			g.add(id, at.AddDate(1, 0, 0), events.EmploymentEnded{CraftsmanID: id, EmploymentID: "e" + id, Reason: "left"}, emp)
		case 1:
			// Recorded before now, occurring after it.
			g.addTo(events.CraftsmanStream(id), day(2026, 200), day(2026, 10), events.TrainingCompleted{CraftsmanID: id, AcademyID: "acad1", CourseID: "k9", Trade: welder, Hours: 8, Mode: "classroom", Passed: true}, "acad1")
			g.addTo(events.CraftsmanStream(id), day(2026, 220), day(2026, 10), events.SkillLevelCertified{CraftsmanID: id, Trade: welder, Level: events.Technician, CertificateNumber: id + "-t",
				Family: events.FamilySkillLevel, EvaluatingOrgID: "acad1", IssuingOrg: events.Org{ID: "acad1", Kind: events.IssuerThirdParty}, Route: events.RouteRegular}, "acad1")
		}
	}
	g.flush()
	return g
}

// publishTimed publishes two later versions of template-a: v2 (from
// 2027), whose technician rule needs training within 2 years (a window:
// never answered from entries built ahead), and v3 (from 2029), with
// longer waits and no window. Tests choose their dates by these rules.
func (g *popGen) publishTimed() {
	g.publish(2, "2027-01-01", [3]string{
		`[{"id":"i","label":"i","criteria":[{"kind":"level","level":"junior","yearsSince":3}]}]`,
		`[{"id":"s","label":"s","criteria":[{"kind":"level","level":"intermediate","yearsSince":3}]}]`,
		`[{"id":"t","label":"t","criteria":[{"kind":"level","level":"senior","yearsSince":2},{"kind":"training_hours","hours":8,"withinYears":2}]}]`})
	g.publish(3, "2029-01-01", [3]string{
		`[{"id":"i","label":"i","criteria":[{"kind":"level","level":"junior","yearsSince":6}]},{"id":"w","label":"w","criteria":[{"kind":"years_of_work","years":9}]}]`,
		`[{"id":"s","label":"s","criteria":[{"kind":"level","level":"intermediate","yearsSince":7}]}]`,
		`[{"id":"t","label":"t","criteria":[{"kind":"level","level":"senior","yearsSince":6}]}]`})
}

// publish records a version of template-a whose intermediate, senior and
// technician rules are given (JSON route lists).
func (g *popGen) publish(version int, from string, routes [3]string) {
	doc := fmt.Sprintf(`{"name":"template-a","version":%d,"effectiveFrom":%q,"label":"test","owner":"national_standard","appliesTo":{"allTrades":true},"levels":[
		{"target":"intermediate","routes":%s},{"target":"senior","routes":%s},{"target":"technician","routes":%s}]}`, version, from, routes[0], routes[1], routes[2])
	at, _ := time.Parse(time.DateOnly, "2025-01-01")
	g.addTo(events.PolicyStream("template-a"), at, at, events.PolicyPublished{Name: "template-a", Version: version, EffectiveFrom: from, Document: json.RawMessage(doc)}, "ministry")
}

// TestEligibleForMatchesFullEvaluation: craftsmen(eligibleFor) and
// populationStats(eligibleFor), answered through the eligibility index,
// equal full evaluation (members, order, levels, the explained answers,
// counts) for eligibleBy dates before, at and long after the craftsmen's
// last events, under policy versions that change with the date (one with
// a training window), for auditors and HR; and again after ledgers
// change and a policy is published once the index was built.
func TestEligibleForMatchesFullEvaluation(t *testing.T) {
	g := eligModel(t, 1400) // > 1024: the scan splits into parts
	g.publishTimed()
	g.flush()
	for _, v := range g.m.Policies()["template-a"] {
		if _, err := policy.FromEvent(v.Payload.(events.PolicyPublished)); err != nil {
			t.Fatal(err)
		}
	}
	now := eligNow
	reads := new(atomic.Int64)
	fast := mustSchema(t, Deps{Model: fastOnly{g.m, t, reads}, Waiter: nopWaiter{}, MaxPageSize: 100, Now: now})
	full := mustSchema(t, Deps{Model: plainReader{g.m}, Waiter: nopWaiter{}, MaxPageSize: 100, Now: now})
	const q = `query($target: String, $by: String, $sort: String, $after: String) {
		craftsmen(trade: "6-18-02-04", eligibleFor: $target, eligibleBy: $by, sort: $sort, first: 40, after: $after) {
			totalCount edges { cursor node { id level { rank } eligibility { eligible earliestDate policyVersion routes { id met earliestDate } } } } pageInfo { hasNextPage } }
		populationStats(trade: "6-18-02-04", eligibleFor: $target, eligibleBy: $by) { total byLevel { key count } byRegion { key count } } }`
	roles := []auth.Claims{{Subject: "a", Role: auth.RoleAuditor}, {Subject: "h", Role: auth.RoleHR, OrgID: "emp1"}}
	dates := []any{nil, "2012-06-01", "2026-02-20", "2026-12-31", "2027-06-01", "2029-06-01", "2034-01-01", "2026-03-01T00:00:00Z"}
	compare := func(round string) map[string]int {
		totals := map[string]int{}
		for _, target := range []string{"intermediate", "senior", "technician"} {
			for _, by := range dates {
				for _, c := range roles {
					for _, page := range []map[string]any{{"sort": "level_desc"}, {"sort": "id", "after": offsetCursor(9)}} {
						vars := map[string]any{"target": target, "by": by}
						for k, v := range page {
							vars[k] = v
						}
						got, total := samePopulation(t, fast, full, c, q, vars, round+": the index")
						totals[fmt.Sprint(target, by)] = total
						for v := 1; v <= 4; v++ {
							if strings.Contains(got, fmt.Sprintf(`"policyVersion":%d,`, v)) {
								totals[fmt.Sprint("v", v)]++
							}
						}
					}
				}
			}
		}
		return totals
	}
	totals := compare("first")
	// The index answers a query it has answered before without reading
	// anyone's records again (equal answers alone would not show it used).
	again := map[string]any{"target": "senior", "by": "2040-01-01", "sort": "level_desc"}
	runPopulation(t, fast, roles[0], q, again)
	before := reads.Load()
	runPopulation(t, fast, roles[0], q, again)
	if n := reads.Load() - before; n != 0 {
		t.Fatalf("asked again, the eligibility index read %d craftsmen's records", n)
	}
	// Not vacuous: eligibility moves with the date.
	if totals["v1"] == 0 || totals["v2"] == 0 || totals["v3"] == 0 || totals["technician<nil>"] == 0 || totals["technician2034-01-01"] <= totals["technician<nil>"] || totals["intermediate2012-06-01"] >= totals["intermediate2034-01-01"] {
		t.Fatalf("eligibility does not move with time: %v", totals)
	}
	// Ledgers change after the index was built: a third are certified a
	// level up, end their employment or train again, now; a policy version
	// in force from before now is published.
	g.changeEligibility(now().AddDate(0, 0, -3))
	g.publish(4, "2026-01-01", [3]string{
		`[{"id":"i","label":"i","criteria":[{"kind":"years_of_work","years":5}]}]`,
		`[{"id":"s","label":"s","criteria":[{"kind":"level","level":"intermediate","yearsSince":1}]}]`,
		`[{"id":"t","label":"t","criteria":[{"kind":"level","level":"senior","yearsSince":1}]}]`})
	g.flush()
	after := compare("after the change")
	if after["v4"] == 0 || after["technician<nil>"] == totals["technician<nil>"] && after["intermediate<nil>"] == totals["intermediate<nil>"] {
		t.Fatalf("the change moved nobody: %v", after)
	}
}

// TestAsOfMatchesFullEvaluation: craftsmen(asOf) and populationStats(asOf),
// answered from the as-of rows, equal rebuilding every summary as of then
// (SummariesAsOf), for filters, orders, pages and scopes, at dates before,
// inside and after the populations' histories, asked again (rows reused)
// and after ledgers changed.
func TestAsOfMatchesFullEvaluation(t *testing.T) {
	for _, g := range []*popGen{popModel(t, 1200), eligModel(t, 1100)} {
		fast := mustSchema(t, Deps{Model: fastOnly{g.m, t, new(atomic.Int64)}, Waiter: nopWaiter{}, MaxPageSize: 100})
		full := mustSchema(t, Deps{Model: plainReader{g.m}, Waiter: nopWaiter{}, MaxPageSize: 100})
		compare := func(round string, dates []string) map[string]int {
			return compareAsOf(t, fast, full, round+": the as-of rows", dates, nil)
		}
		// The last date's rows hold from each craftsman's last moment on:
		// the first date after the change lies in their spans.
		dates := []string{"2004-01-01", "2011-06-30", "2013-01-01", "2013-01-02", "2019-12-31", "2011-06-30", "2026-03-01", "2026-12-31"}
		before := compare("first", dates)
		if before["2004-01-01"] != 0 || before["2011-06-30"] == 0 || before["2011-06-30"] >= before["2019-12-31"] {
			t.Fatalf("the population does not grow with the date: %v", before)
		}
		g.change()
		after := compare("after the change", []string{"2030-01-01", "2011-06-30", "2019-12-31", "2025-06-01"})
		if after["2030-01-01"] <= before["2026-12-31"] {
			t.Fatalf("the change added nobody: %v %v", before, after)
		}
	}
}

// TestPopulationIndexesUnderWrites: eligibleFor and asOf queries keep
// answering while ledgers change under them (candidates met with a count
// other than their entry's are evaluated again), and once the writes stop
// they equal full evaluation.
func TestPopulationIndexesUnderWrites(t *testing.T) {
	g := eligModel(t, 600)
	fast := mustSchema(t, Deps{Model: g.m, Waiter: nopWaiter{}, MaxPageSize: 100})
	full := mustSchema(t, Deps{Model: plainReader{g.m}, Waiter: nopWaiter{}, MaxPageSize: 100})
	aud := auth.WithClaims(context.Background(), auth.Claims{Subject: "a", Role: auth.RoleAuditor})
	const q = `{ craftsmen(trade: "6-18-02-04", eligibleFor: "intermediate", eligibleBy: "2031-01-01", first: 20) { totalCount nodes { id } }
		populationStats(asOf: "2030-01-01") { total byLevel { key count } } }`
	ask := func(s graphql.Schema) string {
		r := graphql.Do(graphql.Params{Schema: s, RequestString: q, Context: aud})
		if len(r.Errors) > 0 {
			t.Errorf("%v", r.Errors)
		}
		raw, _ := json.Marshal(r.Data)
		return string(raw)
	}
	first := ask(fast)
	// Each batch is followed by at least one query that began after it
	// (asked), and queries run while the next batch is applied.
	done, asked := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for i, id := range g.ids {
			// Work stops in 2019 (recorded in 2026): years of work stop growing.
			g.addTo(events.CraftsmanStream(id), time.Date(2019, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC),
				events.EmploymentEnded{CraftsmanID: id, EmploymentID: "e" + id, Reason: "left"}, g.home[id])
			if i%20 == 19 || i == len(g.ids)-1 {
				g.flush()
				<-asked
				<-asked
			}
		}
	}()
	for busy := true; busy; {
		ask(fast)
		select {
		case <-done:
			busy = false
		case asked <- struct{}{}:
		}
	}
	if got, want := ask(fast), ask(full); got != want {
		t.Fatalf("after the writes: the indexes answer\n%s\nfull evaluation\n%s", got, want)
	} else if got[:strings.Index(got, "populationStats")] == first[:strings.Index(first, "populationStats")] {
		t.Fatalf("the writes changed no one's eligibility: %s", got)
	}
}

// runPopulation runs query q (which asks for populationStats' total) as
// the caller c and answers its data as JSON and that total.
func runPopulation(t *testing.T, s graphql.Schema, c auth.Claims, q string, vars map[string]any) (string, int) {
	t.Helper()
	r := graphql.Do(graphql.Params{Schema: s, RequestString: q, VariableValues: vars, Context: auth.WithClaims(context.Background(), c)})
	if len(r.Errors) > 0 {
		t.Fatalf("%v: %v", vars, r.Errors)
	}
	raw, _ := json.Marshal(r.Data)
	return string(raw), r.Data.(map[string]any)["populationStats"].(map[string]any)["total"].(int)
}

// samePopulation runs query q on the fast schema and on full (full
// evaluation) and fails unless both answer the same; it answers fast's
// data as JSON and populationStats' total. what names the fast path.
func samePopulation(t *testing.T, fast, full graphql.Schema, c auth.Claims, q string, vars map[string]any, what string) (string, int) {
	t.Helper()
	got, total := runPopulation(t, fast, c, q, vars)
	if want, _ := runPopulation(t, full, c, q, vars); got != want {
		t.Fatalf("%s %v: %s answers\n%s\nfull evaluation\n%s", c.Role, vars, what, got, want)
	}
	return got, total
}

// compareAsOf asks one as-of query (craftsmen and populationStats) at
// each date, for an auditor under four filters, orders and pages and for
// HR under one, of fast and of full, and fails unless both answer the
// same (what names fast's path); after, when not nil, is called after
// each query with its variables. It answers the largest total per date.
func compareAsOf(t *testing.T, fast, full graphql.Schema, what string, dates []string, after func(vars map[string]any)) map[string]int {
	t.Helper()
	const q = `query($asOf: String, $trade: String, $employer: String, $minLevel: String, $sort: String, $after: String) {
		craftsmen(asOf: $asOf, trade: $trade, employer: $employer, minLevel: $minLevel, sort: $sort, first: 30, after: $after) {
			totalCount edges { cursor node { id name personalData region employers academies level { rank } } } pageInfo { hasNextPage } }
		populationStats(asOf: $asOf, trade: $trade, employer: $employer, minLevel: $minLevel) {
			total byLevel { key count } byTrade { key count } byRegion { key count } byAcademy { key count } } }`
	roles := []auth.Claims{{Subject: "a", Role: auth.RoleAuditor}, {Subject: "h", Role: auth.RoleHR, OrgID: "emp1"}}
	filters := []map[string]any{{}, {"trade": "6-18-02-04", "sort": "level_desc"}, {"minLevel": "intermediate", "sort": "region", "after": offsetCursor(4)}, {"employer": "emp1", "sort": "level_asc"}}
	totals := map[string]int{}
	for _, asOf := range dates {
		for _, c := range roles {
			for i, fl := range filters {
				if c.Role == auth.RoleHR && i != 2 {
					continue
				}
				vars := map[string]any{"asOf": asOf}
				maps.Copy(vars, fl)
				_, total := samePopulation(t, fast, full, c, q, vars, what)
				totals[asOf] = max(totals[asOf], total)
				if after != nil {
					after(vars)
				}
			}
		}
	}
	return totals
}

// mustSchema is New(d), failing t when it fails.
func mustSchema(t *testing.T, d Deps) graphql.Schema {
	t.Helper()
	s, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestUnknownPolicyIsInvalidArgument: a policies argument naming a policy
// the ledger has no version of is refused (INVALID_ARGUMENT) by the
// craftsman's pathway, pathways and eligibility and by the population's
// eligibleFor, as ledgerctl state/diff refuse it; before, it answered with
// no next level or no one eligible, silently. Known names still answer.
func TestUnknownPolicyIsInvalidArgument(t *testing.T) {
	g := popModel(t, 30)
	s := mustSchema(t, Deps{Model: g.m, Waiter: nopWaiter{}, MaxPageSize: 100})
	aud := auth.WithClaims(context.Background(), auth.Claims{Subject: "a", Role: auth.RoleAuditor})
	id := g.ids[0]
	for _, q := range []string{
		`query($p: [String!]) { craftsman(id: "` + id + `") { pathways(policies: $p) { trade } } }`,
		`query($p: [String!]) { craftsman(id: "` + id + `") { pathway(trade: "6-18-02-04", policies: $p) { trade } } }`,
		`query($p: [String!]) { craftsman(id: "` + id + `") { eligibility(trade: "6-18-02-04", target: "senior", policies: $p) { eligible } } }`,
		`query($p: [String!]) { craftsmen(trade: "6-18-02-04", eligibleFor: "senior", policies: $p, first: 5) { totalCount } }`,
		`query($p: [String!]) { populationStats(trade: "6-18-02-04", eligibleFor: "senior", policies: $p) { total } }`,
	} {
		r := graphql.Do(graphql.Params{Schema: s, RequestString: q, VariableValues: map[string]any{"p": []any{"template-a", "nosuchpolicy"}}, Context: aud})
		if len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, `unknown policy "nosuchpolicy"`) || r.Errors[0].Extensions["code"] != "INVALID_ARGUMENT" {
			t.Errorf("%s: errors %v, want one INVALID_ARGUMENT naming the policy", q, r.Errors)
		}
		r = graphql.Do(graphql.Params{Schema: s, RequestString: q, VariableValues: map[string]any{"p": []any{"template-b"}}, Context: aud})
		for _, e := range r.Errors {
			if strings.Contains(e.Message, "unknown policy") {
				t.Errorf("%s under template-b: %v", q, e)
			}
		}
	}
}
