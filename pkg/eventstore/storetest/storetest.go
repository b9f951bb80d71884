// Package storetest is the contract suite of the eventstore.Store port: one
// function, RunContract, that every implementation must pass. The adapter's
// tests run it against the embedded server (pkg/esdbserver) over real gRPC
// and, when KURRENTDB_URL is set, against a real KurrentDB.
//
// The suite only uses streams under a random per-run prefix and filters on
// it, so it can run against a store that already holds other data.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// wait bounds every blocking step; hitting it fails the test (it is a
// guard against hangs, not a timing assertion).
const wait = 20 * time.Second

// RunContract runs the contract against stores made by newStore (called
// once per subtest; it registers its own cleanup).
func RunContract(t *testing.T, newStore func(t *testing.T) eventstore.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s eventstore.Store, p string)
	}{
		{"AppendAndRead", testAppendAndRead},
		{"Expectations", testExpectations},
		{"IdempotentReappend", testIdempotentReappend},
		{"ReadStreamOptions", testReadStreamOptions},
		{"ReadStreamNotFound", testReadStreamNotFound},
		{"ReadAllOrderAndFilters", testReadAll},
		{"ReadAllSkipsSystemEvents", testReadAllSkipsSystem},
		{"SubscribeCatchUpThenLive", testSubscribeCatchUpLive},
		{"SubscribeConcurrentAppends", testSubscribeConcurrent},
		{"SubscribeFromCheckpoint", testSubscribeFrom},
		{"SubscribeFilterAndCheckpoints", testSubscribeCheckpoints},
		{"SubscribeWithSystemEvents", testSubscribeWithSystem},
		{"SubscriptionRecvContext", testRecvContext},
		{"InvalidArguments", testInvalid},
		{"OversizeAppend", testOversize},
		{"Helpers", testHelpers},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			tc.fn(t, s, prefix(t))
		})
	}
}

func prefix(t *testing.T) string {
	t.Helper()
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "ct" + hex.EncodeToString(b)
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

func ev(typ string, n int) eventstore.EventData {
	return eventstore.EventData{
		ID:       uuid.NewString(),
		Type:     typ,
		Data:     fmt.Appendf(nil, `{"n":%d}`, n),
		Metadata: fmt.Appendf(nil, `{"by":"contract","n":%d}`, n),
	}
}

func evs(typ string, from, n int) []eventstore.EventData {
	out := make([]eventstore.EventData, n)
	for i := range out {
		out[i] = ev(typ, from+i)
	}
	return out
}

func mustAppend(t *testing.T, s eventstore.Store, stream string, exp eventstore.Expected, e ...eventstore.EventData) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(ctxFor(t), stream, exp, e...)
	if err != nil {
		t.Fatalf("append %s at %s: %v", stream, exp, err)
	}
	return res
}

func mustRead(t *testing.T, s eventstore.Store, stream string, o eventstore.ReadOptions) []eventstore.RecordedEvent {
	t.Helper()
	got, err := s.ReadStream(ctxFor(t), stream, o)
	if err != nil {
		t.Fatalf("read %s: %v", stream, err)
	}
	return got
}

func revisions(evs []eventstore.RecordedEvent) []uint64 {
	out := make([]uint64, len(evs))
	for i, e := range evs {
		out[i] = e.Revision
	}
	return out
}

