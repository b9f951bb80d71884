package readmodel

import (
	"encoding/binary"
	"hash/crc32"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// foreignLedger: craftsman id completes a training, then a correction
// replaces it with a senior certificate (another type: a forgery, which
// the fold ignores since a546511; versions 4 to 6 of the snapshot hold
// summaries derived when it applied).
func foreignLedger(t *testing.T, id string, rev0, pos0 uint64) []eventstore.RecordedEvent {
	s := events.CraftsmanStream(id)
	elec := events.Trade{Code: "6-31-01-03"}
	tc := events.TrainingCompleted{CraftsmanID: id, AcademyID: "a", CourseID: "c", Trade: elec, Hours: 8, Mode: "classroom", Passed: true}
	cert := events.SkillLevelCertified{CraftsmanID: id, Trade: elec, Level: events.Senior, CertificateNumber: "S-9", Family: events.FamilySkillLevel,
		EvaluatingOrgID: "mohrss", IssuingOrg: events.Org{ID: "mohrss", Kind: events.IssuerThirdParty}, Route: events.RouteRegular}
	return []eventstore.RecordedEvent{
		encoded(t, s, rev0, pos0, events.CraftsmanRegistered{CraftsmanID: id, NationalIDHash: strings.Repeat("ab", 32)}),
		encoded(t, s, rev0+1, pos0+1, tc),
		encoded(t, s, rev0+2, pos0+2, events.EventCorrected{CraftsmanID: id, SupersedesEventID: s + "-1", Reason: "typo", Replacement: replacement(t, cert)}),
	}
}

// A snapshot of version 6 (or older) holds, for a craftsman whose training
// was "corrected" into a senior certificate, the summary of the older rule
// (levels: senior) while the profile shows no certificate: the load
// derives the summaries of the craftsmen with a correction again and
// names them to the side files; the others are the file's.
func TestSnapshotLoadRederivesForeignCorrections(t *testing.T) {
	m := NewMemory()
	plain := []eventstore.RecordedEvent{encoded(t, events.CraftsmanStream("p"), 0, 10, events.CraftsmanRegistered{CraftsmanID: "p", NationalIDHash: strings.Repeat("cd", 32)})}
	if err := m.Apply(append(plain, foreignLedger(t, "fx", 0, 11)...), at(13)); err != nil {
		t.Fatal(err)
	}
	want, _ := m.Summary("fx")
	if want.Levels["6-31-01-03"] != events.Apprentice {
		t.Fatalf("levels %v, want apprentice (the correction of another type is ignored)", want.Levels)
	}
	// What the older rule derived: the certificate in force.
	m.dom.craftsmen["fx"].Summary.Levels = map[string]events.Level{"6-31-01-03": events.Senior}
	// A summary the load must take from the file (p has no correction).
	m.dom.craftsmen["p"].Summary.Name = "from the file"
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
	// As written, then as version 6 wrote it (the same layout).
	for _, version := range []byte{snapshotVersion, 6} {
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
		got, _ := back.Summary("fx")
		p, _ := back.Summary("p")
		if p.Name != "from the file" {
			t.Errorf("version %d: p's summary %+v, want the file's", version, p)
		}
		if version == snapshotVersion {
			// The current version's summaries are the file's (senior, as
			// the test wrote it), not derived again (apprentice).
			if got.Levels["6-31-01-03"] != events.Senior || len(side.tag.Rederived) != 0 {
				t.Errorf("version %d: levels %v, rederived %v; want the file's, none", version, got.Levels, side.tag.Rederived)
			}
			continue
		}
		if !maps.Equal(got.Levels, want.Levels) {
			t.Errorf("version %d: levels after the load %v, want %v (derived again)", version, got.Levels, want.Levels)
		}
		if !slices.Equal(side.tag.Rederived, []int{1}) {
			t.Errorf("version %d: the tag names %v derived again, want [1] (fx)", version, side.tag.Rederived)
		}
		var seen []string
		back.ScanBy("6-31-01-03", "", 1, func(_ int, id string, s Summary) {
			if s.Levels["6-31-01-03"] == events.Senior {
				seen = append(seen, id)
			}
		})
		if len(seen) != 0 {
			t.Errorf("version %d: a scan sees %v senior electricians, want none", version, seen)
		}
	}
}
