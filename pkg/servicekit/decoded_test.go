package servicekit_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/servicekit"
)

// stored is a craftsman stream of n events as the store would return them:
// a registration, then pairings, with an unknown type at revision 2.
func stored(t *testing.T, n int, created time.Time) command.History {
	t.Helper()
	h := command.History{Stream: events.CraftsmanStream("w1"), Exists: true}
	for i := range n {
		var p events.Payload = events.MentorshipStarted{MentorshipParties: events.MentorshipParties{MentorshipID: fmt.Sprint("m", i),
			MasterID: "w1", ApprenticeID: fmt.Sprint("a", i)}, Kind: events.MentorshipMasterApprentice, Trade: events.Trade{Code: "6-31-01-03"}, PlannedMonths: 24}
		if i == 0 {
			p = events.CraftsmanRegistered{CraftsmanID: "w1", NationalIDHash: fmt.Sprintf("%064d", 1)}
		}
		typ := p.EventType()
		data, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			typ, data = "SomethingElse.v1", []byte(`{}`)
		}
		meta, err := json.Marshal(events.Metadata{SchemaVersion: 1, OccurredAt: created.AddDate(0, 0, i), IssuerOrgID: "a", ActingUserID: "u"})
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, eventstore.RecordedEvent{Stream: h.Stream, ID: fmt.Sprintf("00000000-0000-0000-0000-%012d", i), Type: typ,
			Revision: uint64(i), Data: data, Metadata: meta, Created: created.Add(time.Duration(i) * time.Second)})
	}
	return h
}

// TestDecodedCacheGivesWhatDecodingGives: whatever the cache holds, the
// facts of a history are those decoding all its events gives — a longer
// history reuses the prefix, a history whose events differ (another record
// time: reloaded from the store) or a shorter one is decoded afresh.
func TestDecodedCacheGivesWhatDecodingGives(t *testing.T) {
	reg := events.NewRegistry()
	day := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	fresh := func(h command.History) []events.Recorded {
		t.Helper()
		recs, err := servicekit.NewDecodedFacts(10, 1000).Facts(reg, h)
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	c := servicekit.NewDecodedFacts(10, 1000)
	for _, h := range []command.History{
		stored(t, 3, day), stored(t, 3, day), stored(t, 6, day), stored(t, 6, day.Add(time.Hour)),
		stored(t, 4, day), stored(t, 7, day), {Stream: events.CraftsmanStream("w1")},
	} {
		got, err := c.Facts(reg, h)
		if err != nil {
			t.Fatal(err)
		}
		want := fresh(h)
		if len(h.Events) > 2 && len(want) != len(h.Events)-1 {
			t.Fatalf("%d facts of %d events (one unknown)", len(want), len(h.Events))
		}
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("%d events: cached facts differ from decoded ones:\n%+v\n%+v", len(h.Events), got, want)
		}
	}
	// Bounded: a fourth stream in a cache of three drops another.
	small := servicekit.NewDecodedFacts(3, 1000)
	for i := range 4 {
		h := stored(t, 2, day)
		h.Stream = fmt.Sprint("craftsman-s", i)
		if _, err := small.Facts(reg, h); err != nil {
			t.Fatal(err)
		}
	}
	if streams, facts := small.Held(); streams != 3 || facts != 6 {
		t.Fatalf("%d streams, %d facts held; want 3, 6", streams, facts)
	}
}

func honourEvent(t *testing.T, stream string, rev int, id string) eventstore.RecordedEvent {
	t.Helper()
	data, err := json.Marshal(events.HonourConferred{CraftsmanID: "w1", HonourID: fmt.Sprintf("h%d", rev), Code: "x", Name: "n", Level: "national", ConferringBody: "b"})
	if err != nil {
		t.Fatal(err)
	}
	meta, err := events.EncodeMetadata(events.NewMetadata(events.TypeHonourConferred, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), "org", "u"))
	if err != nil {
		t.Fatal(err)
	}
	return eventstore.RecordedEvent{Stream: stream, ID: id, Type: events.TypeHonourConferred, Revision: uint64(rev), Data: data, Metadata: meta,
		Created: time.Date(2021, 1, 1, 0, 0, rev, 0, time.UTC)}
}