func ids(evs []eventstore.RecordedEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func dataIDs(evs []eventstore.EventData) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func testAppendAndRead(t *testing.T, s eventstore.Store, p string) {
	stream := p + "-a"
	first := evs("Thing.v1", 0, 2)
	before := time.Now().Add(-time.Minute)
	r1 := mustAppend(t, s, stream, eventstore.NoStream(), first...)
	if r1.NextRevision != 1 {
		t.Errorf("first append NextRevision = %d, want 1", r1.NextRevision)
	}
	second := evs("Other.v1", 2, 1)
	r2 := mustAppend(t, s, stream, eventstore.At(1), second...)
	if r2.NextRevision != 2 {
		t.Errorf("second append NextRevision = %d, want 2", r2.NextRevision)
	}
	if !r1.Position.Less(r2.Position) {
		t.Errorf("positions not increasing: %+v then %+v", r1.Position, r2.Position)
	}

	got := mustRead(t, s, stream, eventstore.ReadOptions{})
	all := append(first, second...)
	if diff := cmp.Diff([]uint64{0, 1, 2}, revisions(got)); diff != "" {
		t.Fatalf("revisions (-want +got):\n%s", diff)
	}
	for i, g := range got {
		w := all[i]
		if g.Stream != stream || g.ID != w.ID || g.Type != w.Type || !bytes.Equal(g.Data, w.Data) || !bytes.Equal(g.Metadata, w.Metadata) {
			t.Errorf("event %d = %+v, want %+v", i, g, w)
		}
		if g.Created.Before(before) || g.Created.After(time.Now().Add(time.Minute)) {
			t.Errorf("event %d created %v, not around now", i, g.Created)
		}
		if i > 0 && !got[i-1].Position.Less(g.Position) {
			t.Errorf("event %d position %+v not after %+v", i, g.Position, got[i-1].Position)
		}
	}
	if got[2].Position != r2.Position {
		t.Errorf("last event at %+v, append said %+v", got[2].Position, r2.Position)
	}
}

func testExpectations(t *testing.T, s eventstore.Store, p string) {
	existing := p + "-exists"
	mustAppend(t, s, existing, eventstore.NoStream(), evs("Thing.v1", 0, 2)...) // at revision 1
	missing := p + "-missing"

	tests := []struct {
		name     string
		stream   string
		exp      eventstore.Expected
		noStream bool
		actual   uint64
	}{
		{"no stream on existing", existing, eventstore.NoStream(), false, 1},
		{"revision ahead", existing, eventstore.At(5), false, 1},
		{"revision behind", existing, eventstore.At(0), false, 1},
		{"revision on missing", missing, eventstore.At(0), true, 0},
		{"stream exists on missing", missing, eventstore.StreamExists(), true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Append(ctxFor(t), tc.stream, tc.exp, ev("Thing.v1", 9))
			if !errors.Is(err, errs.Conflict) {
				t.Fatalf("append = %v, want errs.Conflict", err)
			}
			var wr *eventstore.WrongRevisionError
			if !errors.As(err, &wr) {
				t.Fatalf("errors.As(%v, *WrongRevisionError) failed", err)
			}
			if !wr.Known || wr.ActualNoStream != tc.noStream || (!tc.noStream && wr.Actual != tc.actual) {
				t.Errorf("WrongRevisionError = %+v, want noStream=%v actual=%d", wr, tc.noStream, tc.actual)
			}
			if wr.Stream != tc.stream || wr.Expected != tc.exp {
				t.Errorf("WrongRevisionError names %s %s", wr.Stream, wr.Expected)
			}
		})
	}
	// Nothing was written by the refused appends.
	if got := mustRead(t, s, existing, eventstore.ReadOptions{}); len(got) != 2 {
		t.Errorf("stream has %d events after refused appends, want 2", len(got))
	}
	if _, err := s.ReadStream(ctxFor(t), missing, eventstore.ReadOptions{}); !errors.Is(err, errs.NotFound) {
		t.Errorf("missing stream read = %v, want errs.NotFound", err)
	}
	// The expectations that hold succeed.
	if r := mustAppend(t, s, existing, eventstore.StreamExists(), ev("Thing.v1", 2)); r.NextRevision != 2 {
		t.Errorf("StreamExists append at %d, want 2", r.NextRevision)
	}
	if r := mustAppend(t, s, existing, eventstore.Any(), ev("Thing.v1", 3)); r.NextRevision != 3 {
		t.Errorf("Any append at %d, want 3", r.NextRevision)
	}
	if r := mustAppend(t, s, missing, eventstore.Any(), ev("Thing.v1", 0)); r.NextRevision != 0 {
		t.Errorf("Any append on new stream at %d, want 0", r.NextRevision)
	}
}

func testIdempotentReappend(t *testing.T, s eventstore.Store, p string) {
	stream := p + "-idem"
	batch := evs("Thing.v1", 0, 3)
	r1 := mustAppend(t, s, stream, eventstore.NoStream(), batch...)
	again := mustAppend(t, s, stream, eventstore.NoStream(), batch...)
	if again.NextRevision != r1.NextRevision {
		t.Errorf("re-append NextRevision = %d, want %d", again.NextRevision, r1.NextRevision)
	}
	next := evs("Thing.v1", 3, 2)
	r2 := mustAppend(t, s, stream, eventstore.At(2), next...)
	again2 := mustAppend(t, s, stream, eventstore.At(2), next...)
	if again2.NextRevision != r2.NextRevision {
		t.Errorf("re-append at revision: NextRevision = %d, want %d", again2.NextRevision, r2.NextRevision)
	}
	got := mustRead(t, s, stream, eventstore.ReadOptions{})
	if diff := cmp.Diff(append(dataIDs(batch), dataIDs(next)...), ids(got)); diff != "" {
		t.Errorf("stream after re-appends (-want +got):\n%s", diff)
	}
}

