package readmodel

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// encodedOn is encoded with the fact's occurrence set.
func encodedOn(t *testing.T, stream string, rev, pos uint64, occurred time.Time, p events.Payload) eventstore.RecordedEvent {
	t.Helper()
	typ, data, err := events.Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := events.EncodeMetadata(events.NewMetadata(typ, occurred, "org", "u"))
	if err != nil {
		t.Fatal(err)
	}
	return eventstore.RecordedEvent{Stream: stream, ID: fmt.Sprintf("%s-%d", stream, rev), Type: typ, Revision: rev,
		Position: at(pos), Data: data, Metadata: meta, Created: time.Unix(int64(pos), 0).UTC()}
}

func replacement(t *testing.T, p events.Payload) *events.Replacement {
	t.Helper()
	r, err := events.NewReplacement(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// correctionChain is a ledger with chains of corrections: a certificate
// retracted and the retraction retracted (in force again), a completion
// of 100 h corrected to 10 h then to 20 h (the latest decides), and an
// employment at org-a corrected to org-b then the correction retracted
// (org-a again).
func correctionChain(t *testing.T, id string) []eventstore.RecordedEvent {
	s := events.CraftsmanStream(id)
	trade := events.Trade{Code: "6-18-02-04", Name: "welder"}
	tc := func(h float64) events.TrainingCompleted {
		return events.TrainingCompleted{CraftsmanID: id, AcademyID: "acad1", CourseID: "c", Trade: trade, Hours: h, Mode: "classroom", Passed: true}
	}
	job := func(org string) events.EmploymentStarted {
		return events.EmploymentStarted{CraftsmanID: id, EmploymentID: "e1", EmployerOrgID: org, Trade: trade}
	}
	ps := []events.Payload{
		events.CraftsmanRegistered{CraftsmanID: id, NationalIDHash: strings.Repeat("ab", 32), BirthDate: "1980-01-02", Region: "R"},
		events.SkillLevelCertified{CraftsmanID: id, Trade: trade, Level: events.Junior, CertificateNumber: "N1", Family: events.FamilySkillLevel,
			EvaluatingOrgID: "acad1", IssuingOrg: events.Org{ID: "acad1", Kind: events.IssuerThirdParty}, Route: events.RouteRegular}, // 1
		events.EventCorrected{CraftsmanID: id, SupersedesEventID: s + "-1", Reason: "retract"},              // 2
		events.EventCorrected{CraftsmanID: id, SupersedesEventID: s + "-2", Reason: "retraction withdrawn"}, // 3
		tc(100), // 4
		events.EventCorrected{CraftsmanID: id, SupersedesEventID: s + "-4", Reason: "10", Replacement: replacement(t, tc(10))}, // 5
		events.EventCorrected{CraftsmanID: id, SupersedesEventID: s + "-4", Reason: "20", Replacement: replacement(t, tc(20))}, // 6
		job("org-a"), // 7
		events.EventCorrected{CraftsmanID: id, SupersedesEventID: s + "-7", Reason: "b", Replacement: replacement(t, job("org-b"))}, // 8
		events.EventCorrected{CraftsmanID: id, SupersedesEventID: s + "-8", Reason: "not b"},                                        // 9
	}
	out := make([]eventstore.RecordedEvent, len(ps))
	for i, p := range ps {
		out[i] = encoded(t, s, uint64(i), uint64(10+i), p)
	}
	return out
}

// The facts in force in a view and in a summary follow the domain's
// correction rule (career.Fold): the latest correction of an event decides
// it, correcting a correction cancels it.
func TestCorrectionChainsFollowTheDomain(t *testing.T) {
	m := NewMemory()
	if err := m.Apply(correctionChain(t, "x"), at(19)); err != nil {
		t.Fatal(err)
	}
	v, sum, ok := m.Craftsman("x", time.Time{}, time.Time{})
	if !ok {
		t.Fatal("no craftsman x")
	}
	st := career.Fold(m.Records("x"), time.Now(), career.AsRecorded)
	var got []string
	for _, r := range v.Effective {
		switch p := r.Payload.(type) {
		case events.SkillLevelCertified:
			got = append(got, "cert "+p.CertificateNumber)
		case events.TrainingCompleted:
			got = append(got, fmt.Sprintf("training %gh", p.Hours))
		case events.EmploymentStarted:
			got = append(got, "employed at "+p.EmployerOrgID)
		}
	}
	var want []string
	for _, c := range st.Certificates {
		want = append(want, "cert "+c.Number)
	}
	for _, tr := range st.Training {
		want = append(want, fmt.Sprintf("training %gh", tr.Hours))
	}
	for _, e := range st.Employments {
		want = append(want, "employed at "+e.EmployerOrgID)
	}
	if !slices.Equal(got, want) || !slices.Equal(want, []string{"cert N1", "training 20h", "employed at org-a"}) {
		t.Errorf("facts in force: view %q, domain fold %q; want cert N1, training 20h, employed at org-a", got, want)
	}
	if !slices.Equal(sum.Employers, []string{"org-a"}) {
		t.Errorf("summary's employers %v, want [org-a]", sum.Employers)
	}
	if s := summaryOf(m.dom.craftsmen["x"], time.Unix(100, 0)); !slices.Equal(s.Employers, []string{"org-a"}) {
		t.Errorf("summary as of a moment: employers %v, want [org-a]", s.Employers)
	}
	// What superseded what: the event -> the correction deciding it; a
	// cancelled correction -> the one that cancelled it.
	by := map[string]string{}
	for _, e := range v.Timeline() {
		by[strings.TrimPrefix(e.Record.ID, "craftsman-x-")] = strings.TrimPrefix(e.SupersededBy, "craftsman-x-")
	}
	for ev, want := range map[string]string{"1": "", "2": "3", "4": "6", "5": "", "7": "", "8": "9"} {
		if by[ev] != want {
			t.Errorf("event %s superseded by %q, want %q", ev, by[ev], want)
		}
	}
}

// With occurredBy, the corrections of facts that had occurred by then
// count however late they were made (career.AsOccurred): a retracted
// certificate and a corrected completion do not come back.
func TestOccurredByKeepsTheCorrections(t *testing.T) {
	const id = "y"
	s := events.CraftsmanStream(id)
	trade := events.Trade{Code: "6-18-02-04", Name: "welder"}
	d := func(y int, mo time.Month, day int) time.Time { return time.Date(y, mo, day, 0, 0, 0, 0, time.UTC) }
	tc := func(h float64) events.TrainingCompleted {
		return events.TrainingCompleted{CraftsmanID: id, AcademyID: "acad1", CourseID: "c", Trade: trade, Hours: h, Mode: "classroom", Passed: true}
	}
	batch := []eventstore.RecordedEvent{
		encodedOn(t, s, 0, 10, d(2020, 1, 1), events.CraftsmanRegistered{CraftsmanID: id, NationalIDHash: strings.Repeat("ab", 32), BirthDate: "1980-01-02", Region: "R"}),
		encodedOn(t, s, 1, 11, d(2024, 1, 10), events.SkillLevelCertified{CraftsmanID: id, Trade: trade, Level: events.Junior, CertificateNumber: "RA-TEST-0002",
			Family: events.FamilySkillLevel, EvaluatingOrgID: "acad1", IssuingOrg: events.Org{ID: "acad1", Kind: events.IssuerThirdParty}, Route: events.RouteRegular}),
		encodedOn(t, s, 2, 12, d(2024, 3, 1), tc(100)),
		encodedOn(t, s, 3, 13, d(2026, 6, 1), events.EventCorrected{CraftsmanID: id, SupersedesEventID: s + "-1", Reason: "retract"}),
		encodedOn(t, s, 4, 14, d(2026, 6, 2), events.EventCorrected{CraftsmanID: id, SupersedesEventID: s + "-2", Reason: "hours", Replacement: replacement(t, tc(40))}),
		encodedOn(t, s, 5, 15, d(2026, 6, 3), tc(7)), // occurred after the cut
	}
	m := NewMemory()
	if err := m.Apply(batch, at(15)); err != nil {
		t.Fatal(err)
	}
	for _, asOf := range []time.Time{{}, time.Unix(100, 0)} {
		v, _, _ := m.Craftsman(id, asOf, d(2025, 1, 1))
		var facts []string
		for _, r := range v.Effective {
			switch p := r.Payload.(type) {
			case events.SkillLevelCertified:
				facts = append(facts, "cert "+p.CertificateNumber)
			case events.TrainingCompleted:
				facts = append(facts, fmt.Sprintf("training %gh", p.Hours))
			}
		}
		if !slices.Equal(facts, []string{"training 40h"}) {
			t.Errorf("asOf %v, occurredBy 2025-01-01: facts %q, want [training 40h]", asOf, facts)
		}
		corrections := 0
		for _, e := range v.Timeline() {
			if e.Kind == "correction" {
				corrections++
			}
			if e.Record.Meta.OccurredAt.Equal(d(2026, 6, 3)) && e.Kind == "training" {
				t.Errorf("asOf %v: the timeline shows a completion that occurred after occurredBy", asOf)
			}
		}
		if corrections != 2 {
			t.Errorf("asOf %v: %d corrections in the timeline, want 2", asOf, corrections)
		}
		if asOf.IsZero() && len(v.Trades) != 1 {
			t.Errorf("trades %v, want the welder's", v.Trades)
		}
		for _, tl := range v.Trades {
			if tl.Level != events.Apprentice {
				t.Errorf("asOf %v: %s level %v, want apprentice (the certificate was retracted)", asOf, tl.Trade.Code, tl.Level)
			}
		}
	}
}

// A snapshot written before summaries followed the domain's correction
// rule (version 4) holds a stale summary for a craftsman whose ledger
// corrects a correction or corrects one event twice: the load derives
// those again, and says so to the side files.
func TestSnapshotLoadRederivesCorrectedSummaries(t *testing.T) {
	m := NewMemory()
	if err := m.Apply(correctionChain(t, "x"), at(19)); err != nil {
		t.Fatal(err)
	}
	// What the older rule derived: the replacement of the cancelled
	// correction in force.
	m.dom.craftsmen["x"].Summary.Employers = []string{"org-b"}
	path := filepath.Join(t.TempDir(), "s.snap")
	if err := m.WriteSnapshot(path, "p"); err != nil {
		t.Fatal(err)
	}
	// A current file's summaries are the file's.
	if err := NewMemory().LoadSnapshot(path, "p"); err != nil {
		t.Fatal(err)
	}
	// The same file as version 4 wrote it (the same layout).
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data[:4]) != snapshotMagic || data[4] != snapshotVersion {
		t.Fatalf("header % x", data[:5])
	}
	data[4] = oldRuleVersion
	body := data[:len(data)-4]
	binary.LittleEndian.PutUint32(data[len(body):], crc32.Checksum(body, crcTable))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	back := WithSidecars(NewMemory())
	side := &testSide{name: "a", version: 1}
	back.Add(side)
	if err := back.LoadSnapshot(path, "p"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(side.tag.Rederived, []int{0}) {
		t.Errorf("the tag names %v derived again, want [0] (x)", side.tag.Rederived)
	}
	s, _ := back.Summary("x")
	if !slices.Equal(s.Employers, []string{"org-a"}) {
		t.Errorf("employers after the load %v, want [org-a]", s.Employers)
	}
	var seen []string
	back.ScanBy("", "org-a", 10, func(_ int, id string, _ Summary) { seen = append(seen, id) })
	if !slices.Equal(seen, []string{"x"}) {
		t.Errorf("scan of org-a after the load saw %v, want [x]", seen)
	}
}

// The audit's link from an event to what superseded it, as of a moment:
// the latest correction recorded by then, not the latest of all (which
// may come after the moment while an earlier one stands).
func TestSupersededByAsOf(t *testing.T) {
	const id = "z"
	s := events.CraftsmanStream(id)
	trade := events.Trade{Code: "6-18-02-04"}
	tc := func(h float64) events.TrainingCompleted {
		return events.TrainingCompleted{CraftsmanID: id, AcademyID: "a", CourseID: "c", Trade: trade, Hours: h, Mode: "classroom", Passed: true}
	}
	batch := []eventstore.RecordedEvent{
		encoded(t, s, 0, 10, events.CraftsmanRegistered{CraftsmanID: id, NationalIDHash: strings.Repeat("ab", 32)}),
		encoded(t, s, 1, 11, tc(100)),
		encoded(t, s, 2, 20, events.EventCorrected{CraftsmanID: id, SupersedesEventID: s + "-1", Reason: "10", Replacement: replacement(t, tc(10))}),
		encoded(t, s, 3, 30, events.EventCorrected{CraftsmanID: id, SupersedesEventID: s + "-1", Reason: "20", Replacement: replacement(t, tc(20))}),
	}
	m := NewMemory()
	if err := m.Apply(batch, at(30)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		asOf time.Time
		want string
	}{{time.Time{}, s + "-3"}, {time.Unix(30, 0), s + "-3"}, {time.Unix(25, 0), s + "-2"}, {time.Unix(20, 0), s + "-2"}, {time.Unix(15, 0), ""}} {
		_, by := m.Corrections(s, 1, c.asOf)
		got := ""
		if by != nil {
			got = by.ID
		}
		if got != c.want {
			t.Errorf("as of %v: superseded by %q, want %q", c.asOf, got, c.want)
		}
	}
	// The same after a snapshot round trip (the links are rebuilt on load).
	path := filepath.Join(t.TempDir(), "s.snap")
	if err := m.WriteSnapshot(path, "p"); err != nil {
		t.Fatal(err)
	}
	back := NewMemory()
	if err := back.LoadSnapshot(path, "p"); err != nil {
		t.Fatal(err)
	}
	if _, by := back.Corrections(s, 1, time.Unix(25, 0)); by == nil || by.ID != s+"-2" {
		t.Errorf("after a load, as of 25 s: superseded by %v, want %s-2", by, s)
	}
}
