package readmodel

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
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
		for _, code := range c.Summary.Linked {
			levels[code] = events.Junior
		}
		c.Summary = Summary{Levels: levels, Linked: c.Summary.Linked}
	}
	c := m.dom.craftsman("x")
	c.count = 1
	c.Summary.Linked = []string{"6-18-02-04"}
	m.dom.markDirty(c)
	m.dom.settle()
	if got := len(m.dom.byTrade["6-18-02-04"]); got != 1 {
		t.Fatalf("indexed %d times, want 1", got)
	}
	c.Summary.Linked = []string{"6-20-01-01"}
	m.dom.markDirty(c)
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

// TestRawLogKeepsEveryByte checks that the compact raw log gives back
// exactly the events applied — ids (UUIDs, packed, and others), names,
// bytes and times — across several chunks, before and after a snapshot.
func TestRawLogKeepsEveryByte(t *testing.T) {
	in := rawEvents()
	m := NewMemory()
	for i := 0; i < len(in); i += 1000 {
		if err := m.Apply(in[i:i+1000], in[i+999].Position); err != nil {
			t.Fatal(err)
		}
	}
	if len(m.log.chunks) < 2 || (canMap && !m.log.mapped[0]) {
		t.Fatalf("%d chunks, the first mapped: %v: the test should span several spilled ones", len(m.log.chunks), len(m.log.mapped) > 0 && m.log.mapped[0])
	}
	back := restored(t, m)
	for name, model := range map[string]*Memory{"live": m, "restored": back} {
		page := model.Log(LogQuery{Limit: len(in) + 1, CountTotal: true})
		if i := firstDiff(in, page.Events); i >= 0 || page.Total != len(in) {
			t.Fatalf("%s: log differs at %d of %d (total %d)", name, i, len(in), page.Total)
		}
		want := []eventstore.RecordedEvent{}
		for _, e := range in {
			if e.Stream == "craftsman-7" {
				want = append(want, e)
			}
		}
		if diff := cmp.Diff(want, model.Stream("craftsman-7")); diff != "" {
			t.Fatalf("%s: stream differs (-want +got):\n%s", name, diff)
		}
		after := in[4999].Position
		page = model.Log(LogQuery{After: &after, Limit: 2, Prefix: "craftsman-"})
		if diff := cmp.Diff(in[5000:5002], page.Events); diff != "" || !page.HasMore {
			t.Fatalf("%s: page after a position differs (-want +got):\n%s", name, diff)
		}
	}
	// Applying after a restore continues the restored streams.
	next := ev("craftsman-7", 20, 100_000)
	if err := back.Apply([]eventstore.RecordedEvent{next}, next.Position); err != nil {
		t.Fatal(err)
	}
	if got := back.Stream("craftsman-7"); len(got) != 21 || !cmp.Equal(got[20], next) {
		t.Fatalf("after restore and apply: %d events, last %+v", len(got), got[len(got)-1])
	}
}

// When the spill file can no longer be written, the chunk being filled
// (part written) moves to the heap with what it held, later chunks stay
// there, and the log still holds every byte.
func TestRawLogSurvivesAFailedSpill(t *testing.T) {
	if !canMap {
		t.Skip("the raw log spills to a mapped file on linux only")
	}
	in := rawEvents()
	m := NewMemory()
	for i := 0; i < len(in); i += 1000 {
		if i == 3000 {
			if !m.log.fileTail || m.log.staged == 0 {
				t.Fatalf("the chunk being filled is not a part-written file region (file %v, %d bytes)", m.log.fileTail, m.log.staged)
			}
			_ = m.log.spill.res.f.Close() // every later write fails
		}
		if err := m.Apply(in[i:i+1000], in[i+999].Position); err != nil {
			t.Fatal(err)
		}
	}
	if slices.Contains(m.log.mapped, true) || len(m.log.chunks) < 2 {
		t.Fatalf("chunks mapped: %v; want every chunk on the heap, several of them", m.log.mapped)
	}
	page := m.Log(LogQuery{Limit: len(in) + 1})
	if i := firstDiff(in, page.Events); i >= 0 {
		t.Fatalf("log differs at %d of %d", i, len(in))
	}
}

