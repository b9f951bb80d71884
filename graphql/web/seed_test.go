package web_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/chain"
	"github.com/craftledger/craftledger/pkg/esdbserver"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// ledger writes sealed events to the real embedded store over gRPC.
type ledger struct {
	t     testing.TB
	store eventstore.Store
	heads map[string]string
	last  eventstore.Position
	n     int
}

func startStore(t testing.TB) *ledger {
	t.Helper()
	srv, err := esdbserver.Start(esdbserver.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Insecure: true})
	if err != nil {
		t.Fatalf("start store: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := eventstore.Open(ctx, eventstore.Config{URL: srv.URL()})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return &ledger{t: t, store: st, heads: map[string]string{}}
}

func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// add appends one payload, sealed onto its stream's hash chain, and
// returns the event id.
func (l *ledger) add(stream string, p events.Payload, occurred time.Time, issuer string) string {
	l.t.Helper()
	typ, data, err := events.Encode(p)
	if err != nil {
		l.t.Fatalf("encode %s: %v", typ, err)
	}
	m := events.NewMetadata(typ, occurred, issuer, "user-"+issuer)
	m.Source = "api"
	if occurred.Before(time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)) {
		m.Source = "import"
	}
	if err := events.Check(p, m, time.Now()); err != nil {
		l.t.Fatalf("check %s on %s: %v", typ, stream, err)
	}
	sealed, meta, err := chain.Seal(l.heads[stream], typ, data, m)
	if err != nil {
		l.t.Fatalf("seal: %v", err)
	}
	id := uuid()
	res, err := l.store.Append(context.Background(), stream, eventstore.Any(), eventstore.EventData{ID: id, Type: typ, Data: data, Metadata: meta})
	if err != nil {
		l.t.Fatalf("append %s to %s: %v", typ, stream, err)
	}
	l.heads[stream] = sealed.Hash
	l.last = res.Position
	l.n++
	return id
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

var (
	welder = events.Trade{Code: "6-18-02-04", Name: "焊工"}
	fitter = events.Trade{Code: "6-20-01-01", Name: "钳工"}
)

func cert(l *ledger, id string, tr events.Trade, lv events.Level, on string) string {
	return l.add(events.CraftsmanStream(id), events.SkillLevelCertified{CraftsmanID: id, Trade: tr, Level: lv,
		CertificateNumber: fmt.Sprintf("S%s-%s-%d", id, tr.Code, lv), Family: events.FamilySkillLevel, EvaluatingOrgID: "acad1",
		IssuingOrg: events.Org{ID: "acad1", Kind: events.IssuerThirdParty}, Route: events.RouteRegular}, day(on), "acad1")
}

func train(l *ledger, id string, tr events.Trade, course string, hours float64, on string) string {
	return l.add(events.CraftsmanStream(id), events.TrainingCompleted{CraftsmanID: id, AcademyID: "acad1", CourseID: course, Trade: tr,
		Hours: hours, Mode: "classroom", Passed: true}, day(on), "acad1")
}

func register(l *ledger, id, name, region, emp, born string, tr events.Trade, start string) {
	s := events.CraftsmanStream(id)
	l.add(s, events.CraftsmanRegistered{CraftsmanID: id, NationalIDHash: strings.Repeat(fmt.Sprintf("%02x", len(id)+int(id[len(id)-1])), 32),
		BirthDate: born, Region: region, Personal: &events.Personal{Name: name}}, day(start), emp)
	l.add(s, events.TradeEntered{CraftsmanID: id, Trade: tr}, day(start), emp)
	l.add(s, events.EmploymentStarted{CraftsmanID: id, EmploymentID: "e-" + id, EmployerOrgID: emp, EmployerName: emp, Trade: tr}, day(start), emp)
}

// population is what the browser test sees.
type population struct {
	worker        string    // the worker with a full career
	big           string    // a worker with 500 timeline entries
	cut           time.Time // record time between the two batches
	correctedID   string    // the event the correction supersedes
	correctionID  string
	hrOrg         string
	populationLen int
	erased        string // forgotten (PersonalDataErased)
	newYear       string // certified at 2020-01-01 00:30 China time, trained at 2025-01-01 07:00 China time
	honoured      string // an honour conferred, then withdrawn
	withdrawal    string // that withdrawal's event id
	oddTrades     string // welding named by its events as markup, or not at all
}

// seedPopulation writes an academy, 40 welders at two employers in three
// regions, one worker with a lifelong career in two trades (training
// every year, certificates, a competition, an honour, an innovation, a
// mentorship, a correction) and one worker with 500 events. The worker's
// technician certificate, the correction and an honour are written after
// the cut, so "as of the cut" differs from today.
func seedPopulation(l *ledger) population {
	p := population{worker: "w001", big: "w500", hrOrg: "emp1", populationLen: 40, erased: "c000"}
	l.add("academy-acad1", events.AcademyRegistered{AcademyID: "acad1", Name: "哈尔滨工匠学院", Kind: "enterprise", Region: "黑龙江"}, day("2004-01-01"), "acad1")
	l.add("academy-acad1", events.CourseAdded{AcademyID: "acad1", CourseID: "weld-adv", Title: "高级焊接", Trade: welder, Hours: 40, Mode: "classroom"}, day("2004-01-02"), "acad1")
	regions := []string{"黑龙江", "辽宁", "吉林"}
	for i := 0; i < p.populationLen; i++ {
		id := fmt.Sprintf("c%03d", i)
		emp := "emp1"
		if i%3 == 2 {
			emp = "emp2"
		}
		register(l, id, "职工"+id, regions[i%3], emp, "1990-01-01", welder, "2009-07-01")
		train(l, id, welder, "weld-adv", 40, "2012-03-01")
		for lv := events.Junior; lv <= events.Level(1+i%4); lv++ {
			cert(l, id, welder, lv, fmt.Sprintf("%d-06-01", 2009+2*int(lv)))
		}
	}
	// c000 is forgotten. Its name was recorded in clear (which the registry
	// would refuse to erase): the read side must hide it all the same.
	l.add(events.CraftsmanStream(p.erased), events.PersonalDataErased{CraftsmanID: p.erased, Reason: "erasure request 7"}, day("2024-01-01"), "emp1")

	// Facts of the first hours of a year in China, the last of the year
	// before in UTC: dated and counted in China's year.
	cst := time.FixedZone("CST", 8*3600)
	p.newYear = "tz1"
	tz := events.CraftsmanStream(p.newYear)
	l.add(tz, events.CraftsmanRegistered{CraftsmanID: p.newYear, NationalIDHash: strings.Repeat("7a", 32), BirthDate: "1995-03-03", Region: "辽宁",
		Personal: &events.Personal{Name: "新年"}}, day("2019-06-01"), "emp2")
	newYear := time.Date(2020, 1, 1, 0, 30, 0, 0, cst)
	l.add(tz, events.TradeEntered{CraftsmanID: p.newYear, Trade: welder}, newYear, "emp2")
	l.add(tz, events.SkillLevelCertified{CraftsmanID: p.newYear, Trade: welder, Level: events.Junior, CertificateNumber: "S-tz1", Family: events.FamilySkillLevel,
		EvaluatingOrgID: "acad1", IssuingOrg: events.Org{ID: "acad1", Kind: events.IssuerThirdParty}, Route: events.RouteRegular}, newYear, "acad1")
	l.add(tz, events.TrainingCompleted{CraftsmanID: p.newYear, AcademyID: "acad1", CourseID: "weld-adv", Trade: welder, Hours: 12, Mode: "classroom", Passed: true},
		time.Date(2025, 1, 1, 7, 0, 0, 0, cst), "acad1")

	// An honour conferred and withdrawn.
	p.honoured = "hw1"
	hw := events.CraftsmanStream(p.honoured)
	l.add(hw, events.CraftsmanRegistered{CraftsmanID: p.honoured, NationalIDHash: strings.Repeat("7b", 32), BirthDate: "1992-02-02", Region: "吉林",
		Personal: &events.Personal{Name: "撤销"}}, day("2019-06-01"), "emp2")
	l.add(hw, events.HonourConferred{CraftsmanID: p.honoured, HonourID: "hw-h1", Code: "city_craftsman", Name: "长春工匠", Level: "city", ConferringBody: "长春市总工会"},
		day("2020-05-01"), "emp2")
	p.withdrawal = l.add(hw, events.HonourWithdrawn{CraftsmanID: p.honoured, HonourID: "hw-h1", Reason: "conferred in error"}, day("2021-03-01"), "emp2")

	// A writer's own name for welding, markup-like, and a bare code: the
	// catalogue's name (焊工, from the academy's course) is what shows.
	p.oddTrades = "tn1"
	tn := events.CraftsmanStream(p.oddTrades)
	l.add(tn, events.CraftsmanRegistered{CraftsmanID: p.oddTrades, NationalIDHash: strings.Repeat("7c", 32), BirthDate: "1993-03-03", Region: "吉林",
		Personal: &events.Personal{Name: "工种"}}, day("2019-06-01"), "emp2")
	l.add(tn, events.TradeEntered{CraftsmanID: p.oddTrades, Trade: events.Trade{Code: welder.Code, Name: "<b>电焊</b>"}}, day("2019-06-01"), "emp2")
	cert(l, p.oddTrades, events.Trade{Code: welder.Code}, events.Junior, "2020-06-01")

	// Two intermediates certified in 2023: eligible for senior only from
	// 2028 (five years since), so "eligible by 2029" lists them, "now" not.
	for _, id := range []string{"late1", "late2"} {
		register(l, id, "职工"+id, "吉林", "emp1", "1998-01-01", welder, "2019-07-01")
		cert(l, id, welder, events.Junior, "2020-06-01")
		cert(l, id, welder, events.Intermediate, "2023-06-01")
	}

	w := p.worker
	s := events.CraftsmanStream(w)
	register(l, w, "李建国", "黑龙江", "emp1", "1985-04-12", welder, "2005-07-01")
	l.add(s, events.TradeEntered{CraftsmanID: w, Trade: fitter}, day("2012-03-01"), "emp1")
	cert(l, w, welder, events.Junior, "2007-06-01")
	cert(l, w, welder, events.Intermediate, "2011-06-01")
	cert(l, w, fitter, events.Junior, "2014-06-01")
	cert(l, w, welder, events.Senior, "2016-06-01")
	for y := 2013; y <= 2024; y++ {
		train(l, w, welder, "weld-adv", float64(16+(y%5)*8), fmt.Sprintf("%d-03-15", y))
		if y%3 == 0 {
			train(l, w, fitter, "fit-basic", 24, fmt.Sprintf("%d-09-10", y))
		}
	}
	p.correctedID = train(l, w, welder, "weld-robot", 400, "2023-05-20")
	l.add(s, events.CompetitionPlaced{CraftsmanID: w, CompetitionID: "hlj2019", CompetitionName: "黑龙江省焊工技能大赛", PlacementID: "pl-w001",
		Tier: events.TierProvincial, Year: 2019, Track: events.TrackEmployees, TeamSize: 1, Trade: welder, Rank: 2, Award: events.AwardSilver}, day("2019-10-20"), "acad1")
	l.add(s, events.InnovationRecognised{CraftsmanID: w, InnovationID: "inv1", Kind: events.InnovationFiveSmall, Category: "innovation",
		Title: "焊缝自动跟踪夹具", Level: "enterprise", Trade: &welder, Role: "leader", InUse: true}, day("2022-08-01"), "emp1")
	l.add("mentorship-m1", events.MentorshipStarted{MentorshipParties: events.MentorshipParties{MentorshipID: "m1", MasterID: w, ApprenticeID: "c002"},
		Kind: events.MentorshipMasterApprentice, Trade: welder, EmployerOrgID: "emp1"}, day("2021-03-01"), "emp1")

	big := events.CraftsmanStream(p.big)
	register(l, p.big, "王大力", "辽宁", "emp1", "1980-02-02", welder, "2000-01-01")
	for i := 0; i < 497; i++ {
		d := day("2000-02-01").AddDate(0, 0, i*18)
		l.add(big, events.TrainingCompleted{CraftsmanID: p.big, AcademyID: "acad1", CourseID: fmt.Sprintf("m%03d", i), Trade: welder,
			Hours: float64(4 + i%12), Mode: "online_micro", Passed: true}, d, "acad1")
	}

	// The cut: everything above was recorded before it.
	time.Sleep(50 * time.Millisecond)
	p.cut = time.Now().UTC()
	time.Sleep(50 * time.Millisecond)

	cert(l, w, welder, events.Technician, "2021-06-01")
	l.add(s, events.HonourConferred{CraftsmanID: w, HonourID: "h1", Code: "city_craftsman", Name: "哈尔滨工匠", Level: "city", ConferringBody: "哈尔滨市总工会", Trade: &welder}, day("2023-04-28"), "emp1")
	p.correctionID = l.add(s, events.EventCorrected{CraftsmanID: w, SupersedesEventID: p.correctedID, Reason: "hours recorded as 400 instead of 40"}, day("2023-06-01"), "acad1")
	return p
}