func testReadStreamOptions(t *testing.T, s eventstore.Store, p string) {
	stream := p + "-opts"
	mustAppend(t, s, stream, eventstore.NoStream(), evs("Thing.v1", 0, 5)...)
	tests := []struct {
		name string
		o    eventstore.ReadOptions
		want []uint64
	}{
		{"all", eventstore.ReadOptions{}, []uint64{0, 1, 2, 3, 4}},
		{"from 2", eventstore.ReadOptions{From: 2}, []uint64{2, 3, 4}},
		{"from 1 max 2", eventstore.ReadOptions{From: 1, Max: 2}, []uint64{1, 2}},
		{"backwards from end", eventstore.ReadOptions{Direction: eventstore.Backwards, FromEnd: true}, []uint64{4, 3, 2, 1, 0}},
		{"backwards from end max 1", eventstore.ReadOptions{Direction: eventstore.Backwards, FromEnd: true, Max: 1}, []uint64{4}},
		{"backwards from 2", eventstore.ReadOptions{Direction: eventstore.Backwards, From: 2}, []uint64{2, 1, 0}},
		{"forwards from end", eventstore.ReadOptions{FromEnd: true}, []uint64{}},
		{"past the end", eventstore.ReadOptions{From: 9}, []uint64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := revisions(mustRead(t, s, stream, tc.o))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("revisions (-want +got):\n%s", diff)
			}
		})
	}
}

func testReadStreamNotFound(t *testing.T, s eventstore.Store, p string) {
	for _, o := range []eventstore.ReadOptions{{}, {Direction: eventstore.Backwards, FromEnd: true, Max: 1}, {FromEnd: true}} {
		_, err := s.ReadStream(ctxFor(t), p+"-nope", o)
		if !errors.Is(err, errs.NotFound) {
			t.Errorf("read missing stream %+v = %v, want errs.NotFound", o, err)
		}
	}
}

// appendSpread appends n events round-robin over streams and returns them
// in append order.
func appendSpread(t *testing.T, s eventstore.Store, streams []string, n int) []eventstore.EventData {
	t.Helper()
	var out []eventstore.EventData
	for i := 0; i < n; i++ {
		typ := "Even.v1"
		if i%2 == 1 {
			typ = "Odd.v1"
		}
		e := ev(typ, i)
		mustAppend(t, s, streams[i%len(streams)], eventstore.Any(), e)
		out = append(out, e)
	}
	return out
}