// rawEvents are 6,000 events of 300 streams with ids of every kind
// (packed UUIDs, upper-case UUIDs, others) and bytes enough for several
// chunks.
func rawEvents() []eventstore.RecordedEvent {
	var in []eventstore.RecordedEvent
	for i := 0; i < 6000; i++ {
		e := ev(fmt.Sprintf("craftsman-%d", i%300), uint64(i/300), uint64(10+i))
		switch i % 3 {
		case 0:
			e.ID = fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
		case 1:
			e.ID = fmt.Sprintf("%08X-0000-4000-8000-%012X", i, i) // upper case is kept as written
		}
		e.Data = []byte(fmt.Sprintf(`{"n":%d,"pad":%q}`, i, strings.Repeat("x", i%1500)))
		e.Created = time.Unix(int64(1_700_000_000+i), int64(i)).UTC()
		in = append(in, e)
	}
	return in
}

// firstDiff is the index of the first event that differs (or where the
// lengths part), -1 when equal; cheaper than cmp.Diff on thousands.
func firstDiff(want, got []eventstore.RecordedEvent) int {
	for i := range want {
		if i >= len(got) {
			return i
		}
		w, g := want[i], got[i]
		if w.Stream != g.Stream || w.ID != g.ID || w.Type != g.Type || w.Revision != g.Revision || w.Position != g.Position ||
			string(w.Data) != string(g.Data) || string(w.Metadata) != string(g.Metadata) || !w.Created.Equal(g.Created) || w.Created.Location() != g.Created.Location() {
			return i
		}
	}
	if len(got) != len(want) {
		return len(want)
	}
	return -1
}

// TestDecodedRecordsAreLetGoAndComeBack checks the lazy decoding: after a
// batch the projector keeps no decoded records, a reader gets them from the
// raw log (and keeps them), and events applied later join them once.
func TestDecodedRecordsAreLetGoAndComeBack(t *testing.T) {
	sealed := func(p events.Payload, rev, pos uint64) eventstore.RecordedEvent {
		typ, data, err := events.Encode(p)
		if err != nil {
			t.Fatal(err)
		}
		meta, err := events.EncodeMetadata(events.NewMetadata(typ, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), "acad1", "u"))
		if err != nil {
			t.Fatal(err)
		}
		e := ev("craftsman-c1", rev, pos)
		e.Type, e.Data, e.Metadata = typ, data, meta
		return e
	}
	welder := events.Trade{Code: "6-18-02-04", Name: "welder"}
	m := NewMemory()
	batch := []eventstore.RecordedEvent{
		sealed(events.CraftsmanRegistered{CraftsmanID: "c1", NationalIDHash: strings.Repeat("ab", 32), Region: "R1", Personal: &events.Personal{Name: "A"}}, 0, 10),
		sealed(events.TradeEntered{CraftsmanID: "c1", Trade: welder}, 1, 11),
	}
	if err := m.Apply(batch, at(11)); err != nil {
		t.Fatal(err)
	}
	c := m.dom.craftsmen["c1"]
	if c.ready.Load() || c.Records != nil {
		t.Fatal("decoded records kept after the batch")
	}
	if s, _ := m.Summary("c1"); s.Region != "R1" || len(s.Levels) != 1 {
		t.Fatalf("summary %+v", s)
	}
	if got := m.Records("c1"); len(got) != 2 || got[1].Type != batch[1].Type {
		t.Fatalf("records %+v", got)
	}
	more := sealed(events.TrainingCompleted{CraftsmanID: "c1", AcademyID: "acad1", CourseID: "k", Trade: welder, Hours: 8, Mode: "classroom", Passed: true}, 2, 12)
	if err := m.Apply([]eventstore.RecordedEvent{more}, at(12)); err != nil {
		t.Fatal(err)
	}
	if got := m.Records("c1"); len(got) != 3 || got[2].ID != more.ID || !c.kept {
		t.Fatalf("records after a later event: %d (kept %v)", len(got), c.kept)
	}
	// Another craftsman, never read, let go again after a second batch.
	other := sealed(events.CraftsmanRegistered{CraftsmanID: "c2", NationalIDHash: strings.Repeat("cd", 32), Region: "R2"}, 0, 13)
	other.Stream = "craftsman-c2"
	if err := m.Apply([]eventstore.RecordedEvent{other}, at(13)); err != nil {
		t.Fatal(err)
	}
	next := sealed(events.TradeEntered{CraftsmanID: "c2", Trade: welder}, 1, 14)
	next.Stream = "craftsman-c2"
	if err := m.Apply([]eventstore.RecordedEvent{next}, at(14)); err != nil {
		t.Fatal(err)
	}
	c2 := m.dom.craftsmen["c2"]
	if c2.ready.Load() || len(m.Records("c2")) != 2 {
		t.Fatalf("c2: ready %v, records %d", c2.ready.Load(), len(m.Records("c2")))
	}
}

