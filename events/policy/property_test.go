package policy_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/events/policy"
)

var propTrades = []events.Trade{{Code: "6-31-01-03"}, {Code: "6-31-01-04"}, {Code: "6-18-02-04"}}

// randomCareer is a random career whose events all occur before end.
func randomCareer(r *rand.Rand, end time.Time) []events.Recorded {
	var evs []events.Recorded
	start := end.AddDate(-25, 0, 0)
	when := func() time.Time { return start.AddDate(0, 0, r.IntN(25*365)) }
	add := func(at time.Time, p events.Payload) {
		evs = append(evs, events.Recorded{Stream: "craftsman-c", Revision: uint64(len(evs)), ID: fmt.Sprint(len(evs)), Type: p.EventType(),
			RecordedAt: at, Meta: events.NewMetadata(p.EventType(), at, "o", "u"), Payload: p})
	}
	tr := func() events.Trade { return propTrades[r.IntN(len(propTrades))] }
	birth := start.AddDate(-r.IntN(12), 0, -r.IntN(365))
	add(start, events.CraftsmanRegistered{CraftsmanID: "c", NationalIDHash: events.HashNationalID([]byte("k"), "1"), BirthDate: birth.Format(time.DateOnly), Personal: &events.Personal{Name: "x"}})
	for i, n := 0, r.IntN(4); i < n; i++ {
		s := when()
		add(s, events.EmploymentStarted{CraftsmanID: "c", EmploymentID: fmt.Sprint("e", i), EmployerOrgID: "o", Trade: tr()})
		if r.IntN(2) == 0 {
			if e := s.AddDate(0, 0, r.IntN(3000)); e.Before(end) {
				add(e, events.EmploymentEnded{CraftsmanID: "c", EmploymentID: fmt.Sprint("e", i)})
			}
		}
	}
	for i, n := 0, r.IntN(4); i < n; i++ {
		add(when(), events.SkillLevelCertified{CraftsmanID: "c", Trade: tr(), Level: events.Level(1 + r.IntN(5)), CertificateNumber: fmt.Sprint("n", i),
			Family: events.FamilySkillLevel, EvaluatingOrgID: "x", IssuingOrg: events.Org{ID: "x", Kind: events.IssuerThirdParty}, Route: events.RouteRegular})
	}
	if r.IntN(2) == 0 {
		add(when(), events.ProfessionalTitleObtained{CraftsmanID: "c", Tier: []string{events.TitleJunior, events.TitleIntermediate}[r.IntN(2)], Title: "t", Trade: tr()})
	}
	if r.IntN(2) == 0 {
		add(when(), events.Graduated{CraftsmanID: "c", SchoolKind: events.SchoolKinds()[r.IntN(7)], Speciality: "s", Trade: tr()})
	}
	if r.IntN(3) == 0 {
		add(when(), events.TradeEntered{CraftsmanID: "c", Trade: tr()})
	}
	for i, n := 0, r.IntN(3); i < n; i++ {
		l := events.Level(r.IntN(6))
		at := when()
		add(at, events.MentorshipStarted{MentorshipParties: events.MentorshipParties{MentorshipID: fmt.Sprint("m", i), MasterID: "c", ApprenticeID: fmt.Sprint("a", i)}, Kind: events.MentorshipMasterApprentice, Trade: tr()})
		add(at.AddDate(0, 0, 1), events.MentorshipCompleted{MentorshipParties: events.MentorshipParties{MentorshipID: fmt.Sprint("m", i), MasterID: "c", ApprenticeID: fmt.Sprint("a", i)}, Trade: tr(), LevelReached: &l})
	}
	if r.IntN(3) == 0 {
		add(when(), events.HonourConferred{CraftsmanID: "c", HonourID: "h", Code: "x", Level: events.LevelProvincial, ConferringBody: "b"})
	}
	if r.IntN(4) == 0 {
		add(when(), events.UpperGradeAppointed{CraftsmanID: "c", Trade: tr(), Grade: events.PrincipalTechnician, EmployerOrgID: "o", ApprovalRef: "r"})
	}
	return evs
}