// The remembered records are those a full decode gives: as the history
// grows, for a prefix of it, and for another history of the same name.
func TestDecodedCacheMatchesFullDecode(t *testing.T) {
	reg := events.NewRegistry()
	full := func(h command.History) []events.Recorded {
		recs, err := servicekit.NewDecodedFacts(1, 1000).Facts(reg, h)
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	c := servicekit.NewDecodedFacts(8, 1000)
	var evs []eventstore.RecordedEvent
	unknown := eventstore.RecordedEvent{Stream: "craftsman-w1", ID: "u", Type: "Unknown.v1", Data: []byte(`{}`)}
	for i := range 6 {
		if i == 2 {
			evs = append(evs, unknown)
		}
		evs = append(evs, honourEvent(t, "craftsman-w1", len(evs), fmt.Sprintf("e%d", i)))
		h := command.History{Stream: "craftsman-w1", Exists: true, Events: evs}
		got, err := c.Facts(reg, h)
		if err != nil {
			t.Fatal(err)
		}
		if want := full(h); !reflect.DeepEqual(got, want) || len(got) != i+1 {
			t.Fatalf("after %d events: %d records, want %d equal to a full decode", len(evs), len(got), len(want))
		}
	}
	prefix := command.History{Stream: "craftsman-w1", Exists: true, Events: evs[:3]}
	if got, _ := c.Facts(reg, prefix); !reflect.DeepEqual(got, full(prefix)) {
		t.Fatal("a prefix decodes differently")
	}
	if got, _ := c.Facts(reg, command.History{Stream: "craftsman-w1", Exists: true, Events: evs}); len(got) != 6 || got[0].ID != "e0" {
		t.Fatalf("after a prefix: %d records, first %q", len(got), got[0].ID)
	}
	other := []eventstore.RecordedEvent{honourEvent(t, "craftsman-w1", 0, "x0"), honourEvent(t, "craftsman-w1", 1, "x1"),
		honourEvent(t, "craftsman-w1", 2, "x2"), honourEvent(t, "craftsman-w1", 3, "x3"), honourEvent(t, "craftsman-w1", 4, "x4"),
		honourEvent(t, "craftsman-w1", 5, "x5"), honourEvent(t, "craftsman-w1", 6, "x6"), honourEvent(t, "craftsman-w1", 7, "x7")}
	oh := command.History{Stream: "craftsman-w1", Exists: true, Events: other}
	if got, _ := c.Facts(reg, oh); !reflect.DeepEqual(got, full(oh)) {
		t.Fatal("another history of the same stream reused the remembered records")
	}
	for i := range 20 { // bounded
		_, _ = c.Facts(reg, command.History{Stream: fmt.Sprintf("craftsman-b%d", i), Exists: true, Events: other[:1]})
	}
	if streams, _ := c.Held(); streams > 8 {
		t.Fatalf("%d streams remembered, bound 8", streams)
	}
}

// Histories that share a remembered stream's events and then differ (two
// commands decided on the same revision) each get what decoding gives, also
// when they ask at once, although the cache appends a stream's new facts
// after the remembered ones in place; and a caller appending to the facts
// it was given never writes into facts the cache gave someone else.
func TestDecodedCacheBranchesStayApart(t *testing.T) {
	reg := events.NewRegistry()
	full := func(h command.History) []events.Recorded {
		recs, err := servicekit.NewDecodedFacts(1, 1000).Facts(reg, h)
		if err != nil {
			t.Error(err)
		}
		return recs
	}
	const stream = "craftsman-w1"
	var base []eventstore.RecordedEvent
	for i := range 4 {
		base = append(base, honourEvent(t, stream, i, fmt.Sprintf("e%d", i)))
	}
	base = slices.Clip(base)
	branch := func(g int) command.History {
		return command.History{Stream: stream, Exists: true, Events: append(base,
			honourEvent(t, stream, 4, fmt.Sprintf("g%d", g)), honourEvent(t, stream, 5, fmt.Sprintf("g%d-b", g)))}
	}
	for round := range 200 {
		c := servicekit.NewDecodedFacts(8, 1000)
		prefix, err := c.Facts(reg, command.History{Stream: stream, Exists: true, Events: base})
		if err != nil {
			t.Fatal(err)
		}
		kept := slices.Clone(prefix)
		hs := make([]command.History, 8)
		wants := make([][]events.Recorded, len(hs))
		for g := range hs {
			hs[g] = branch(round*len(hs) + g)
			wants[g] = full(hs[g])
		}
		gots := make([][]events.Recorded, len(hs))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := range hs {
			wg.Go(func() {
				<-start
				got, err := c.Facts(reg, hs[g])
				if err != nil {
					t.Error(err)
				}
				gots[g] = got
			})
		}
		close(start)
		wg.Wait()
		// Appending to the prefix's facts must not reach the facts a
		// branch was given (they may share the cache's storage).
		_ = append(prefix, events.Recorded{ID: "appended by a caller"})
		for g := range hs {
			if !reflect.DeepEqual(gots[g], wants[g]) {
				t.Fatalf("round %d, branch %d: cached facts differ from decoded ones:\n%+v\n%+v", round, g, gots[g], wants[g])
			}
		}
		if !reflect.DeepEqual(prefix, kept) {
			t.Fatalf("round %d: the facts given for the prefix changed", round)
		}
	}
}

// A batch folds its own decisions before they are written (no $all
// position yet): the cache then holds a longer history than the store's.
// When the batch is not written (refused, its append failed, decided
// again) the next fold of the stream as it is — shorter, as long with other
// events, or with the batch's first events decided again — replaces that
// entry rather than decoding afresh beside it until the stream outgrows
// it; a shorter fold of a history of written events (a stale reader) keeps
// the longer entry.
func TestDecodedCacheDropsUnwrittenEvents(t *testing.T) {
	reg := events.NewRegistry()
	const stream = "craftsman-w1"
	ev := func(rev int, id string, written bool) eventstore.RecordedEvent {
		e := honourEvent(t, stream, rev, id)
		if written {
			e.Position = eventstore.Position{Commit: uint64(100 + rev), Prepare: uint64(100 + rev)}
		}
		return e
	}
	stored := []eventstore.RecordedEvent{ev(0, "e0", true), ev(1, "e1", true), ev(2, "e2", true)}
	hist := func(extra ...eventstore.RecordedEvent) command.History {
		return command.History{Stream: stream, Exists: true, Events: append(slices.Clip(stored), extra...)}
	}
	batch := hist(ev(3, "p3", false), ev(4, "p4", false), ev(5, "p5", false))
	written := hist(ev(3, "p3", true), ev(4, "p4", true), ev(5, "p5", true))
	for _, tc := range []struct {
		name          string
		before, after command.History
		held          int // facts the cache holds after folding after
	}{
		{"a batch not written, the stored history", batch, hist(), 3},
		{"a batch not written, another event in its place", batch, hist(ev(3, "o3", true)), 4},
		{"a batch decided again", batch, hist(ev(3, "p3", false)), 4},
		{"written events, a stale reader", written, hist(), 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := servicekit.NewDecodedFacts(8, 1000)
			if _, err := c.Facts(reg, tc.before); err != nil {
				t.Fatal(err)
			}
			got, err := c.Facts(reg, tc.after)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.after.Events) || got[len(got)-1].ID != tc.after.Events[len(got)-1].ID {
				t.Fatalf("%d facts of %d events", len(got), len(tc.after.Events))
			}
			if _, held := c.Held(); held != tc.held {
				t.Errorf("the cache holds %d facts, want %d", held, tc.held)
			}
		})
	}
}