// TestDamagedSnapshotIsRefused: a changed byte anywhere (header, entries,
// event bytes, summaries) or a cut file is FailedPrecondition, and the
// model keeps what it had.
func TestDamagedSnapshotIsRefused(t *testing.T) {
	m := NewMemory()
	var batch []eventstore.RecordedEvent
	for i := 0; i < 50; i++ {
		batch = append(batch, ev(fmt.Sprintf("craftsman-%d", i%5), uint64(i/5), uint64(10+i)))
	}
	if err := m.Apply(batch, at(60)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "s.snap")
	if err := m.WriteSnapshot(path, "p"); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []int{0, 5, 20, len(good) / 3, len(good) / 2, len(good) - 40, len(good) - 5, len(good) - 1} {
		bad := append([]byte(nil), good...)
		bad[at] ^= 0x41
		if err := os.WriteFile(path, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		back := NewMemory()
		if err := back.LoadSnapshot(path, "p"); !errors.Is(err, errs.FailedPrecondition) {
			t.Fatalf("byte %d of %d changed: %v, want FailedPrecondition", at, len(good), err)
		}
		if back.Len() != 0 {
			t.Fatalf("byte %d changed: a refused snapshot left %d events", at, back.Len())
		}
	}
	if err := os.WriteFile(path, good[:len(good)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := NewMemory().LoadSnapshot(path, "p"); !errors.Is(err, errs.FailedPrecondition) {
		t.Fatalf("cut file: %v, want FailedPrecondition", err)
	}
}

// Equal summaries share their lists and maps (one copy for a million
// craftsmen); a craftsman whose summary changes gets another copy and the
// others keep theirs — live and after a snapshot load.
func TestSharedSummariesStayApart(t *testing.T) {
	m := NewMemory()
	welder, fitter := events.Trade{Code: "6-18-02-04"}, events.Trade{Code: "6-20-01-01"}
	batch := []eventstore.RecordedEvent{}
	pos := uint64(0)
	for _, id := range []string{"a", "b"} {
		s := "craftsman-" + id
		pos++
		batch = append(batch, encoded(t, s, 0, pos, events.CraftsmanRegistered{CraftsmanID: id, NationalIDHash: strings.Repeat("ab", 32), Region: "R1"}))
		pos++
		batch = append(batch, encoded(t, s, 1, pos, events.EmploymentStarted{CraftsmanID: id, EmploymentID: "e" + id, EmployerOrgID: "emp1", Trade: welder}))
	}
	if err := m.Apply(batch, at(pos)); err != nil {
		t.Fatal(err)
	}
	a, _ := m.Summary("a")
	b, _ := m.Summary("b")
	if !cmp.Equal(a, b) || &a.Employers[0] != &b.Employers[0] {
		t.Fatalf("equal summaries are not shared: %+v, %+v", a, b)
	}
	// b changes employer and trade; a's summary must not move.
	pos++
	more := []eventstore.RecordedEvent{encoded(t, "craftsman-b", 2, pos, events.EmploymentStarted{CraftsmanID: "b", EmploymentID: "e2b", EmployerOrgID: "emp2", Trade: fitter})}
	if err := m.Apply(more, at(pos)); err != nil {
		t.Fatal(err)
	}
	a2, _ := m.Summary("a")
	b2, _ := m.Summary("b")
	if !cmp.Equal(a, a2) {
		t.Fatalf("a's summary changed with b's: %+v -> %+v", a, a2)
	}
	if want := []string{"emp1", "emp2"}; !cmp.Equal(b2.Employers, want) || len(b2.Levels) != 2 {
		t.Fatalf("b's summary after its change: %+v", b2)
	}
	back := restored(t, m)
	for _, id := range []string{"a", "b"} {
		want, _ := m.Summary(id)
		got, _ := back.Summary(id)
		if !cmp.Equal(want, got) {
			t.Errorf("%s after a load: %+v, want %+v", id, got, want)
		}
	}
}

// Only the most recently decoded craftsmen keep their records; one let go
// is decoded again, with the same answer.
func TestHeldRecordsAreBounded(t *testing.T) {
	m := NewMemory()
	m.maxHeld = 4
	var batch []eventstore.RecordedEvent
	for i := 0; i < 20; i++ {
		id := fmt.Sprintf("c%02d", i)
		batch = append(batch, encoded(t, "craftsman-"+id, 0, uint64(i+1), events.CraftsmanRegistered{CraftsmanID: id, NationalIDHash: strings.Repeat("ab", 32), Region: "R1"}))
	}
	if err := m.Apply(batch, at(20)); err != nil {
		t.Fatal(err)
	}
	first := map[string][]events.Recorded{}
	for i := 0; i < 20; i++ {
		id := fmt.Sprintf("c%02d", i)
		first[id] = m.Records(id)
		if len(first[id]) != 1 {
			t.Fatalf("%s: %d records", id, len(first[id]))
		}
	}
	// Eviction runs in the background once past maxHeld by a quarter.
	deadline := time.Now().Add(10 * time.Second)
	for {
		m.mu.RLock()
		m.decodeMu.Lock()
		n := len(m.held)
		m.decodeMu.Unlock()
		m.mu.RUnlock()
		if n <= 6 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d craftsmen still hold records (max 4)", n)
		}
		time.Sleep(time.Millisecond)
	}
	if c := m.dom.craftsmen["c00"]; c.ready.Load() || c.Records != nil {
		t.Fatal("the oldest craftsman still holds its records")
	}
	for id, want := range first {
		if got := m.Records(id); !cmp.Equal(got, want) {
			t.Errorf("%s read again: %v, want %v", id, got, want)
		}
	}
}

// restored is m written to a snapshot and loaded into a new model.
func restored(t *testing.T, m *Memory) *Memory {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.snap")
	if err := m.WriteSnapshot(path, "p"); err != nil {
		t.Fatal(err)
	}
	back := NewMemory()
	if err := back.LoadSnapshot(path, "p"); err != nil {
		t.Fatal(err)
	}
	return back
}

// summaryFromView is a craftsman's summary as it was derived before
// summaries had their own fold: from the whole view (buildView), its
// facts in force and its trades. The oracle for TestSummariesAreTheViews.
func summaryFromView(c *Craftsman, asOf time.Time) Summary {
	v := buildView(c, nil, asOf, time.Time{})
	s := Summary{Name: v.Name, Personal: v.Personal, Region: v.Region, Levels: map[string]events.Level{}}
	// Linked: the registrar (the registration's recorder, while the
	// registration is in force) and every employer ever, not retracted.
	employers, academies, linked := map[string]string{}, map[string]bool{}, map[string]bool{}
	registrar := ""
	for _, r := range v.Records {
		if _, ok := r.Payload.(events.CraftsmanRegistered); ok && registrar == "" {
			registrar = r.Meta.IssuerOrgID
		}
	}
	for _, r := range v.Effective {
		switch p := r.Payload.(type) {
		case events.CraftsmanRegistered:
			if registrar != "" {
				linked[registrar] = true
			}
		case events.EmploymentStarted:
			linked[p.EmployerOrgID] = true
			employers[p.EmploymentID] = p.EmployerOrgID
		case events.EmploymentEnded:
			delete(employers, p.EmploymentID)
		case events.TrainingEnrolled:
			academies[p.AcademyID] = true
		case events.TrainingCompleted:
			academies[p.AcademyID] = true
		}
	}
	for _, t := range v.Trades {
		s.Levels[t.Trade.Code] = t.Level
	}
	set := func(m map[string]bool) []string {
		out := []string{}
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	orgs := map[string]bool{}
	for _, o := range employers {
		orgs[o] = true
	}
	s.Employers, s.Academies, s.Linked = set(orgs), set(academies), set(linked)
	return s
}

// randomLedger appends a random craftsman ledger for id to out: profile
// changes in clear and sealed, employments started and ended, training,
// certificates, corrections (with and without a replacement, some moving
// a fact in time), erasure; occurrence times out of record order, some
// after the record, some missing.
func randomLedger(t *testing.T, rng *rand.Rand, id string, pos *uint64, out []eventstore.RecordedEvent) []eventstore.RecordedEvent {
	stream := events.CraftsmanStream(id)
	trades := []events.Trade{{Code: "6-18-02-04", Name: "welder"}, {Code: "6-20-01-01", Name: "fitter"}, {Code: "6-31-01-03"}}
	base := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
	var ids []string
	n := 1 + rng.IntN(24)
	for rev := 0; rev < n; rev++ {
		trade := trades[rng.IntN(len(trades))]
		var p events.Payload
		switch k := rng.IntN(11); {
		case rev == 0 || k == 0:
			r := events.CraftsmanRegistered{CraftsmanID: id, NationalIDHash: strings.Repeat("ab", 32), BirthDate: "1980-01-02", Region: fmt.Sprintf("R%d", rng.IntN(4))}
			if rng.IntN(3) == 0 {
				r.SealedPersonal = &events.SealedPersonal{KeyID: "k", Alg: "a", Nonce: "n", Ciphertext: "c"}
			} else {
				r.Personal = &events.Personal{Name: "name " + id}
			}
			p = r
		case k == 1:
			c := events.CraftsmanProfileChanged{CraftsmanID: id}
			switch rng.IntN(4) {
			case 0:
				c.Region = fmt.Sprintf("R%d", rng.IntN(4))
			case 1:
				c.Personal = &events.Personal{Name: fmt.Sprintf("renamed %d", rev)}
			case 2:
				c.SealedPersonal = &events.SealedPersonal{KeyID: "k", Alg: "a", Nonce: "n", Ciphertext: "c"}
			default:
				c.BirthDate = "1981-03-04"
			}
			p = c
		case k == 2 || k == 3:
			p = events.EmploymentStarted{CraftsmanID: id, EmploymentID: fmt.Sprintf("e%d", rng.IntN(3)), EmployerOrgID: fmt.Sprintf("emp%d", rng.IntN(4)), Trade: trade}
		case k == 4:
			p = events.EmploymentEnded{CraftsmanID: id, EmploymentID: fmt.Sprintf("e%d", rng.IntN(3))}
		case k == 5:
			p = events.TrainingEnrolled{CraftsmanID: id, EnrolmentID: fmt.Sprintf("n%d", rev), AcademyID: fmt.Sprintf("acad%d", rng.IntN(3)), CourseID: "c", Trade: trade, Mode: "classroom"}
		case k == 6:
			p = events.TrainingCompleted{CraftsmanID: id, AcademyID: fmt.Sprintf("acad%d", rng.IntN(3)), CourseID: "c", Trade: trade, Hours: 8, Mode: "classroom", Passed: true}
		case k == 7 || k == 8:
			lv := events.Level(1 + rng.IntN(5))
			p = events.SkillLevelCertified{CraftsmanID: id, Trade: trade, Level: lv, CertificateNumber: fmt.Sprintf("%s-%d", id, rev), Family: events.FamilySkillLevel,
				EvaluatingOrgID: "acad1", IssuingOrg: events.Org{ID: "acad1", Kind: events.IssuerThirdParty}, Route: events.RouteRegular}
		case k == 9 && len(ids) > 0:
			c := events.EventCorrected{CraftsmanID: id, SupersedesEventID: ids[rng.IntN(len(ids))], Reason: "typo"}
			if rng.IntN(2) == 0 {
				var when *time.Time
				if rng.IntN(2) == 0 {
					w := base.AddDate(rng.IntN(20), 0, 0)
					when = &w
				}
				rep, err := events.NewReplacement(events.EmploymentStarted{CraftsmanID: id, EmploymentID: "e9", EmployerOrgID: "emp9", Trade: trade}, when)
				if err != nil {
					t.Fatal(err)
				}
				c.Replacement = rep
			}
			p = c
		default:
			p = events.PersonalDataErased{CraftsmanID: id, Reason: "asked"}
		}
		typ, data, err := events.Encode(p)
		if err != nil {
			t.Fatal(err)
		}
		var occurred time.Time
		if rng.IntN(8) > 0 {
			occurred = base.AddDate(rng.IntN(20), rng.IntN(12), 0)
		}
		meta, err := events.EncodeMetadata(events.NewMetadata(typ, occurred, fmt.Sprintf("org%d", rng.IntN(5)), "u"))
		if err != nil {
			t.Fatal(err)
		}
		*pos += 10
		evID := fmt.Sprintf("%s-%d", id, rev)
		ids = append(ids, evID)
		out = append(out, eventstore.RecordedEvent{Stream: stream, ID: evID, Type: typ, Revision: uint64(rev), Position: at(*pos),
			Data: data, Metadata: meta, Created: base.AddDate(5, 0, int(*pos/10)).UTC()})
	}
	return out
}

// randomModel is a model of n random ledgers (c0000…), applied in random
// batches of up to 300 events.
func randomModel(t *testing.T, rng *rand.Rand, n int) *Memory {
	t.Helper()
	var evs []eventstore.RecordedEvent
	var pos uint64
	for i := range n {
		evs = randomLedger(t, rng, fmt.Sprintf("c%04d", i), &pos, evs)
	}
	m := NewMemory()
	for i := 0; i < len(evs); {
		j := min(len(evs), i+1+rng.IntN(300))
		if err := m.Apply(evs[i:j], evs[j-1].Position); err != nil {
			t.Fatal(err)
		}
		i = j
	}
	return m
}

// The summaries the projector derives (settle, with its reused scratch
// space, from records that lie in the batch's buffer) and summaryOf's, live
// and as of past instants, are what the whole view gives, for random
// ledgers applied in random batches.
func TestSummariesAreTheViews(t *testing.T) {
	const n = 400
	m := randomModel(t, rand.New(rand.NewPCG(5, 7)), n)
	if m.Undecodable() != 0 {
		t.Fatalf("%d undecodable events", m.Undecodable())
	}
	corrected, erased := sameSummariesAsViews(t, m, n)
	if corrected < n/10 || erased < n/20 {
		t.Fatalf("the ledgers hold too few corrections (%d) or erasures (%d) to compare", corrected, erased)
	}
}

// TestSummariesAreTheViewsInterleaved is TestSummariesAreTheViews with
// the craftsmen's streams interleaved in $all (so one batch holds pieces
// of many ledgers, a craftsman's records lying in the batch's buffer
// beside others'), with undecodable events among them, and with a
// snapshot round trip half way: the restored model goes on applying.
func TestSummariesAreTheViewsInterleaved(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 13))
	const n = 200
	streams := make([][]eventstore.RecordedEvent, n)
	var pos uint64
	for i := range streams {
		streams[i] = randomLedger(t, rng, fmt.Sprintf("c%04d", i), &pos, nil)
	}
	var evs []eventstore.RecordedEvent
	base := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	bad := 0
	for live := n; live > 0; {
		i := rng.IntN(n)
		if len(streams[i]) == 0 {
			continue
		}
		e := streams[i][0]
		if streams[i] = streams[i][1:]; len(streams[i]) == 0 {
			live--
		}
		if e.Revision > 0 && rng.IntN(40) == 0 {
			e.Data = []byte(`{"craftsmanId": `) // undecodable, in its place in the stream
			bad++
		}
		e.Position = at(uint64(len(evs)+1) * 10)
		e.Created = base.Add(time.Duration(len(evs)) * time.Hour)
		evs = append(evs, e)
	}
	if bad == 0 {
		t.Fatal("no undecodable event among the ledgers")
	}
	m := NewMemory()
	half := len(evs) / 2
	for i := 0; i < len(evs); {
		j := min(len(evs), i+1+rng.IntN(300))
		if i < half && j > half {
			j = half
		}
		if err := m.Apply(evs[i:j], evs[j-1].Position); err != nil {
			t.Fatal(err)
		}
		if i = j; i == half {
			m = restored(t, m)
		}
	}
	badAfter := 0 // Undecodable counts the events this model applied (not those of the snapshot)
	for _, e := range evs[half:] {
		if string(e.Data) == `{"craftsmanId": ` {
			badAfter++
		}
	}
	if got := m.Undecodable(); got != badAfter {
		t.Fatalf("%d undecodable events applied after the restore, %d were written there", got, badAfter)
	}
	sameSummariesAsViews(t, m, n)
}

// sameSummariesAsViews fails t unless the summaries of craftsmen c0000…
// of m, live and as of past instants, are what the whole view gives; it
// answers how many of them hold a correction and how many were erased.
func sameSummariesAsViews(t *testing.T, m *Memory, n int) (corrected, erased int) {
	t.Helper()
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("c%04d", i)
		live, ok := m.Summary(id)
		if !ok {
			t.Fatalf("%s: no summary", id)
		}
		c := &Craftsman{ID: id, erased: m.dom.craftsmen[id].erased, Records: m.Records(id)}
		if diff := cmp.Diff(summaryFromView(c, time.Time{}), live); diff != "" {
			t.Fatalf("%s: live summary (-view +settled):\n%s", id, diff)
		}
		if len(c.Records) == 0 {
			continue
		}
		for _, asOf := range []time.Time{{}, c.Records[len(c.Records)/2].RecordedAt, c.Records[0].RecordedAt.Add(-time.Second)} {
			if diff := cmp.Diff(summaryFromView(c, asOf), summaryOf(c, asOf)); diff != "" {
				t.Fatalf("%s as of %v (-view +summaryOf):\n%s", id, asOf, diff)
			}
		}
		for _, r := range c.Records {
			if _, ok := r.Payload.(events.EventCorrected); ok {
				corrected++
				break
			}
		}
		if c.erased {
			erased++
		}
	}
	return corrected, erased
}

