package generate

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/auth"
)

// End is the last day of the demo's history: every generated fact happened
// on or before it, so the population is the same whatever day it is
// generated on. History starts ten years earlier; older facts are
// back-filled paper records (source "import").
var (
	End       = time.Date(2025, 9, 30, 0, 0, 0, 0, time.UTC)
	LedgerDay = time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC) // facts before this are back-filled
)

type academy struct {
	id, name, kind, region, parent string
	trades                         []int
}

type employer struct {
	id, name, region string
	province         int
	trades           []int
}

// world is everything but the craftsmen: organisations and competitions.
// It depends on the seed and the population size only.
type world struct {
	seed      uint64
	n         int
	academies []academy
	employers []employer
	comps     []competitionSpec
	// indexes: trade -> academies / employers offering it; province -> the same
	acadByTrade map[int][]int
	empByTrade  map[int][]int
}

func clamp(v, lo, hi int) int { return max(lo, min(hi, v)) }

// employersFor and academiesFor size the world for a population of n. The
// i-th craftsman only ever works for or learns at the organisations of the
// world sized for i+1 craftsmen, so a craftsman's history does not depend on
// how many are generated after it: a population of n is a prefix of a
// population of m > n, and growing one with a larger --count is safe. The
// first employers and academies cover every trade.
func employersFor(n int) int { return clamp(n/40, len(trades)+1, 400) }
func academiesFor(n int) int { return clamp(n/60, 6, 120) }

func newWorld(seed uint64, n int) *world {
	w := &world{seed: seed, n: n, acadByTrade: map[int][]int{}, empByTrade: map[int][]int{}}
	r := rand.New(rand.NewPCG(seed, 0x0a11ce))

	nEmp := employersFor(n)
	for i := range nEmp {
		pi := i % len(provinces)
		p := provinces[pi]
		e := employer{id: fmt.Sprintf("emp-%04d", i), region: p.name, province: pi}
		if i == 0 {
			e.id = auth.DevEmployerID
		}
		// every employer works in three or four trades; trade i%len is always
		// among them so each trade has employers in many provinces
		e.trades = []int{i % len(trades)}
		for len(e.trades) < 3+r.IntN(2) {
			t := r.IntN(len(trades))
			if !slices.Contains(e.trades, t) {
				e.trades = append(e.trades, t)
			}
		}
		e.name = p.city + employerWords[r.IntN(len(employerWords))] + trades[e.trades[0]].industry + employerKinds[r.IntN(len(employerKinds))]
		if i == 0 {
			e.name = "天津示范重工集团有限公司"
		}
		w.employers = append(w.employers, e)
		for _, t := range e.trades {
			w.empByTrade[t] = append(w.empByTrade[t], i)
		}
	}

	nAcad := academiesFor(n)
	kinds := []string{events.AcademyCollege, events.AcademyEnterprise, events.AcademyUnionSchool}
	for i := range nAcad {
		kind := kinds[i%3]
		pi := (i / 3) % len(provinces)
		p := provinces[pi]
		a := academy{id: fmt.Sprintf("acad-%04d", i), kind: kind, region: p.name}
		switch kind {
		case events.AcademyCollege:
			a.name = []string{p.city + "技师学院", p.city + "职业技术学院", p.city + "工业技师学院"}[(i/3/len(provinces))%3]
		case events.AcademyEnterprise:
			// an enterprise's training centre: the academy of an employer of the province
			ei := pi
			for ei < len(w.employers) && w.employers[ei].province != pi {
				ei += len(provinces)
			}
			if ei >= len(w.employers) {
				ei = 0
			}
			a.parent = w.employers[ei].id
			a.name = w.employers[ei].name + "工匠学院"
		case events.AcademyUnionSchool:
			a.name = p.name + "省总工会职工技能学校"
			if p.name == p.city {
				a.name = p.name + "市总工会工匠学院"
			}
		}
		if i >= 3*len(provinces) {
			a.name = fmt.Sprintf("%s（第%d分院）", a.name, i/(3*len(provinces))+1)
		}
		if i == 0 {
			a.id, a.name, a.region = auth.DevAcademyID, "天津示范工匠学院", "天津"
		}
		a.trades = []int{i % len(trades), (i + 3) % len(trades)}
		for len(a.trades) < 4 {
			t := r.IntN(len(trades))
			if !slices.Contains(a.trades, t) {
				a.trades = append(a.trades, t)
			}
		}
		if i == 0 {
			a.trades = []int{0, 1, 2, 3, 4, 5, 6} // the dev academy teaches everything
		}
		w.academies = append(w.academies, a)
		for _, t := range a.trades {
			w.acadByTrade[t] = append(w.acadByTrade[t], i)
		}
	}
	w.comps = competitions()
	return w
}