func testReadAll(t *testing.T, s eventstore.Store, p string) {
	streams := []string{p + "-x", p + "-y", p + "-z"}
	appended := appendSpread(t, s, streams, 9)
	mine := &eventstore.Filter{Prefixes: []string{p + "-"}}

	read := func(o eventstore.ReadAllOptions) []eventstore.RecordedEvent {
		t.Helper()
		got, err := s.ReadAll(ctxFor(t), o)
		if err != nil {
			t.Fatalf("read $all %+v: %v", o, err)
		}
		return got
	}
	all := read(eventstore.ReadAllOptions{Filter: mine})
	if diff := cmp.Diff(dataIDs(appended), ids(all)); diff != "" {
		t.Fatalf("$all filtered by stream prefix (-want +got):\n%s", diff)
	}
	for i := 1; i < len(all); i++ {
		if !all[i-1].Position.Less(all[i].Position) {
			t.Errorf("$all not in position order at %d: %+v, %+v", i, all[i-1].Position, all[i].Position)
		}
	}

	t.Run("regex on stream", func(t *testing.T) {
		got := read(eventstore.ReadAllOptions{Filter: &eventstore.Filter{Regex: "^" + p + "-[xz]$"}})
		var want []string
		for i, e := range appended {
			if i%3 != 1 {
				want = append(want, e.ID)
			}
		}
		if diff := cmp.Diff(want, ids(got)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("event type prefix", func(t *testing.T) {
		got := read(eventstore.ReadAllOptions{Filter: &eventstore.Filter{OnEventType: true, Prefixes: []string{"Odd."}}})
		var mineOdd []string
		for _, g := range got {
			if strings.HasPrefix(g.Stream, p+"-") {
				mineOdd = append(mineOdd, g.ID)
			}
			if g.Type != "Odd.v1" {
				t.Errorf("type filter let %s through", g.Type)
			}
		}
		var want []string
		for i, e := range appended {
			if i%2 == 1 {
				want = append(want, e.ID)
			}
		}
		if diff := cmp.Diff(want, mineOdd); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("max", func(t *testing.T) {
		got := read(eventstore.ReadAllOptions{Filter: mine, Max: 4})
		if diff := cmp.Diff(dataIDs(appended[:4]), ids(got)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("from position is inclusive", func(t *testing.T) {
		got := read(eventstore.ReadAllOptions{Filter: mine, From: all[5].Position})
		if diff := cmp.Diff(dataIDs(appended[5:]), ids(got)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("backwards from end", func(t *testing.T) {
		got := read(eventstore.ReadAllOptions{Filter: mine, Direction: eventstore.Backwards, FromEnd: true, Max: 3})
		want := []string{appended[8].ID, appended[7].ID, appended[6].ID}
		if diff := cmp.Diff(want, ids(got)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("invalid filter", func(t *testing.T) {
		for _, f := range []*eventstore.Filter{{}, {Regex: "(", OnEventType: true}, {Regex: "a", Prefixes: []string{"b"}}} {
			if _, err := s.ReadAll(ctxFor(t), eventstore.ReadAllOptions{Filter: f}); !errors.Is(err, errs.InvalidArgument) {
				t.Errorf("filter %+v: %v, want errs.InvalidArgument", f, err)
			}
		}
	})
}

func testReadAllSkipsSystem(t *testing.T, s eventstore.Store, p string) {
	stream := p + "-sys"
	user := ev("Thing.v1", 0)
	mustAppend(t, s, stream, eventstore.NoStream(), user, ev("$system-like", 1), ev("Thing.v1", 2))
	got, err := s.ReadAll(ctxFor(t), eventstore.ReadAllOptions{Filter: &eventstore.Filter{Prefixes: []string{stream}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range got {
		if strings.HasPrefix(g.Type, "$") {
			t.Errorf("ReadAll delivered system event %s", g.Type)
		}
	}
	if len(got) != 2 || got[0].ID != user.ID {
		t.Errorf("ReadAll = %d events, want the 2 user events", len(got))
	}
	// ReadStream returns everything, system types included.
	if n := len(mustRead(t, s, stream, eventstore.ReadOptions{})); n != 3 {
		t.Errorf("ReadStream = %d events, want 3", n)
	}
	// Unfiltered reads skip them too.
	all, err := s.ReadAll(ctxFor(t), eventstore.ReadAllOptions{Direction: eventstore.Backwards, FromEnd: true, Max: 50})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range all {
		if strings.HasPrefix(g.Type, "$") {
			t.Errorf("unfiltered ReadAll delivered system event %s in %s", g.Type, g.Stream)
		}
	}
}

// testSubscribeWithSystem: a stream's own $-typed event takes a revision
// in it. A filtered subscription skips it by default and delivers it with
// WithSystem, so a reader that checks revisions sees no gap; an
// unfiltered one with WithSystem delivers it too.
func testSubscribeWithSystem(t *testing.T, s eventstore.Store, p string) {
	stream := p + "-sys"
	sent := []eventstore.EventData{ev("Thing.v1", 0), ev("$system-like", 1), ev("Thing.v1", 2)}
	mustAppend(t, s, stream, eventstore.NoStream(), sent...)
	caughtUp := func(o eventstore.SubscribeOptions) (types []string, revs []uint64) {
		t.Helper()
		sub := subscribe(t, s, o)
		recvUntil(t, sub, func(m eventstore.Message) bool {
			if m.Event != nil && m.Event.Stream == stream {
				types, revs = append(types, m.Event.Type), append(revs, m.Event.Revision)
			}
			return m.CaughtUp
		})
		return types, revs
	}
	filter := &eventstore.Filter{Prefixes: []string{stream}}
	if types, revs := caughtUp(eventstore.SubscribeOptions{Filter: filter}); !cmp.Equal(revs, []uint64{0, 2}) {
		t.Errorf("filtered subscription: %v at %v, want the two Thing.v1 at [0 2]", types, revs)
	}
	types, revs := caughtUp(eventstore.SubscribeOptions{Filter: filter, WithSystem: true})
	if !cmp.Equal(revs, []uint64{0, 1, 2}) || len(types) != 3 || types[1] != "$system-like" {
		t.Errorf("filtered subscription WithSystem: %v at %v, want all three at [0 1 2]", types, revs)
	}
	if _, revs := caughtUp(eventstore.SubscribeOptions{WithSystem: true}); !cmp.Equal(revs, []uint64{0, 1, 2}) {
		t.Errorf("unfiltered subscription WithSystem: the stream's events at %v, want [0 1 2]", revs)
	}
	if _, revs := caughtUp(eventstore.SubscribeOptions{}); !cmp.Equal(revs, []uint64{0, 2}) {
		t.Errorf("unfiltered subscription: the stream's events at %v, want [0 2]", revs)
	}
}

// collector receives from a subscription until cond holds.
func recvUntil(t *testing.T, sub eventstore.Subscription, cond func(eventstore.Message) bool) {
	t.Helper()
	ctx := ctxFor(t)
	for {
		m, err := sub.Recv(ctx)
		if err != nil {
			t.Fatalf("recv: %v", err)
		}
		if cond(m) {
			return
		}
	}
}

func subscribe(t *testing.T, s eventstore.Store, o eventstore.SubscribeOptions) eventstore.Subscription {
	t.Helper()
	sub, err := s.SubscribeAll(ctxFor(t), o)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	return sub
}

func testSubscribeCatchUpLive(t *testing.T, s eventstore.Store, p string) {
	stream := p + "-sub"
	stored := evs("Thing.v1", 0, 3)
	mustAppend(t, s, stream, eventstore.NoStream(), stored...)
	sub := subscribe(t, s, eventstore.SubscribeOptions{Filter: &eventstore.Filter{Prefixes: []string{p + "-"}}})

	var got []eventstore.RecordedEvent
	caughtUp := false
	recvUntil(t, sub, func(m eventstore.Message) bool {
		if m.Event != nil {
			if caughtUp {
				t.Errorf("event %s after caught-up but nothing was appended", m.Event.ID)
			}
			got = append(got, *m.Event)
		}
		if m.CaughtUp {
			caughtUp = true
		}
		return caughtUp && len(got) >= len(stored)
	})
	if diff := cmp.Diff(dataIDs(stored), ids(got)); diff != "" {
		t.Fatalf("catch-up (-want +got):\n%s", diff)
	}
	live := evs("Thing.v1", 3, 2)
	mustAppend(t, s, stream, eventstore.At(2), live[0])
	mustAppend(t, s, stream, eventstore.At(3), live[1])
	got = got[:0]
	recvUntil(t, sub, func(m eventstore.Message) bool {
		if m.Event != nil {
			got = append(got, *m.Event)
		}
		return len(got) == len(live)
	})
	if diff := cmp.Diff(dataIDs(live), ids(got)); diff != "" {
		t.Errorf("live (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]uint64{3, 4}, revisions(got)); diff != "" {
		t.Errorf("live revisions (-want +got):\n%s", diff)
	}

	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := sub.Recv(ctxFor(t)); err == nil {
		t.Error("Recv after Close succeeded")
	}
}

func testSubscribeConcurrent(t *testing.T, s eventstore.Store, p string) {
	const writers, each = 4, 25
	streams := make([]string, writers)
	for i := range streams {
		streams[i] = fmt.Sprintf("%s-w%d", p, i)
		mustAppend(t, s, streams[i], eventstore.NoStream(), evs("Thing.v1", 0, 5)...)
	}
	sub := subscribe(t, s, eventstore.SubscribeOptions{Filter: &eventstore.Filter{Prefixes: []string{p + "-"}}})

	// Writers race the subscription's catch-up phase.
	var wg sync.WaitGroup
	errc := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(stream string) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, err := s.Append(ctxFor(t), stream, eventstore.At(uint64(4+i)), ev("Thing.v1", 5+i)); err != nil {
					errc <- err
					return
				}
			}
		}(streams[w])
	}

	total := writers * (5 + each)
	seen := map[string]uint64{} // stream -> next revision expected
	var last eventstore.Position
	n := 0
	recvUntil(t, sub, func(m eventstore.Message) bool {
		if e := m.Event; e != nil {
			if n > 0 && !last.Less(e.Position) {
				t.Errorf("position %+v not after %+v", e.Position, last)
			}
			last = e.Position
			if e.Revision != seen[e.Stream] {
				t.Errorf("%s: got revision %d, want %d (gap or duplicate)", e.Stream, e.Revision, seen[e.Stream])
			}
			seen[e.Stream] = e.Revision + 1
			n++
		}
		return n == total
	})
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Errorf("concurrent append: %v", err)
	}
}

func testSubscribeFrom(t *testing.T, s eventstore.Store, p string) {
	stream := p + "-from"
	stored := evs("Thing.v1", 0, 5)
	mustAppend(t, s, stream, eventstore.NoStream(), stored...)
	got := mustRead(t, s, stream, eventstore.ReadOptions{})
	from := got[2].Position
	sub := subscribe(t, s, eventstore.SubscribeOptions{From: &from, Filter: &eventstore.Filter{Prefixes: []string{stream}}})
	var recv []eventstore.RecordedEvent
	recvUntil(t, sub, func(m eventstore.Message) bool {
		if m.Event != nil {
			recv = append(recv, *m.Event)
		}
		return len(recv) == 2
	})
	if diff := cmp.Diff(dataIDs(stored[3:]), ids(recv)); diff != "" {
		t.Errorf("events strictly after the checkpoint (-want +got):\n%s", diff)
	}
}

func testSubscribeCheckpoints(t *testing.T, s eventstore.Store, p string) {
	// A filter nothing matches still yields checkpoints as the server scans.
	sub := subscribe(t, s, eventstore.SubscribeOptions{
		Filter:          &eventstore.Filter{OnEventType: true, Regex: "^" + p + "Never$"},
		CheckpointEvery: 2,
	})
	other := p + "-noise"
	res := mustAppend(t, s, other, eventstore.NoStream(), evs("Thing.v1", 0, 3)...)
	for i := 0; i < 6; i++ {
		mustAppend(t, s, other, eventstore.Any(), ev("Thing.v1", 3+i))
	}
	recvUntil(t, sub, func(m eventstore.Message) bool {
		if m.Event != nil {
			t.Errorf("filter let %s/%s through", m.Event.Stream, m.Event.Type)
		}
		return m.Checkpoint != nil && !m.Checkpoint.Less(res.Position)
	})

	// Type prefix filter: only matching types, system ones never.
	typ := p + "Match.v1"
	sub2 := subscribe(t, s, eventstore.SubscribeOptions{Filter: &eventstore.Filter{OnEventType: true, Prefixes: []string{p + "Match", "$"}}})
	want := []eventstore.EventData{ev(typ, 0), ev(typ, 1)}
	mustAppend(t, s, other, eventstore.Any(), ev("Thing.v1", 100), want[0], ev("$"+p+"Match", 2), ev("Thing.v1", 101), want[1])
	var got []eventstore.RecordedEvent
	recvUntil(t, sub2, func(m eventstore.Message) bool {
		if m.Event != nil {
			got = append(got, *m.Event)
		}
		return len(got) == 2
	})
	if diff := cmp.Diff(dataIDs(want), ids(got)); diff != "" {
		t.Errorf("type-filtered subscription (-want +got):\n%s", diff)
	}
}

func testRecvContext(t *testing.T, s eventstore.Store, p string) {
	sub := subscribe(t, s, eventstore.SubscribeOptions{Filter: &eventstore.Filter{Prefixes: []string{p + "-"}}})
	recvUntil(t, sub, func(m eventstore.Message) bool { return m.CaughtUp })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := sub.Recv(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Recv with cancelled context = %v", err)
	}
	// Still usable afterwards.
	e := ev("Thing.v1", 0)
	mustAppend(t, s, p+"-later", eventstore.NoStream(), e)
	recvUntil(t, sub, func(m eventstore.Message) bool { return m.Event != nil && m.Event.ID == e.ID })
}

func testInvalid(t *testing.T, s eventstore.Store, p string) {
	tests := []struct {
		name   string
		stream string
		events []eventstore.EventData
	}{
		{"empty stream name", "", []eventstore.EventData{ev("Thing.v1", 0)}},
		{"no events", p + "-inv", nil},
		{"bad event id", p + "-inv", []eventstore.EventData{{ID: "not-a-uuid", Type: "Thing.v1", Data: []byte("{}")}}},
		{"no event type", p + "-inv", []eventstore.EventData{{Data: []byte("{}")}}},
		{"unsupported content type", p + "-inv", []eventstore.EventData{{Type: "T", ContentType: "text/xml", Data: []byte("<a/>")}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Append(ctxFor(t), tc.stream, eventstore.Any(), tc.events...); !errors.Is(err, errs.InvalidArgument) {
				t.Errorf("append = %v, want errs.InvalidArgument", err)
			}
		})
	}
	if _, err := s.ReadStream(ctxFor(t), p+"-inv", eventstore.ReadOptions{}); !errors.Is(err, errs.NotFound) {
		t.Errorf("refused appends wrote something: %v", err)
	}
	if _, err := s.SubscribeAll(ctxFor(t), eventstore.SubscribeOptions{Filter: &eventstore.Filter{}}); !errors.Is(err, errs.InvalidArgument) {
		t.Errorf("empty filter: %v, want errs.InvalidArgument", err)
	}
}

func testOversize(t *testing.T, s eventstore.Store, p string) {
	big := ev("Big.v1", 0)
	big.Data = []byte(`"` + strings.Repeat("x", 2<<20) + `"`)
	_, err := s.Append(ctxFor(t), p+"-big", eventstore.NoStream(), big)
	if !errors.Is(err, errs.InvalidArgument) {
		t.Fatalf("2 MiB append = %v, want errs.InvalidArgument", err)
	}
	if _, err := s.ReadStream(ctxFor(t), p+"-big", eventstore.ReadOptions{}); !errors.Is(err, errs.NotFound) {
		t.Errorf("oversize append wrote something: %v", err)
	}
	// The store is still fine.
	mustAppend(t, s, p+"-big", eventstore.NoStream(), ev("Small.v1", 1))
}

func testHelpers(t *testing.T, s eventstore.Store, p string) {
	stream := eventstore.StreamName(p, "h")
	if eventstore.Category(stream) != p {
		t.Errorf("Category(%s) = %s", stream, eventstore.Category(stream))
	}
	if _, err := eventstore.CurrentRevision(ctxFor(t), s, stream); !errors.Is(err, errs.NotFound) {
		t.Errorf("CurrentRevision of missing = %v, want errs.NotFound", err)
	}
	exp, err := eventstore.ExpectedFor(ctxFor(t), s, stream)
	if err != nil || exp != eventstore.NoStream() {
		t.Fatalf("ExpectedFor missing = %v, %v", exp, err)
	}
	appended := evs("Thing.v1", 0, 7)
	mustAppend(t, s, stream, exp, appended...)
	if rev, err := eventstore.CurrentRevision(ctxFor(t), s, stream); err != nil || rev != 6 {
		t.Errorf("CurrentRevision = %d, %v; want 6", rev, err)
	}
	if exp, err := eventstore.ExpectedFor(ctxFor(t), s, stream); err != nil || exp != eventstore.At(6) {
		t.Errorf("ExpectedFor = %v, %v; want revision 6", exp, err)
	}
	whole, err := eventstore.ReadWholeStream(ctxFor(t), s, stream)
	if err != nil || len(whole) != 7 {
		t.Fatalf("ReadWholeStream = %d, %v", len(whole), err)
	}
	filter := &eventstore.Filter{Prefixes: []string{stream}}
	var walked []eventstore.RecordedEvent
	if err := eventstore.ForEachAll(ctxFor(t), s, nil, 2, filter, func(e eventstore.RecordedEvent) error {
		walked = append(walked, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(dataIDs(appended), ids(walked)); diff != "" {
		t.Errorf("ForEachAll pages of 2 (-want +got):\n%s", diff)
	}
	walked = walked[:0]
	after := whole[3].Position
	if err := eventstore.ForEachAll(ctxFor(t), s, &after, 0, filter, func(e eventstore.RecordedEvent) error {
		walked = append(walked, e)
		if len(walked) == 2 {
			return eventstore.ErrStop
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(dataIDs(appended[4:6]), ids(walked)); diff != "" {
		t.Errorf("ForEachAll after a position, stopped after 2 (-want +got):\n%s", diff)
	}
}