// TestMentorshipFactsOnce: a pairing fact the service copied onto the
// craftsman's stream shows once in the craftsman's timeline, not once from
// each stream; a fact only the pairing's stream holds still shows.
func TestMentorshipFactsOnce(t *testing.T) {
	m := NewMemory()
	tr := events.Trade{Code: "6-18-02-04"}
	parties := events.MentorshipParties{MentorshipID: "m", MasterID: "b", ApprenticeID: "a"}
	start := events.MentorshipStarted{MentorshipParties: parties, Kind: events.MentorshipApprenticeship, Trade: tr}
	session := events.MentorshipSessionLogged{MentorshipParties: parties, Hours: 4, Topic: "welding"}
	level := events.Intermediate
	done := events.MentorshipCompleted{MentorshipParties: parties, Trade: tr, LevelReached: &level}
	batch := []eventstore.RecordedEvent{
		encoded(t, "craftsman-a", 0, 1, events.CraftsmanRegistered{CraftsmanID: "a", NationalIDHash: strings.Repeat("ab", 32), Personal: &events.Personal{Name: "a"}}),
		encoded(t, "mentorship-m", 0, 2, start),
		encoded(t, "craftsman-a", 1, 3, start),
		encoded(t, "mentorship-m", 1, 4, session),
		encoded(t, "craftsman-a", 2, 5, session),
		encoded(t, "mentorship-m", 2, 6, done), // its copy on craftsman-a was never written
	}
	if err := m.Apply(batch, at(6)); err != nil {
		t.Fatal(err)
	}
	v, _, ok := m.Craftsman("a", time.Time{}, time.Time{})
	if !ok {
		t.Fatal("no view of a")
	}
	var got []string
	for _, e := range v.Timeline() {
		got = append(got, e.Record.Stream+"/"+e.Record.Type)
	}
	want := []string{"craftsman-a/" + events.TypeCraftsmanRegistered, "craftsman-a/" + events.TypeMentorshipStarted,
		"craftsman-a/" + events.TypeMentorshipSessionLogged, "mentorship-m/" + events.TypeMentorshipCompleted}
	if !slices.Equal(got, want) {
		t.Fatalf("timeline %q, want %q", got, want)
	}
	if !slices.Equal(v.Mentorships, []string{"m"}) {
		t.Fatalf("mentorships %q", v.Mentorships)
	}
}