// courseID is the id of the course of trade t preparing for level l at
// every academy teaching t ("6-31-01-03-technician"); the safety micro
// course is "<code>-safety" and the simulation course "<code>-sim".
func courseID(t int, l events.Level) string { return trades[t].Code + "-" + l.String() }

type course struct {
	id, title, mode string
	hours           float64
	target          *events.Level
}

func courses(t int, academyKind string) []course {
	tr := trades[t]
	mode := events.ModeClassroom
	if academyKind == events.AcademyEnterprise {
		mode = events.ModeOnTheJob
	}
	var out []course
	for l := events.Junior; l <= events.SeniorTechnician; l++ {
		l := l
		out = append(out, course{id: courseID(t, l), title: fmt.Sprintf("%s（%s）职业技能培训", tr.Name, l.Info().Chinese),
			mode: mode, hours: tr.hours * float64(l), target: &l})
	}
	out = append(out,
		course{id: tr.Code + "-safety", title: tr.Name + "安全生产微课", mode: events.ModeOnlineMicro, hours: 8},
		course{id: tr.Code + "-sim", title: tr.Name + "虚拟仿真实训", mode: events.ModeVirtualSim, hours: 16})
	return out
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err) // constant dates of this file only
	}
	return t
}

func competitions() []competitionSpec {
	manufacturing := []events.Trade{trades[0].Trade, trades[1].Trade, trades[2].Trade, trades[3].Trade, trades[4].Trade, trades[5].Trade}
	both := []string{events.TrackEmployees, events.TrackStudents}
	var out []competitionSpec
	out = append(out, competitionSpec{
		def: events.CompetitionDefined{CompetitionID: "worldskills-2022", Name: "2022年世界技能大赛特别赛", Tier: events.TierWorld,
			Organiser: orgWSC, Year: 2022, Trades: []events.Trade{trades[0].Trade, trades[1].Trade, trades[2].Trade, trades[3].Trade},
			Tracks: both, StartsOn: "2022-09-07", EndsOn: "2022-11-27",
			Rules: events.CompetitionRules{RequiresApproval: true,
				Grants:  []events.GrantRule{{ID: "gold", Band: events.Band{MinAward: events.AwardGold}, Level: events.SeniorTechnician}},
				Honours: []events.HonourTrigger{{Band: events.Band{MinAward: events.AwardGold}, HonourCode: "national_technical_expert", HonourName: "全国技术能手", Level: events.LevelNational, ConferringBody: "MOHRSS"}}}},
		org: orgWSC, hr: orgMOHRSS, rate: 0.004, date: "2022-11-27"})
	out = append(out, competitionSpec{
		def: events.CompetitionDefined{CompetitionID: "nsc-2023", Name: "中华人民共和国第二届职业技能大赛", Tier: events.TierNational,
			Organiser: orgMOHRSS, Year: 2023, Trades: manufacturing, Tracks: both, StartsOn: "2023-09-16", EndsOn: "2023-09-19",
			Rules: events.CompetitionRules{RequiresApproval: true,
				Grants:  []events.GrantRule{{ID: "excellence-or-better", Band: events.Band{MinAward: events.AwardExcellence}, Level: events.Technician, RaiseIfHeld: true}},
				Honours: []events.HonourTrigger{{Band: events.Band{MinAward: events.AwardExcellence}, HonourCode: "national_technical_expert", HonourName: "全国技术能手", Level: events.LevelNational, ConferringBody: "MOHRSS"}}}},
		org: orgMOHRSS, hr: orgMOHRSS, rate: 0.01, date: "2023-09-19"})
	for _, y := range []int{2021, 2024} {
		out = append(out, competitionSpec{
			def: events.CompetitionDefined{CompetitionID: fmt.Sprintf("acftu-workers-%d", y), Name: fmt.Sprintf("%d年全国职工职业技能大赛", y),
				Tier: events.TierNationalClass1, Organiser: orgACFTU, Year: y,
				Trades: []events.Trade{trades[0].Trade, trades[1].Trade, trades[4].Trade, trades[6].Trade}, Tracks: both,
				StartsOn: fmt.Sprintf("%d-10-25", y), EndsOn: fmt.Sprintf("%d-10-28", y),
				Rules: events.CompetitionRules{RequiresApproval: true,
					Grants: []events.GrantRule{
						{ID: "employees-1-5", Band: events.Band{Track: events.TrackEmployees, TeamSize: 1, FromRank: 1, ToRank: 5}, Level: events.Technician, RaiseIfHeld: true},
						{ID: "employees-6-20", Band: events.Band{Track: events.TrackEmployees, TeamSize: 1, FromRank: 6, ToRank: 20}, Level: events.Senior, RaiseIfHeld: true},
						{ID: "students-1-5", Band: events.Band{Track: events.TrackStudents, TeamSize: 1, FromRank: 1, ToRank: 5}, Level: events.Senior},
					},
					Honours: []events.HonourTrigger{{Band: events.Band{Track: events.TrackEmployees, FromRank: 1, ToRank: 1}, HonourCode: "national_may_day_medal", HonourName: "全国五一劳动奖章", Level: events.LevelNational, ConferringBody: "ACFTU"}}}},
			org: orgACFTU, hr: orgMOHRSS, rate: 0.015, date: fmt.Sprintf("%d-10-28", y)})
	}
	// Tianjin's yearly city competition: top 10 → technician (employees) or
	// senior (students), at most one competition promotion a year.
	for y := 2016; y <= 2025; y++ {
		out = append(out, competitionSpec{
			def: events.CompetitionDefined{CompetitionID: fmt.Sprintf("tj-city-%d", y), Name: fmt.Sprintf("%d年天津市职工职业技能竞赛", y),
				Tier: events.TierCity, Organiser: "tj-hrss", Year: y, Trades: tradesOf(), Tracks: both,
				StartsOn: fmt.Sprintf("%d-06-10", y), EndsOn: fmt.Sprintf("%d-06-20", y),
				Rules: events.CompetitionRules{RequiresApproval: true, MaxPromotionsPerYear: 1,
					Grants: []events.GrantRule{
						{ID: "employees-top10", Band: events.Band{Track: events.TrackEmployees, FromRank: 1, ToRank: 10}, Level: events.Technician},
						{ID: "students-top10", Band: events.Band{Track: events.TrackStudents, FromRank: 1, ToRank: 10}, Level: events.Senior},
					},
					Honours: []events.HonourTrigger{{Band: events.Band{FromRank: 1, ToRank: 3}, HonourCode: "city_craftsman", HonourName: "天津市级工匠", Level: events.LevelCity, ConferringBody: "天津市总工会"}}}},
			org: "tj-hrss", hr: "tj-hrss", rate: 0.06, date: fmt.Sprintf("%d-06-20", y), province: "天津"})
	}
	// Provincial competitions: ranks 1–3 → senior, raised when held.
	for _, pc := range []struct {
		id, prov, name, org string
		year                int
	}{{"gd-prov-2019", "广东", "2019年广东省职业技能大赛", "gd-hrss", 2019}, {"js-prov-2020", "江苏", "2020年江苏省职业技能大赛", "js-hrss", 2020},
		{"sd-prov-2022", "山东", "2022年山东省职业技能大赛", "sd-hrss", 2022}} {
		out = append(out, competitionSpec{
			def: events.CompetitionDefined{CompetitionID: pc.id, Name: pc.name, Tier: events.TierProvincial, Organiser: pc.org, Year: pc.year,
				Trades: manufacturing, Tracks: []string{events.TrackEmployees}, StartsOn: fmt.Sprintf("%d-08-01", pc.year), EndsOn: fmt.Sprintf("%d-08-05", pc.year),
				Rules: events.CompetitionRules{RequiresApproval: true,
					Grants:  []events.GrantRule{{ID: "top3", Band: events.Band{FromRank: 1, ToRank: 3}, Level: events.Senior, RaiseIfHeld: true}},
					Honours: []events.HonourTrigger{{Band: events.Band{FromRank: 1, ToRank: 1}, HonourCode: "provincial_technical_expert", HonourName: pc.prov + "省技术能手", Level: events.LevelProvincial, ConferringBody: pc.prov + "省人力资源和社会保障厅"}}}},
			org: pc.org, hr: pc.org, rate: 0.04, date: fmt.Sprintf("%d-08-05", pc.year), province: pc.prov})
	}
	return out
}

func tradesOf() []events.Trade {
	out := make([]events.Trade, len(trades))
	for i, t := range trades {
		out[i] = t.Trade
	}
	return out
}
