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
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// encodedBy is encoded as recorded by organisation org (the metadata's
// issuerOrgId).
func encodedBy(t *testing.T, stream string, rev, pos uint64, org string, p events.Payload) eventstore.RecordedEvent {
	t.Helper()
	typ, data, err := events.Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := events.EncodeMetadata(events.NewMetadata(typ, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), org, "u-"+org))
	if err != nil {
		t.Fatal(err)
	}
	return eventstore.RecordedEvent{Stream: stream, ID: fmt.Sprintf("%s-%d", stream, rev), Type: typ, Revision: rev,
		Position: at(pos), Data: data, Metadata: meta, Created: time.Unix(int64(pos), 0).UTC()}
}

// linkLedger is craftsman id registered by reg-org, with facts recorded by
// organisations that have no standing link (an assessment and a
// certificate by stranger, whose own employment was retracted), a past
// employment at emp-old, a retracted enrolment at acad-ret, a
// completed training at acad and an entitlement approved by the HR
// authority hrss.
func linkLedger(t *testing.T, id string) []eventstore.RecordedEvent {
	s := events.CraftsmanStream(id)
	trade := events.Trade{Code: "6-18-02-04", Name: "welder"}
	return []eventstore.RecordedEvent{
		encodedBy(t, s, 0, 1, "reg-org", events.CraftsmanRegistered{CraftsmanID: id, NationalIDHash: strings.Repeat("ab", 32), Region: "R",
			Personal: &events.Personal{Name: "张三"}}),
		encodedBy(t, s, 1, 2, "stranger", events.AssessmentRecorded{CraftsmanID: id, AssessmentID: "r7-a1", Trade: trade, Level: events.Junior,
			EvaluatingOrgID: "stranger"}),
		encodedBy(t, s, 2, 3, "stranger", events.SkillLevelCertified{CraftsmanID: id, Trade: trade, Level: events.Junior, CertificateNumber: "N1",
			Family: events.FamilySkillLevel, EvaluatingOrgID: "stranger", IssuingOrg: events.Org{ID: "stranger", Kind: events.IssuerThirdParty}, Route: events.RouteRegular}),
		encodedBy(t, s, 3, 4, "emp-old", events.EmploymentStarted{CraftsmanID: id, EmploymentID: "e-old", EmployerOrgID: "emp-old", Trade: trade}),
		encodedBy(t, s, 4, 5, "emp-old", events.EmploymentEnded{CraftsmanID: id, EmploymentID: "e-old", Reason: "moved"}),
		encodedBy(t, s, 5, 6, "stranger", events.EmploymentStarted{CraftsmanID: id, EmploymentID: "e-x", EmployerOrgID: "stranger", Trade: trade}),
		encodedBy(t, s, 6, 7, "stranger", events.EventCorrected{CraftsmanID: id, SupersedesEventID: s + "-5", Reason: "recorded in error"}),
		encodedBy(t, s, 7, 8, "acad-ret", events.TrainingEnrolled{CraftsmanID: id, EnrolmentID: "en-1", AcademyID: "acad-ret", CourseID: "c", Trade: trade, Mode: "classroom"}),
		encodedBy(t, s, 8, 9, "acad-ret", events.EventCorrected{CraftsmanID: id, SupersedesEventID: s + "-7", Reason: "never enrolled"}),
		encodedBy(t, s, 9, 10, "acad", events.TrainingCompleted{CraftsmanID: id, AcademyID: "acad", CourseID: "c", Trade: trade, Hours: 8, Mode: "classroom", Passed: true}),
		encodedBy(t, s, 10, 11, "hrss", events.PromotionEntitlementApproved{CraftsmanID: id, EntitlementID: "ent-1", ApprovalRef: "津人社〔2024〕1号", ApprovingOrgID: "hrss"}),
	}
}

