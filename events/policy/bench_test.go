package policy_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/events/policy"
)

var elec = events.Trade{Code: "6-31-01-03", Name: "电工"}

// benchState is a typical worker: 15 years in two employments, four
// certificates, 40 training records, a title, two mentorships.
func benchState(b *testing.B) *career.State {
	var evs []events.Recorded
	add := func(d string, p events.Payload) {
		t, _ := time.Parse("2006-01-02", d)
		evs = append(evs, events.Recorded{Stream: "craftsman-c-1", Revision: uint64(len(evs)), ID: fmt.Sprint(len(evs)), Type: p.EventType(),
			RecordedAt: t, Meta: events.NewMetadata(p.EventType(), t, "o", "u"), Payload: p})
	}
	add("2005-01-01", events.CraftsmanRegistered{CraftsmanID: "c-1", NationalIDHash: events.HashNationalID([]byte("k"), "1"), BirthDate: "1985-01-01", Personal: &events.Personal{Name: "王"}})
	add("2005-01-01", events.EmploymentStarted{CraftsmanID: "c-1", EmploymentID: "e1", EmployerOrgID: "o", Trade: elec})
	add("2012-01-01", events.EmploymentEnded{CraftsmanID: "c-1", EmploymentID: "e1"})
	add("2012-03-01", events.EmploymentStarted{CraftsmanID: "c-1", EmploymentID: "e2", EmployerOrgID: "o", Trade: elec})
	for i, l := range []events.Level{events.Junior, events.Intermediate, events.Senior} {
		add(fmt.Sprintf("%d-06-01", 2006+4*i), events.SkillLevelCertified{CraftsmanID: "c-1", Trade: elec, Level: l, CertificateNumber: "N", Family: events.FamilySkillLevel,
			EvaluatingOrgID: "x", IssuingOrg: events.Org{ID: "x", Kind: events.IssuerThirdParty}, Route: events.RouteRegular})
	}
	for i := 0; i < 40; i++ {
		add(fmt.Sprintf("%d-%02d-01", 2006+i/4, 1+i%12), events.TrainingCompleted{CraftsmanID: "c-1", AcademyID: "a", CourseID: "k", Trade: elec, Hours: 8, Mode: events.ModeClassroom, Passed: true})
	}
	add("2015-01-01", events.ProfessionalTitleObtained{CraftsmanID: "c-1", Tier: events.TitleJunior, Title: "助理工程师", Trade: elec})
	add("2016-01-01", events.Graduated{CraftsmanID: "c-1", SchoolKind: events.SchoolTechnicianCollege, Speciality: "电气", Trade: elec})
	return career.Fold(evs, time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC), career.AsRecorded)
}

// BenchmarkEvaluate evaluates one target under template B (four routes to
// technician); evals/s is the figure recorded in docs/benchmarks.md.
func BenchmarkEvaluate(b *testing.B) {
	s := benchState(b)
	for _, name := range []string{policy.TemplateA, policy.TemplateB} {
		p, err := policy.Default(name)
		if err != nil {
			b.Fatal(err)
		}
		at := time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				policy.Evaluate(s, p, elec.Code, events.Technician, at)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evals/s")
			if cpu := cpuTime() - cpu0; cpu > 0 {
				b.ReportMetric(float64(b.N)/cpu.Seconds(), "evals/cpu-s")
			}
		})
	}
}

func BenchmarkPathway(b *testing.B) {
	s := benchState(b)
	ps, err := policy.Defaults()
	if err != nil {
		b.Fatal(err)
	}
	set, _ := policy.NewSet(ps...)
	at := time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		policy.PathwayFor(s, set, []string{policy.TemplateB, policy.UpperGrades}, elec.Code, at)
	}
}
