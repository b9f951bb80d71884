package career_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
)

// longCareer is a 30-year career of n events: employments, lots of
// training, certificates, placements, mentorships, honours and a few
// corrections.
func longCareer(n int) []events.Recorded {
	b := &builder{id: "c-1"}
	b.add("1995-01-01", "1995-01-01", events.CraftsmanRegistered{CraftsmanID: "c-1", NationalIDHash: events.HashNationalID([]byte("k"), "1"), Personal: &events.Personal{Name: "王"}})
	start := date("1995-01-01")
	for i := 1; len(b.evs) < n; i++ {
		d := start.AddDate(0, 0, i*3).Format("2006-01-02")
		switch i % 10 {
		case 0:
			b.add(d, d, events.EmploymentStarted{CraftsmanID: "c-1", EmploymentID: fmt.Sprintf("e%d", i), EmployerOrgID: "org", Trade: elec})
		case 1:
			b.add(d, d, events.EmploymentEnded{CraftsmanID: "c-1", EmploymentID: fmt.Sprintf("e%d", i-1)})
		case 2:
			b.add(d, d, events.SkillLevelCertified{CraftsmanID: "c-1", Trade: elec, Level: events.Level(1 + i%5), CertificateNumber: "N", Family: events.FamilySkillLevel,
				EvaluatingOrgID: "x", IssuingOrg: events.Org{ID: "x", Kind: events.IssuerThirdParty}, Route: events.RouteRegular})
		case 3:
			b.add(d, d, events.CompetitionPlaced{CraftsmanID: "c-1", CompetitionID: "k", PlacementID: fmt.Sprintf("p%d", i), Tier: events.TierCity, Track: events.TrackEmployees, TeamSize: 1, Trade: elec, Rank: 1 + i%20, Award: events.AwardNone})
		case 4:
			b.add(d, d, events.MentorshipStarted{MentorshipParties: events.MentorshipParties{MentorshipID: fmt.Sprintf("m%d", i), MasterID: "c-1", ApprenticeID: fmt.Sprintf("a%d", i)}, Kind: events.MentorshipMasterApprentice, Trade: elec})
		case 5:
			l := events.Senior
			b.add(d, d, events.MentorshipCompleted{MentorshipParties: events.MentorshipParties{MentorshipID: fmt.Sprintf("m%d", i-1), MasterID: "c-1", ApprenticeID: fmt.Sprintf("a%d", i-1)}, Trade: elec, LevelReached: &l})
		case 6:
			b.add(d, d, events.HonourConferred{CraftsmanID: "c-1", HonourID: fmt.Sprintf("h%d", i), Code: "city_craftsman", Level: events.LevelCity, ConferringBody: "city"})
		case 9:
			if i%50 == 9 {
				b.add(d, d, events.EventCorrected{CraftsmanID: "c-1", SupersedesEventID: fmt.Sprintf("ev-%d", len(b.evs)-3), Reason: "typo"})
				continue
			}
			fallthrough
		default:
			b.add(d, d, events.TrainingCompleted{CraftsmanID: "c-1", AcademyID: "a", CourseID: "k", Trade: elec, Hours: 8, Mode: events.ModeOnTheJob, Passed: true})
		}
	}
	return b.evs
}

// BenchmarkFold folds a 200-event career; events/s is the figure recorded
// in docs/benchmarks.md.
func BenchmarkFold(b *testing.B) {
	for _, n := range []int{20, 200, 2000} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			evs := longCareer(n)
			asOf := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				career.Fold(evs, asOf, career.AsRecorded)
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
			if cpu := cpuTime() - cpu0; cpu > 0 {
				b.ReportMetric(float64(n*b.N)/cpu.Seconds(), "events/cpu-s")
			}
		})
	}
}

func TestLongCareerFolds(t *testing.T) {
	s := career.Fold(longCareer(2000), time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), career.AsRecorded)
	if s.Events != 2000-len(s.Corrections) || len(s.Corrections) == 0 || s.Trades[elec.Code].Level != events.Senior {
		t.Errorf("long career: %d events, %d corrections, level %v", s.Events, len(s.Corrections), s.Trades[elec.Code].Level)
	}
}
