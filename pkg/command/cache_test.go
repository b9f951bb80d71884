package command

import (
	"fmt"
	"testing"

	"github.com/craftledger/craftledger/pkg/eventstore"
)

func hist(stream string, n int) History {
	h := History{Stream: stream, Exists: true}
	for i := 0; i < n; i++ {
		h.Events = append(h.Events, eventstore.RecordedEvent{Stream: stream, Revision: uint64(i)})
	}
	return h
}

func TestCacheBounds(t *testing.T) {
	c := newCache(3, 10)
	for i := 0; i < 5; i++ {
		c.put(hist(fmt.Sprint("s", i), 2))
	}
	if c.ll.Len() != 3 || c.events != 6 {
		t.Fatalf("%d streams, %d events; want 3, 6", c.ll.Len(), c.events)
	}
	if _, ok := c.get("s0"); ok {
		t.Fatal("least recently used stream kept")
	}
	c.get("s2")          // s2 is now the most recent
	c.put(hist("s4", 7)) // grows s4: 2+2+7 = 11 > 10 events, s3 goes
	if _, ok := c.get("s3"); ok || c.events != 9 {
		t.Fatalf("events %d, s3 kept %v", c.events, ok)
	}
	c.put(hist("s4", 3)) // an older history never replaces a newer one
	if h, _ := c.get("s4"); len(h.Events) != 7 {
		t.Fatalf("s4 has %d events", len(h.Events))
	}
	c.put(hist("big", 11)) // larger than the whole budget: not cached
	if _, ok := c.get("big"); ok {
		t.Fatal("oversized history cached")
	}
	c.drop("s4")
	if c.events != 2 || c.ll.Len() != 1 {
		t.Fatalf("after drop: %d events, %d streams", c.events, c.ll.Len())
	}
}

func appended(stream string, rev uint64) ([]eventstore.EventData, eventstore.AppendResult) {
	return []eventstore.EventData{{ID: fmt.Sprint("e", rev), Type: "T.v1"}}, eventstore.AppendResult{NextRevision: rev}
}

func recordedZero() eventstore.RecordedEvent { return eventstore.RecordedEvent{} }

// TestExtendKeepsSharedHistories: extending the cached tip in place never
// changes what earlier histories show, and a history that is not the tip
// is copied, so two extensions of it do not overwrite each other.
func TestExtendKeepsSharedHistories(t *testing.T) {
	c := newCache(4, 1000)
	h := hist("s", 3)
	c.put(h)
	var seen []History
	for rev := uint64(3); rev < 40; rev++ {
		d, ar := appended("s", rev)
		next := c.extend(h, d, ar, recordedZero)
		c.put(next)
		seen = append(seen, h)
		h = next
	}
	for _, old := range seen {
		for i, e := range old.Events {
			if e.Revision != uint64(i) {
				t.Fatalf("history of %d events changed at %d: revision %d", len(old.Events), i, e.Revision)
			}
		}
	}
	if len(h.Events) != 40 || h.Events[39].ID != "e39" {
		t.Fatalf("tip %d events, last %s", len(h.Events), h.Events[len(h.Events)-1].ID)
	}
	// seen[10] is no longer the tip: extending it twice gives two histories.
	base := seen[10]
	d1, ar1 := appended("s", uint64(len(base.Events)))
	a := c.extend(base, d1, ar1, recordedZero)
	d2 := []eventstore.EventData{{ID: "other", Type: "T.v1"}}
	b := c.extend(base, d2, ar1, recordedZero)
	if a.Events[len(a.Events)-1].ID != d1[0].ID || b.Events[len(b.Events)-1].ID != "other" || h.Events[len(base.Events)].ID == "other" {
		t.Fatal("extending a history that is not the tip wrote into another's events")
	}
}

// extendByCopy is extend as it was: a new slice with the whole history
// copied on every append (kept for the benchmark's comparison).
func extendByCopy(h History, data []eventstore.EventData, ar eventstore.AppendResult, now func() eventstore.RecordedEvent) History {
	out := History{Stream: h.Stream, Exists: true, Events: make([]eventstore.RecordedEvent, len(h.Events), len(h.Events)+len(data))}
	copy(out.Events, h.Events)
	first := ar.NextRevision + 1 - uint64(len(data))
	for i, d := range data {
		e := now()
		e.Stream, e.ID, e.Type, e.Revision, e.Position = h.Stream, d.ID, d.Type, first+uint64(i), ar.Position
		out.Events = append(out.Events, e)
	}
	return out
}

// BenchmarkCacheExtendLongStream appends one event at a time to a cached
// stream growing to 5,000 events, as a long back-fill of one stream does:
// in place (amortised O(1) per append) against the former copy (O(n)).
//
//	go test -run - -bench CacheExtendLongStream -benchtime 3x ./pkg/command/
func BenchmarkCacheExtendLongStream(b *testing.B) {
	const n = 5_000
	for _, bc := range []struct {
		name string
		copy bool
	}{{"in-place", false}, {"copy", true}} {
		b.Run(bc.name, func(b *testing.B) {
			for range b.N {
				c := newCache(4, 1_000_000)
				h := hist("s", 1)
				c.put(h)
				for rev := uint64(1); rev < n; rev++ {
					d, ar := appended("s", rev)
					if bc.copy {
						h = extendByCopy(h, d, ar, recordedZero)
					} else {
						h = c.extend(h, d, ar, recordedZero)
					}
					c.put(h)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/append")
		})
	}
}
