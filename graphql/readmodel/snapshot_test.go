package readmodel

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// TestSnapshotOfRestoredModel: a log larger than a load's checksum window
// and a writer's release window (crcWindow), in many spilled chunks, goes
// through a snapshot, a load, a snapshot of the loaded model (whose bytes
// are the first file's mapping, released behind the writer) and a second
// load with every event's bytes intact.
func TestSnapshotOfRestoredModel(t *testing.T) {
	if testing.Short() {
		t.Skip("writes two ~70 MB snapshots")
	}
	const events, size = 70, 1 << 20
	want := make([]eventstore.RecordedEvent, events)
	for i := range want {
		e := ev(fmt.Sprintf("craftsman-%d", i%7), uint64(i/7), uint64(10+i))
		e.Data = fmt.Appendf(nil, `{"n":%d,"pad":"%s"}`, i, bytes.Repeat([]byte{'a' + byte(i%26)}, size))
		want[i] = e
	}
	m := NewMemory()
	if err := m.Apply(want, at(10+events)); err != nil {
		t.Fatal(err)
	}
	if len(m.log.chunks) < 10 || (canMap && !m.log.mapped[0]) {
		t.Fatalf("the log has %d chunks (first mapped: %v); the test wants many spilled ones", len(m.log.chunks), len(m.log.mapped) > 0 && m.log.mapped[0])
	}
	for round := 0; round < 2; round++ {
		back := restored(t, m)
		if cp, ok := back.Checkpoint(); !ok || cp != at(10+events) {
			t.Fatalf("round %d: checkpoint %v %v", round, cp, ok)
		}
		for s := 0; s < 7; s++ {
			got := back.Stream(fmt.Sprintf("craftsman-%d", s))
			if len(got) != events/7 {
				t.Fatalf("round %d: stream %d has %d events", round, s, len(got))
			}
			for k, g := range got {
				w := want[k*7+s]
				if g.ID != w.ID || g.Revision != w.Revision || g.Position != w.Position || !bytes.Equal(g.Data, w.Data) || !bytes.Equal(g.Metadata, w.Metadata) {
					t.Fatalf("round %d: stream %d event %d differs after the load", round, s, k)
				}
			}
		}
		m = back // the next round snapshots the loaded model
	}
}

// BenchmarkWriteSnapshot loads the snapshot named by
// CRAFTLEDGER_BENCH_SNAPSHOT (skipped when unset; projection
// CRAFTLEDGER_BENCH_PROJECTION, default the projector's name) and writes the
// loaded model to a snapshot in CRAFTLEDGER_BENCH_SNAPSHOT_OUT (a
// directory), timing the write and reporting the process's peak RSS.
func BenchmarkWriteSnapshot(b *testing.B) {
	path, out := os.Getenv("CRAFTLEDGER_BENCH_SNAPSHOT"), os.Getenv("CRAFTLEDGER_BENCH_SNAPSHOT_OUT")
	if path == "" || out == "" {
		b.Skip("CRAFTLEDGER_BENCH_SNAPSHOT names a snapshot file, CRAFTLEDGER_BENCH_SNAPSHOT_OUT a directory to write one in")
	}
	name := os.Getenv("CRAFTLEDGER_BENCH_PROJECTION")
	if name == "" {
		name = "craftledger-readmodel-v1"
	}
	m := NewMemory()
	if err := m.LoadSnapshot(path, name); err != nil {
		b.Fatal(err)
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	b.Logf("peak RSS after the load: %d MB", ru.Maxrss>>10)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := m.WriteSnapshot(filepath.Join(out, "readmodel.snap"), name); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	b.ReportMetric(float64(ru.Maxrss>>10), "peak-RSS-MB")
}

// TestSnapshotKeepsRegistrationOrder: a craftsman named by a mentorship
// before its own stream exists is registered earlier than its stream's
// place in the log; a load keeps the live model's order and summaries.
func TestSnapshotKeepsRegistrationOrder(t *testing.T) {
	tr := events.Trade{Code: "6-18-02-04"}
	reg := func(id string, pos uint64) eventstore.RecordedEvent {
		return encoded(t, "craftsman-"+id, 0, pos, events.CraftsmanRegistered{CraftsmanID: id, NationalIDHash: strings.Repeat("ab", 32), Personal: &events.Personal{Name: id}})
	}
	m := NewMemory()
	batch := []eventstore.RecordedEvent{
		encoded(t, "mentorship-m", 0, 1, events.MentorshipStarted{MentorshipParties: events.MentorshipParties{MentorshipID: "m", MasterID: "z", ApprenticeID: "y"}, Kind: events.MentorshipApprenticeship, Trade: tr}),
		reg("a", 2), reg("y", 3), reg("z", 4),
	}
	if err := m.Apply(batch, at(4)); err != nil {
		t.Fatal(err)
	}
	ids := func(m *Memory) []string {
		var out []string
		for _, c := range m.dom.order {
			out = append(out, c.ID)
		}
		return out
	}
	if got := ids(m); !cmp.Equal(got, []string{"z", "y", "a"}) {
		t.Fatalf("live registration order %v: the test wants it to differ from the streams' order", got)
	}
	back := restored(t, m)
	if got := ids(back); !cmp.Equal(got, ids(m)) {
		t.Fatalf("order after a load %v, want %v", got, ids(m))
	}
	for _, id := range ids(m) {
		want, _ := m.Summary(id)
		got, _ := back.Summary(id)
		if !cmp.Equal(want, got) {
			t.Errorf("%s after a load: %+v, want %+v", id, got, want)
		}
	}
}