// TestEarliestDateHolds: whenever an answer gives an earliest date, the
// same career evaluated on that date (nothing else changing) is eligible,
// and the day before it is not yet eligible by that route. Eligible
// answers have met routes and no earliest date.
func TestEarliestDateHolds(t *testing.T) {
	ps, err := policy.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	v2, err := policy.ParseNamed("v2", mustRead(t, "testdata/policies/template-a-v2.json"))
	if err != nil {
		t.Fatal(err)
	}
	ps = append(ps, v2)
	r := rand.New(rand.NewPCG(3, 5))
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := 400
	if testing.Short() {
		n = 100
	}
	dated := 0
	for i := 0; i < n; i++ {
		evs := randomCareer(r, at)
		s := career.Fold(evs, at, career.AsOccurred)
		for _, p := range ps {
			for _, l := range p.Levels {
				for _, trade := range propTrades {
					res := policy.Evaluate(s, p, trade.Code, l.Target, at)
					if res.Eligible != (len(res.MetRoutes) > 0) || (res.Eligible && res.EarliestDate != nil) {
						t.Fatalf("inconsistent answer: %+v", res)
					}
					if res.EarliestDate == nil {
						continue
					}
					dated++
					d := *res.EarliestDate
					if !d.After(at) {
						t.Fatalf("earliest date %s not after %s", d, at)
					}
					later := policy.Evaluate(career.Fold(evs, d, career.AsOccurred), p, trade.Code, l.Target, d)
					if !later.Eligible {
						t.Fatalf("career %d, %s/%s %s: earliest %s but not eligible then:\n%+v", i, p.Name, trade.Code, l.Target, d.Format(time.DateOnly), later)
					}
					before := d.AddDate(0, 0, -1)
					earlier := policy.Evaluate(career.Fold(evs, before, career.AsOccurred), p, trade.Code, l.Target, before)
					for _, id := range earlier.MetRoutes {
						if id == res.EarliestRoute {
							t.Fatalf("career %d, %s %s: route %s already met the day before its earliest date %s", i, p.Name, l.Target, id, d.Format(time.DateOnly))
						}
					}
				}
			}
		}
	}
	t.Logf("%d answers with an earliest date checked", dated)
	if dated < 50 {
		t.Errorf("only %d answers had an earliest date: the generator does not exercise the property", dated)
	}
}

// TestBriefIsEvaluateWithoutCriteria: EvaluateBrief and PathwayBrief
// answer exactly what Evaluate and PathwayFor answer, less each route's
// criteria, for random careers under every policy, level and trade.
func TestBriefIsEvaluateWithoutCriteria(t *testing.T) {
	ps, set := defaultSet(t)
	strip := func(r policy.Result) policy.Result {
		r.Routes = slices.Clone(r.Routes)
		for i := range r.Routes {
			r.Routes[i].Criteria = nil
		}
		return r
	}
	r := rand.New(rand.NewPCG(9, 4))
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	compared, withCriteria := 0, 0
	for i := 0; i < 200; i++ {
		s := career.Fold(randomCareer(r, at), at, career.AsOccurred)
		for _, p := range ps {
			for _, l := range p.Levels {
				for _, trade := range propTrades {
					full := policy.Evaluate(s, p, trade.Code, l.Target, at)
					brief := policy.EvaluateBrief(s, p, trade.Code, l.Target, at)
					if !reflect.DeepEqual(brief, strip(full)) {
						t.Fatalf("career %d, %s %s %s:\nbrief %+v\nfull  %+v", i, p.Name, trade.Code, l.Target, brief, full)
					}
					compared++
					for _, rr := range full.Routes {
						if len(rr.Criteria) > 0 {
							withCriteria++
							break
						}
					}
				}
			}
		}
		for _, trade := range propTrades {
			names := []string{policy.TemplateA, policy.UpperGrades}
			full := policy.PathwayFor(s, set, names, trade.Code, at)
			for k := range full.Next {
				full.Next[k] = strip(full.Next[k])
			}
			if brief := policy.PathwayBrief(s, set, names, trade.Code, at); !reflect.DeepEqual(brief, full) {
				t.Fatalf("career %d, pathway %s:\nbrief %+v\nfull  %+v", i, trade.Code, brief, full)
			}
		}
	}
	if withCriteria < compared/2 {
		t.Errorf("only %d of %d answers had criteria: the comparison shows little", withCriteria, compared)
	}
}
