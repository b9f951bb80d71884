package readmodel

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

func ev(stream string, rev, pos uint64) eventstore.RecordedEvent {
	return eventstore.RecordedEvent{Stream: stream, ID: stream + "-" + string(rune('a'+rev)), Type: "Unknown.v1", Revision: rev,
		Position: eventstore.Position{Commit: pos, Prepare: pos}, Data: []byte(`{}`), Metadata: []byte(`{}`), Created: time.Unix(int64(pos), 0).UTC()}
}

func at(p uint64) eventstore.Position { return eventstore.Position{Commit: p, Prepare: p} }

func TestApplySkipsDuplicatesAndRefusesGaps(t *testing.T) {
	m := NewMemory()
	if err := m.Apply([]eventstore.RecordedEvent{ev("craftsman-1", 0, 10), ev("craftsman-1", 1, 20)}, at(20)); err != nil {
		t.Fatal(err)
	}
	// A resubscription replays what was applied: nothing is counted twice.
	if err := m.Apply([]eventstore.RecordedEvent{ev("craftsman-1", 1, 20), ev("craftsman-1", 2, 30)}, at(30)); err != nil {
		t.Fatal(err)
	}
	if got := m.Len(); got != 3 {
		t.Fatalf("len = %d, want 3", got)
	}
	err := m.Apply([]eventstore.RecordedEvent{ev("craftsman-1", 4, 40)}, at(40))
	if !errors.Is(err, errs.FailedPrecondition) {
		t.Fatalf("gap: err = %v, want FailedPrecondition", err)
	}
	if cp, _ := m.Checkpoint(); cp != at(30) || m.Len() != 3 {
		t.Fatalf("a refused batch moved the model: cp %v len %d", cp, m.Len())
	}
	// A server checkpoint without events moves the position only.
	if err := m.Apply(nil, at(50)); err != nil {
		t.Fatal(err)
	}
	if cp, _ := m.Checkpoint(); cp != at(50) {
		t.Fatalf("cp = %v, want 50", cp)
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	m := NewMemory()
	batch := []eventstore.RecordedEvent{ev("craftsman-1", 0, 10), ev("academy-2", 0, 11), ev("craftsman-1", 1, 12)}
	if err := m.Apply(batch, at(15)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "s.snap")
	if err := m.WriteSnapshot(path, "p1"); err != nil {
		t.Fatal(err)
	}
	back := NewMemory()
	if err := back.LoadSnapshot(path, "p2"); !errors.Is(err, errs.FailedPrecondition) {
		t.Fatalf("another projection's snapshot: %v, want FailedPrecondition", err)
	}
	if err := back.LoadSnapshot(path, "p1"); err != nil {
		t.Fatal(err)
	}
	cp, ok := back.Checkpoint()
	if !ok || cp != at(15) {
		t.Fatalf("checkpoint %v %v", cp, ok)
	}
	if diff := cmp.Diff(m.Stream("craftsman-1"), back.Stream("craftsman-1")); diff != "" {
		t.Errorf("stream differs (-want +got):\n%s", diff)
	}
	if err := NewMemory().LoadSnapshot(filepath.Join(t.TempDir(), "none"), "p1"); !errors.Is(err, errs.NotFound) {
		t.Errorf("missing snapshot: %v, want NotFound", err)
	}
}

func TestScanSummariesVisitsEveryCraftsmanOnce(t *testing.T) {
	m := NewMemory()
	var batch []eventstore.RecordedEvent
	for i := 0; i < 5000; i++ {
		batch = append(batch, ev(fmt.Sprintf("craftsman-%d", i), 0, uint64(i+1)))
	}
	if err := m.Apply(batch, at(uint64(len(batch)))); err != nil {
		t.Fatal(err)
	}
	seen := make([]map[string]bool, 4)
	for i := range seen {
		seen[i] = map[string]bool{}
	}
	m.ScanSummaries(4, func(part int, id string, _ Summary) { seen[part][id] = true })
	all := map[string]bool{}
	for _, s := range seen {
		for id := range s {
			if all[id] {
				t.Fatalf("%s visited twice", id)
			}
			all[id] = true
		}
	}
	if len(all) != 5000 {
		t.Fatalf("visited %d craftsmen, want 5000", len(all))
	}
}

func TestTradeIndexFollowsSummaries(t *testing.T) {
	m := NewMemory()
	m.dom.summarise = func(c *Craftsman) {
		// A stand-in for the real summary: the trades are whatever the
		// test put in Issuers.
		levels := map[string]events.Level{}
		for _, code := range c.Summary.Issuers {
			levels[code] = events.Junior
		}
		c.Summary = Summary{Levels: levels, Issuers: c.Summary.Issuers}
	}
	c := m.dom.craftsman("x")
	c.count = 1
	c.Summary.Issuers = []string{"6-18-02-04"}
	m.dom.dirty["x"] = true
	m.dom.settle()
	if got := len(m.dom.byTrade["6-18-02-04"]); got != 1 {
		t.Fatalf("indexed %d times, want 1", got)
	}
	c.Summary.Issuers = []string{"6-20-01-01"}
	m.dom.dirty["x"] = true
	m.dom.settle()
	if len(m.dom.byTrade["6-18-02-04"]) != 0 || len(m.dom.byTrade["6-20-01-01"]) != 1 {
		t.Fatalf("index after the trade changed: %v", m.dom.byTrade)
	}
	var seen []string
	m.ScanBy("6-20-01-01", "", 2, func(_ int, id string, _ Summary) { seen = append(seen, id) })
	if len(seen) != 1 || seen[0] != "x" {
		t.Fatalf("scan of the trade saw %v", seen)
	}
}

func encoded(t *testing.T, stream string, rev, pos uint64, p events.Payload) eventstore.RecordedEvent {
	t.Helper()
	typ, data, err := events.Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := events.EncodeMetadata(events.NewMetadata(typ, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), "org", "u"))
	if err != nil {
		t.Fatal(err)
	}
	return eventstore.RecordedEvent{Stream: stream, ID: fmt.Sprintf("%s-%d", stream, rev), Type: typ, Revision: rev,
		Position: at(pos), Data: data, Metadata: meta, Created: time.Unix(int64(pos), 0).UTC()}
}