// checkLinks asserts the read rule on m for craftsman x of linkLedger:
// linked to its registrar, its past employer, the academy it trained at
// and the HR authority that approved its entitlement; not to the
// organisations that only recorded facts, nor through a retracted
// employment or enrolment.
func checkLinks(t *testing.T, m *Memory, when string) {
	t.Helper()
	s, ok := m.Summary("x")
	if !ok {
		t.Fatalf("%s: no summary", when)
	}
	if got, want := s.Orgs(), []string{"acad", "emp-old", "hrss", "reg-org"}; !slices.Equal(got, want) {
		t.Errorf("%s: linked organisations %v, want %v", when, got, want)
	}
	for _, org := range []string{"stranger", "acad-ret"} {
		if s.LinkedTo(org) {
			t.Errorf("%s: linked to %s", when, org)
		}
		var seen []string
		m.ScanBy("", org, 2, func(_ int, id string, _ Summary) { seen = append(seen, id) })
		if len(seen) != 0 {
			t.Errorf("%s: a scan of %s sees %v", when, org, seen)
		}
	}
	for _, org := range []string{"reg-org", "emp-old", "acad", "hrss"} {
		var seen []string
		m.ScanBy("", org, 2, func(_ int, id string, _ Summary) { seen = append(seen, id) })
		if !slices.Equal(seen, []string{"x"}) {
			t.Errorf("%s: a scan of %s sees %v, want [x]", when, org, seen)
		}
	}
}

// Recording a fact about a craftsman (an assessment, a certificate) links
// no organisation to them; retracted facts link no one; the registrar, a
// past employer and an academy trained at stay linked (the security
// review's finding: every organisation that had recorded an event could
// read the record).
func TestLinksAreStandingLinksOnly(t *testing.T) {
	m := NewMemory()
	if err := m.Apply(linkLedger(t, "x"), at(11)); err != nil {
		t.Fatal(err)
	}
	checkLinks(t, m, "live")
	// Before the retractions the retracted facts did link.
	s, _, _, _, _ := m.SummaryAsOf("x", time.Unix(6, 0))
	if !s.LinkedTo("stranger") || s.LinkedTo("acad-ret") {
		t.Errorf("as of the stranger's employment: linked %v, want it among them", s.Orgs())
	}
	path := filepath.Join(t.TempDir(), "s.snap")
	if err := m.WriteSnapshot(path, "p"); err != nil {
		t.Fatal(err)
	}
	back := NewMemory()
	if err := back.LoadSnapshot(path, "p"); err != nil {
		t.Fatal(err)
	}
	checkLinks(t, back, "after a load")
}

// A snapshot written before the read rule changed (version 5, or 4)
// stored every organisation that had recorded an event as linked: its
// summaries are derived again on load, and the side files are told only
// of the craftsmen with a correction (the as-of rows hold no Linked list).
func TestSnapshotLoadRelinksOldSummaries(t *testing.T) {
	for _, version := range []byte{issuersVersion, oldRuleVersion} {
		t.Run(fmt.Sprint("version ", version), func(t *testing.T) {
			m := NewMemory()
			if err := m.Apply(linkLedger(t, "x"), at(11)); err != nil {
				t.Fatal(err)
			}
			// What the older code stored: every recording organisation.
			m.dom.craftsmen["x"].Summary.Linked = []string{"acad", "acad-ret", "emp-old", "hrss", "reg-org", "stranger"}
			path := filepath.Join(t.TempDir(), "s.snap")
			if err := m.WriteSnapshot(path, "p"); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(data[:4]) != snapshotMagic || data[4] != snapshotVersion {
				t.Fatalf("header % x", data[:5])
			}
			data[4] = version
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
			checkLinks(t, back.Memory, "after loading an older file")
			// An older file also names the craftsmen with a correction (x
			// has two): their as-of rows may differ (versions 4 to 6 applied
			// a correction of another type; version 4, chains differently).
			want := []int{0}
			if !slices.Equal(side.tag.Rederived, want) {
				t.Errorf("the tag names %v derived again, want %v", side.tag.Rederived, want)
			}
		})
	}
}
