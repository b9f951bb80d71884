package policy_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/events/policy"
)

// The rules count civil days of the ledger's calendar, China Standard Time
// (career.CivilOffset): these tests give moments early in a China day,
// when the UTC date is still the day before.

var chinaTime = time.FixedZone("CST", 8*3600)

// inChina is the moment y-m-d h:00 in China.
func inChina(y int, m time.Month, d, h int) time.Time {
	return time.Date(y, m, d, h, 0, 0, 0, chinaTime)
}

// civilLedger builds one craftsman's recorded events.
type civilLedger struct{ evs []events.Recorded }

func (b *civilLedger) add(at time.Time, p events.Payload) string {
	id := fmt.Sprint("ev-", len(b.evs))
	b.evs = append(b.evs, events.Recorded{Stream: "craftsman-c", Revision: uint64(len(b.evs)), ID: id, Type: p.EventType(),
		RecordedAt: at, Meta: events.NewMetadata(p.EventType(), at, "o", "u"), Payload: p})
	return id
}

func civilRegistered() events.CraftsmanRegistered {
	return events.CraftsmanRegistered{CraftsmanID: "c", NationalIDHash: events.HashNationalID([]byte("k"), "1"), Personal: &events.Personal{Name: "x"}}
}

// trainingPolicy asks for 40 hours of training within the last year.
func trainingPolicy(t *testing.T) *policy.Policy {
	t.Helper()
	p := &policy.Policy{Name: "acad", Version: 1, EffectiveFrom: "2000-01-01", Label: "x", Owner: "academy",
		AppliesTo: policy.AppliesTo{AllTrades: true},
		Levels: []policy.LevelRule{{Target: events.Junior, Routes: []policy.Route{{ID: "t", Label: "t",
			Criteria: []policy.Criterion{{Kind: policy.KindTrainingHours, Hours: 40, WithinYears: 1}}}}}}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

// A version is in force from the start of its effective date in China
// (07:00 on 1 January in China is still 31 December in UTC).
func TestPolicyVersionInForceFromItsChinaDate(t *testing.T) {
	ps, set := defaultSet(t)
	v2 := *ps[0]
	v2.Version, v2.EffectiveFrom = 2, "2025-01-01"
	if err := v2.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := set.Add(&v2); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at   time.Time
		want int
	}{
		{inChina(2024, 12, 31, 23), 1},
		{inChina(2025, 1, 1, 0), 2},
		{inChina(2025, 1, 1, 7), 2},
		{time.Date(2024, 12, 31, 16, 0, 0, 0, time.UTC), 2}, // China midnight written in UTC
		{time.Date(2024, 12, 31, 15, 59, 0, 0, time.UTC), 1},
	} {
		if p, _ := set.At(policy.TemplateA, tc.at); p.Version != tc.want {
			t.Errorf("At(%s): version %d in force, want %d (version 2 effective from 2025-01-01)", tc.at, p.Version, tc.want)
		}
		if p, ok := set.ForTrade(elec.Code, events.Junior, tc.at); !ok || p.Version != tc.want {
			t.Errorf("ForTrade(%s): version %d in force (found %v), want %d", tc.at, p.Version, ok, tc.want)
		}
	}
}

// The yearly cap of competition promotions counts calendar years in China.
func TestYearlyCapCountsChinaCalendarYears(t *testing.T) {
	def := events.CompetitionDefined{CompetitionID: "c", Rules: events.CompetitionRules{
		Grants:               []events.GrantRule{{ID: "r1", Band: events.Band{FromRank: 1, ToRank: 10}, Level: events.Technician}},
		MaxPromotionsPerYear: 1, RequiresApproval: true,
	}}
	pl := events.CompetitionPlaced{CraftsmanID: "w", CompetitionID: "c", PlacementID: "p-2024", Trade: elec, Rank: 1}
	// An earlier entitlement on 31 December 2023, 20:00 in China.
	prev := career.Entitlement{ID: "ent-prev", Trade: elec.Code, Level: events.Senior, Granted: inChina(2023, 12, 31, 20).UTC(),
		Origin: events.EntitlementSource{Kind: events.SourceCompetition, CompetitionID: "c0", PlacementID: "p-2023"}}
	asOf := &career.State{CraftsmanID: "w", Trades: map[string]*career.Trade{}}
	// This result on 1 January 2024, 06:00 in China (still 2023 in UTC).
	d := policy.CompetitionGrant(policy.GrantInput{Competition: def, Placement: pl, AsOf: asOf, Entitlements: []career.Entitlement{prev}, At: inChina(2024, 1, 1, 6)})
	if d.Entitlement == nil {
		t.Errorf("2023-12-31 and 2024-01-01 (China) are two calendar years, but: %s", d.Reason)
	}
	// Both on 1 January 2024 in China, one before 08:00 (2023 in UTC), one after.
	prev.Granted = inChina(2024, 1, 1, 6).UTC()
	d = policy.CompetitionGrant(policy.GrantInput{Competition: def, Placement: pl, AsOf: asOf, Entitlements: []career.Entitlement{prev}, At: inChina(2024, 1, 1, 10)})
	if d.Entitlement != nil {
		t.Errorf("two competition promotions on 2024-01-01 (China) granted despite a cap of 1: %s", d.Reason)
	} else if want := "yearly cap reached: 1 competition promotion(s) already granted in 2024 (max 1)"; d.Reason != want {
		t.Errorf("reason %q, want %q", d.Reason, want)
	}
}

// The training window is counted in civil days: training on 2 June 2023
// at 09:00 in China (01:00 UTC) is within one year of 1 June 2024.
func TestTrainingWindowCountsCivilDays(t *testing.T) {
	p := trainingPolicy(t)
	b := &civilLedger{}
	b.add(inChina(2020, 1, 1, 9), civilRegistered())
	b.add(inChina(2023, 6, 2, 9), events.TrainingCompleted{CraftsmanID: "c", AcademyID: "a", CourseID: "k", Trade: elec, Hours: 40, Mode: events.ModeClassroom, Passed: true})
	at := inChina(2024, 6, 1, 12)
	s := career.Fold(b.evs, at, career.AsOccurred)
	if r := policy.Evaluate(s, p, elec.Code, events.Junior, at); !r.Eligible {
		t.Errorf("training of 2023-06-02 is within one year of 2024-06-01, but: %+v", r.Routes[0].Criteria[0])
	}
}

// "Within N years" reaches back to the same calendar date N years earlier,
// as every other count of years does, leap day or not.
func TestTrainingWindowIsCalendarYears(t *testing.T) {
	p := trainingPolicy(t)
	for _, tc := range []struct {
		trained, at string
		want        bool
	}{
		{"2022-06-01", "2023-06-01", true},
		{"2023-06-01", "2024-06-01", true}, // 366 days: the year holds 29 February 2024
		{"2023-05-31", "2024-06-01", false},
		{"2022-05-31", "2023-06-01", false},
	} {
		b := &civilLedger{}
		b.add(parseDate(t, "2020-01-01"), civilRegistered())
		b.add(parseDate(t, tc.trained), events.TrainingCompleted{CraftsmanID: "c", AcademyID: "a", CourseID: "k", Trade: elec, Hours: 40, Mode: events.ModeClassroom, Passed: true})
		at := parseDate(t, tc.at)
		s := career.Fold(b.evs, at, career.AsOccurred)
		if r := policy.Evaluate(s, p, elec.Code, events.Junior, at); r.Eligible != tc.want {
			t.Errorf("trained %s, asked %s: eligible %v, want %v", tc.trained, tc.at, r.Eligible, tc.want)
		}
	}
}

// Years counted from a date given as China midnight end on the same civil
// date (not a day early, as they did when the anniversary was taken on the
// UTC date 2019-02-28).
func TestAnniversaryOfChinaMidnightStart(t *testing.T) {
	a, err := policy.Default(policy.TemplateA)
	if err != nil {
		t.Fatal(err)
	}
	b := &civilLedger{}
	b.add(inChina(2019, 3, 1, 0), civilRegistered())
	b.add(inChina(2019, 3, 1, 0), events.EmploymentStarted{CraftsmanID: "c", EmploymentID: "e", EmployerOrgID: "o", Trade: elec})
	at := inChina(2020, 2, 29, 12) // the day before the first anniversary
	s := career.Fold(b.evs, at, career.AsOccurred)
	if r := policy.Evaluate(s, a, elec.Code, events.Junior, at); r.Eligible {
		t.Errorf("work since 2019-03-01: ≥ 1 year met on 2020-02-29 already: %s", r.Routes[0].Criteria[0].Actual)
	}
	at = inChina(2020, 3, 1, 0)
	s = career.Fold(b.evs, at, career.AsOccurred)
	if r := policy.Evaluate(s, a, elec.Code, events.Junior, at); !r.Eligible {
		t.Errorf("work since 2019-03-01: ≥ 1 year not met on 2020-03-01: %s", r.Routes[0].Criteria[0].Actual)
	}
	at = inChina(2019, 9, 1, 12)
	s = career.Fold(b.evs, at, career.AsOccurred)
	r := policy.Evaluate(s, a, elec.Code, events.Junior, at)
	if r.EarliestDate == nil || !r.EarliestDate.Equal(parseDate(t, "2020-03-01")) {
		t.Errorf("earliest date %v, want 2020-03-01", r.EarliestDate)
	}
	// The fold keeps moments in UTC: China midnight is 16:00 the day before.
	for _, anchor := range []time.Time{inChina(2019, 3, 1, 0), inChina(2019, 3, 1, 0).UTC(), inChina(2019, 3, 1, 23).UTC(), time.Date(2019, 3, 1, 0, 0, 0, 0, time.UTC)} {
		if got := career.RequiredDaysFrom(anchor, 1); got != 366 {
			t.Errorf("RequiredDaysFrom(%s, 1) = %d, want 366 (2019-03-01..2020-03-01)", anchor, got)
		}
	}
	if got := career.RequiredDaysFrom(inChina(2019, 9, 1, 0).UTC(), 0.5); got != 182 {
		t.Errorf("RequiredDaysFrom(2019-09-01 China, 0.5) = %d, want 182 (2019-09-01..2020-03-01)", got)
	}
}