// Concurrent readers of one craftsman with a mentorship never write into
// shared slices (run with -race).
func TestConcurrentViewsShareNothing(t *testing.T) {
	m := NewMemory()
	tr := events.Trade{Code: "6-18-02-04"}
	batch := []eventstore.RecordedEvent{
		encoded(t, "craftsman-a", 0, 1, events.CraftsmanRegistered{CraftsmanID: "a", NationalIDHash: strings.Repeat("ab", 32), Personal: &events.Personal{Name: "a"}}),
		encoded(t, "craftsman-a", 1, 2, events.TradeEntered{CraftsmanID: "a", Trade: tr}),
		encoded(t, "craftsman-a", 2, 3, events.CraftsmanProfileChanged{CraftsmanID: "a", Region: "HLJ"}),
		encoded(t, "mentorship-m", 0, 4, events.MentorshipStarted{MentorshipParties: events.MentorshipParties{MentorshipID: "m", MasterID: "b", ApprenticeID: "a"}, Kind: events.MentorshipApprenticeship, Trade: tr}),
	}
	// Three records leave spare capacity in the craftsman's slice.
	if err := m.Apply(batch, at(4)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				v, _, ok := m.Craftsman("a", time.Time{}, time.Time{})
				if !ok || len(v.Timeline()) != 4 || len(v.Records) != 3 {
					t.Errorf("view: ok %v, %d timeline entries, %d records", ok, len(v.Timeline()), len(v.Records))
					return
				}
			}
		}()
	}
	wg.Wait()
}
