package career_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
)

var elec = events.Trade{Code: "6-31-01-03", Name: "电工"}

func date(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

// builder appends events to one craftsman's stream.
type builder struct {
	id  string
	evs []events.Recorded
}

func (b *builder) add(occurred, recorded string, p events.Payload) string {
	rev := uint64(len(b.evs))
	id := fmt.Sprintf("ev-%d", rev)
	m := events.NewMetadata(p.EventType(), date(occurred), "org-1", "user-1")
	b.evs = append(b.evs, events.Recorded{Stream: events.CraftsmanStream(b.id), Revision: rev, ID: id, Type: p.EventType(),
		RecordedAt: date(recorded), Meta: m, Payload: p})
	return id
}

func story() *builder {
	b := &builder{id: "c-1"}
	b.add("2010-01-01", "2010-01-01", events.CraftsmanRegistered{CraftsmanID: "c-1", NationalIDHash: events.HashNationalID([]byte("k"), "1"), Personal: &events.Personal{Name: "王师傅"}})
	b.add("2010-01-01", "2010-01-01", events.EmploymentStarted{CraftsmanID: "c-1", EmploymentID: "e1", EmployerOrgID: "org-1", Trade: elec})
	b.add("2012-01-01", "2012-01-01", events.EmploymentEnded{CraftsmanID: "c-1", EmploymentID: "e1"})
	b.add("2013-01-01", "2013-01-01", events.EmploymentStarted{CraftsmanID: "c-1", EmploymentID: "e2", EmployerOrgID: "org-2", Trade: elec})
	b.add("2014-06-01", "2014-06-01", events.TrainingCompleted{CraftsmanID: "c-1", AcademyID: "a", CourseID: "k", Trade: elec, Hours: 40, Mode: events.ModeClassroom, Passed: true})
	b.add("2015-01-01", "2015-01-01", events.SkillLevelCertified{CraftsmanID: "c-1", Trade: elec, Level: events.Intermediate, CertificateNumber: "N-1",
		Family: events.FamilySkillLevel, EvaluatingOrgID: "x", IssuingOrg: events.Org{ID: "x", Kind: events.IssuerThirdParty}, Route: events.RouteRegular})
	return b
}

func TestFoldBasics(t *testing.T) {
	b := story()
	s := career.Fold(b.evs, date("2016-01-01"), career.AsRecorded)
	tr := s.Trades[elec.Code]
	if s.CraftsmanID != "c-1" || tr == nil || tr.Level != events.Intermediate || tr.TrainingHours != 40 {
		t.Fatalf("state = %+v trade %+v", s, tr)
	}
	// 2010-01-01..2012-01-01 (730 days) + 2013-01-01..2016-01-01 (1095 days)
	if got := s.WorkDays([]string{elec.Code}, time.Time{}, s.AsOf); got != 730+1095 {
		t.Errorf("work days = %d", got)
	}
	if got := s.WorkDays([]string{elec.Code}, date("2015-01-01"), s.AsOf); got != 365 {
		t.Errorf("work days since cert = %d", got)
	}
	// as of before the certificate
	if s := career.Fold(b.evs, date("2014-12-31"), career.AsRecorded); s.Level(elec.Code) != events.Apprentice {
		t.Errorf("level before certificate = %v", s.Level(elec.Code))
	}
}

func TestBackfillAsRecordedVsOccurred(t *testing.T) {
	b := story()
	// A paper certificate of 2011, recorded only in 2020.
	b.add("2011-06-01", "2020-03-01", events.SkillLevelCertified{CraftsmanID: "c-1", Trade: elec, Level: events.Junior, CertificateNumber: "P-1",
		Family: events.FamilyVocationalQualification, EvaluatingOrgID: "x", IssuingOrg: events.Org{ID: "x", Kind: events.IssuerDesignatedBody}, Route: events.RouteRegular})
	rec := career.Fold(b.evs, date("2019-01-01"), career.AsRecorded)
	occ := career.Fold(b.evs, date("2019-01-01"), career.AsOccurred)
	if _, ok := rec.LevelSince([]string{elec.Code}, events.Junior); !ok {
		t.Fatal("no level")
	}
	if l, _ := rec.LevelSince([]string{elec.Code}, events.Junior); !l.Since.Equal(date("2015-01-01")) {
		t.Errorf("as recorded in 2019 the first level dates from %v", l.Since)
	}
	if l, _ := occ.LevelSince([]string{elec.Code}, events.Junior); !l.Since.Equal(date("2011-06-01")) {
		t.Errorf("as occurred the first level dates from %v", l.Since)
	}
}

func TestCorrectionAndReversal(t *testing.T) {
	b := story()
	before := career.Fold(b.evs, date("2030-01-01"), career.AsOccurred)
	// Correct the training hours, then reverse the correction.
	rep, err := events.NewReplacement(events.TrainingCompleted{CraftsmanID: "c-1", AcademyID: "a", CourseID: "k", Trade: elec, Hours: 4, Mode: events.ModeClassroom, Passed: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cid := b.add("2020-01-01", "2020-01-01", events.EventCorrected{CraftsmanID: "c-1", SupersedesEventID: "ev-4", Reason: "typo", Replacement: rep})
	mid := career.Fold(b.evs, date("2030-01-01"), career.AsOccurred)
	if got := mid.Trades[elec.Code].TrainingHours; got != 4 {
		t.Fatalf("corrected hours = %v", got)
	}
	if mid.Training[0].Supersedes == nil || mid.Training[0].Supersedes.EventID != "ev-4" || mid.Training[0].Ref.EventID != cid {
		t.Errorf("corrected training evidence = %+v", mid.Training[0].Source)
	}
	b.add("2021-01-01", "2021-01-01", events.EventCorrected{CraftsmanID: "c-1", SupersedesEventID: cid, Reason: "the paper record was right"})
	after := career.Fold(b.evs, date("2030-01-01"), career.AsOccurred)
	if !reflect.DeepEqual(summary(before), summary(after)) {
		t.Errorf("reversal did not restore:\n%s\n%s", summary(before), summary(after))
	}
	// Retract the certificate.
	b.add("2022-01-01", "2022-01-01", events.EventCorrected{CraftsmanID: "c-1", SupersedesEventID: "ev-5", Reason: "certificate belongs to another worker"})
	if s := career.Fold(b.evs, date("2030-01-01"), career.AsOccurred); s.Level(elec.Code) != events.Apprentice || len(s.Certificates) != 0 {
		t.Errorf("retracted certificate still counts: %v", s.Level(elec.Code))
	}
	// As recorded before the retraction it still counted.
	if s := career.Fold(b.evs, date("2021-06-01"), career.AsRecorded); s.Level(elec.Code) != events.Intermediate {
		t.Errorf("as recorded before the retraction: %v", s.Level(elec.Code))
	}
}

// A correction that replaces a fact with one of another type (a training
// "corrected" into a senior certificate) decides nothing: the services
// refuse it, and the fold keeps the training and shows no certificate.
func TestReplacementOfAnotherTypeIsIgnored(t *testing.T) {
	b := story()
	before := career.Fold(b.evs, date("2030-01-01"), career.AsOccurred)
	rep, err := events.NewReplacement(events.SkillLevelCertified{CraftsmanID: "c-1", Trade: elec, Level: events.Senior, CertificateNumber: "S-9",
		Family: events.FamilySkillLevel, EvaluatingOrgID: "mohrss", IssuingOrg: events.Org{ID: "mohrss", Kind: events.IssuerThirdParty}, Route: events.RouteRegular}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cid := b.add("2020-01-01", "2020-01-01", events.EventCorrected{CraftsmanID: "c-1", SupersedesEventID: "ev-4", Reason: "typo", Replacement: rep})
	after := career.Fold(b.evs, date("2030-01-01"), career.AsOccurred)
	if !reflect.DeepEqual(summary(before), summary(after)) || after.Level(elec.Code) != events.Intermediate {
		t.Errorf("a training replaced by a certificate changed the state:\n%s\n%s", summary(before), summary(after))
	}
	if d := career.Decide(b.evs); len(d.Of) != 0 {
		t.Errorf("Decide: %+v, want no decision", d.Of)
	}
	// Nor does it cancel a correction it supersedes: a correction of the
	// training's hours, then a "correction" of that one into a certificate.
	hours, err := events.NewReplacement(events.TrainingCompleted{CraftsmanID: "c-1", AcademyID: "a", CourseID: "k", Trade: elec, Hours: 4, Mode: events.ModeClassroom, Passed: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.evs = b.evs[:len(b.evs)-1]
	hid := b.add("2020-01-01", "2020-01-01", events.EventCorrected{CraftsmanID: "c-1", SupersedesEventID: "ev-4", Reason: "typo", Replacement: hours})
	b.add("2021-01-01", "2021-01-01", events.EventCorrected{CraftsmanID: "c-1", SupersedesEventID: hid, Reason: "typo", Replacement: rep})
	s := career.Fold(b.evs, date("2030-01-01"), career.AsOccurred)
	if got := s.Trades[elec.Code].TrainingHours; got != 4 || len(s.Certificates) != 1 || cid == "" {
		t.Errorf("hours %v, certificates %d; want the hours correction in force (4) and the one certificate", got, len(s.Certificates))
	}
}

// summary is the state without the correction log and event count.
func summary(s *career.State) string {
	c := *s
	c.Corrections, c.Events = nil, 0
	b, _ := json.Marshal(c)
	return string(b)
}

// TestFoldOrderStable: any permutation of the input gives the same state.
func TestFoldOrderStable(t *testing.T) {
	b := story()
	// Same-timestamp events (same occurredAt and recordedAt).
	for i := 0; i < 5; i++ {
		b.add("2016-03-01", "2016-03-01", events.TrainingCompleted{CraftsmanID: "c-1", AcademyID: "a", CourseID: fmt.Sprintf("k%d", i), Trade: elec,
			Hours: float64(i + 1), Mode: events.ModeOnTheJob, Passed: true})
	}
	want, _ := json.Marshal(career.Fold(b.evs, date("2020-01-01"), career.AsRecorded))
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 50; i++ {
		evs := append([]events.Recorded(nil), b.evs...)
		r.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		got, _ := json.Marshal(career.Fold(evs, date("2020-01-01"), career.AsRecorded))
		if string(got) != string(want) {
			t.Fatalf("permutation %d gives a different state:\n%s\nwant\n%s", i, got, want)
		}
	}
}

// TestCivilDays: facts dated at local midnight in China (UTC+8) count on
// their Chinese date, the same as facts dated at UTC midnight.
func TestCivilDays(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	b := &builder{id: "c-9"}
	b.add("2020-01-01", "2020-01-01", events.CraftsmanRegistered{CraftsmanID: "c-9", NationalIDHash: events.HashNationalID([]byte("k"), "9"), Personal: &events.Personal{Name: "x"}})
	b.add("2020-01-01", "2020-01-01", events.EmploymentStarted{CraftsmanID: "c-9", EmploymentID: "e", EmployerOrgID: "o", Trade: elec})
	b.evs[1].Meta.OccurredAt = time.Date(2020, 1, 1, 0, 0, 0, 0, cst) // 2019-12-31T16:00Z
	s := career.Fold(b.evs, date("2024-01-01"), career.AsRecorded)
	trades := []string{elec.Code}
	need := career.RequiredDaysFrom(time.Date(2020, 1, 1, 0, 0, 0, 0, cst), 4)
	if got := s.WorkDays(trades, time.Time{}, date("2023-12-31")); got != need-1 {
		t.Errorf("days worked by 2023-12-31 = %d, want %d (one short of 4 years)", got, need-1)
	}
	if got := s.WorkDays(trades, time.Time{}, date("2024-01-01")); got != need {
		t.Errorf("days worked by 2024-01-01 = %d, want %d", got, need)
	}
	if d := career.CivilDate(time.Date(2020, 1, 1, 0, 0, 0, 0, cst)); !d.Equal(date("2020-01-01")) {
		t.Errorf("civil date of CST midnight = %v", d)
	}
}

// TestRetractedPlacementWithdrawsItsEntitlement: an entitlement granted by
// a competition placement goes with the placement when a correction
// retracts it (approval, certificates and the yearly cap see no such
// entitlement); a replaced placement, a reversed retraction, another
// placement's entitlement and a retraction not yet recorded keep it.
func TestRetractedPlacementWithdrawsItsEntitlement(t *testing.T) {
	placed := func(pid string, rank int) events.CompetitionPlaced {
		return events.CompetitionPlaced{CraftsmanID: "c-1", CompetitionID: "nc-2025", PlacementID: pid, Tier: events.TierNationalClass1,
			Track: events.TrackEmployees, TeamSize: 1, Trade: elec, Rank: rank, Award: events.AwardNone}
	}
	granted := func(id, pid string) events.PromotionEntitlementGranted {
		return events.PromotionEntitlementGranted{CraftsmanID: "c-1", EntitlementID: id, Trade: elec, Level: events.Senior, RequiresApproval: true,
			Source: events.EntitlementSource{Kind: events.SourceCompetition, CompetitionID: "nc-2025", PlacementID: pid, RuleID: "r"}}
	}
	// base: two placements with their entitlements (ev-6..ev-9) and the
	// first entitlement's approval (ev-10).
	base := func() *builder {
		b := story()
		b.add("2025-09-05", "2025-09-05", placed("p1", 3))
		b.add("2025-09-05", "2025-09-05", granted("ent-1", "p1"))
		b.add("2025-09-05", "2025-09-05", placed("p2", 8))
		b.add("2025-09-05", "2025-09-05", granted("ent-2", "p2"))
		b.add("2025-10-10", "2025-10-10", events.PromotionEntitlementApproved{CraftsmanID: "c-1", EntitlementID: "ent-1", ApprovalRef: "r-1", ApprovingOrgID: "hr"})
		return b
	}
	retract := func(b *builder, target, on string) string {
		return b.add(on, on, events.EventCorrected{CraftsmanID: "c-1", SupersedesEventID: target, Reason: "disqualified"})
	}
	tests := []struct {
		name     string
		build    func(b *builder)
		asOf     string
		mode     career.Mode
		want     []string // entitlement ids
		approved bool     // ent-1 approved
	}{
		{name: "no correction", build: func(*builder) {}, want: []string{"ent-1", "ent-2"}, approved: true},
		{name: "first placement retracted", build: func(b *builder) { retract(b, "ev-6", "2025-11-01") }, want: []string{"ent-2"}},
		{name: "second placement retracted", build: func(b *builder) { retract(b, "ev-8", "2025-11-01") }, want: []string{"ent-1"}, approved: true},
		{name: "retraction reversed", build: func(b *builder) {
			c := retract(b, "ev-6", "2025-11-01")
			retract(b, c, "2025-11-02")
		}, want: []string{"ent-1", "ent-2"}, approved: true},
		{name: "placement replaced (rank fixed)", build: func(b *builder) {
			rep, err := events.NewReplacement(placed("p1", 4), nil)
			if err != nil {
				t.Fatal(err)
			}
			b.add("2025-11-01", "2025-11-01", events.EventCorrected{CraftsmanID: "c-1", SupersedesEventID: "ev-6", Reason: "rank 4", Replacement: rep})
		}, want: []string{"ent-1", "ent-2"}, approved: true},
		{name: "as recorded before the retraction", build: func(b *builder) { retract(b, "ev-6", "2025-11-01") },
			asOf: "2025-10-20", mode: career.AsRecorded, want: []string{"ent-1", "ent-2"}, approved: true},
		{name: "the entitlement itself retracted", build: func(b *builder) { retract(b, "ev-7", "2025-11-01") }, want: []string{"ent-2"}},
		{name: "a policy entitlement naming the placement", build: func(b *builder) {
			g := granted("ent-3", "p1")
			g.Source = events.EntitlementSource{Kind: events.SourcePolicy, PlacementID: "p1", Note: "academy rule"}
			b.add("2025-09-06", "2025-09-06", g)
			retract(b, "ev-6", "2025-11-01")
		}, want: []string{"ent-2", "ent-3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := base()
			tc.build(b)
			asOf, mode := date("2030-01-01"), career.AsOccurred
			if tc.asOf != "" {
				asOf, mode = date(tc.asOf), tc.mode
			}
			s := career.Fold(b.evs, asOf, mode)
			var got []string
			approved := false
			for _, e := range s.Entitlements {
				got = append(got, e.ID)
				if e.ID == "ent-1" {
					approved = e.Approved
				}
			}
			if !reflect.DeepEqual(got, tc.want) || approved != tc.approved {
				t.Errorf("entitlements %v (ent-1 approved %v), want %v (%v)", got, approved, tc.want, tc.approved)
			}
		})
	}
}