// BenchmarkDecodedFactsGrowing: a stream that grows by one event per
// command, folded after each (a master's or an apprentice's stream under a
// stream of pairings): every call decodes one new event and reuses the
// facts remembered for the others.
//
//	go test -run '^$' -bench DecodedFactsGrowing -benchmem ./pkg/servicekit/
func BenchmarkDecodedFactsGrowing(b *testing.B) {
	reg := events.NewRegistry()
	const n = 64
	var evs []eventstore.RecordedEvent
	for i := range n {
		data, err := json.Marshal(events.HonourConferred{CraftsmanID: "w1", HonourID: fmt.Sprintf("h%d", i), Code: "x", Name: "n", Level: "national", ConferringBody: "b"})
		if err != nil {
			b.Fatal(err)
		}
		meta, err := events.EncodeMetadata(events.NewMetadata(events.TypeHonourConferred, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), "org", "u"))
		if err != nil {
			b.Fatal(err)
		}
		evs = append(evs, eventstore.RecordedEvent{Stream: "craftsman-w1", ID: fmt.Sprintf("e%d", i), Type: events.TypeHonourConferred,
			Revision: uint64(i), Data: data, Metadata: meta, Created: time.Date(2021, 1, 1, 0, 0, i, 0, time.UTC)})
	}
	c := servicekit.NewDecodedFacts(servicekit.DefaultDecodedStreams, servicekit.DefaultDecodedFacts)
	i, round, stream := 0, 0, ""
	for b.Loop() {
		if i = i%n + 1; i == 1 {
			round++ // a new stream (each is folded at 1, 2, … n events)
			stream = fmt.Sprint("craftsman-w", round)
		}
		if _, err := c.Facts(reg, command.History{Stream: stream, Exists: true, Events: evs[:i]}); err != nil {
			b.Fatal(err)
		}
	}
}
