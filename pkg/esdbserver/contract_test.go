package esdbserver_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
)

// The contract suite: what the official client sees of a KurrentDB node.
// It runs against the embedded server, and against a real KurrentDB when
// KURRENTDB_URL is set (e.g. esdb://localhost:2113?tls=false).

func TestAppendAndReadBack(t *testing.T) {
	tg := newTarget(t)
	s := streamName("append")
	ev := event("Thing.v1", `{"a":1}`)
	ev.Metadata = []byte("custom\x00bytes")
	bin := esdb.EventData{EventID: uuid.New(), EventType: "Blob", ContentType: esdb.ContentTypeBinary, Data: []byte{0, 1, 2}}
	before := time.Now().Add(-time.Second)
	res, err := tg.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, ev, bin)
	if err != nil {
		t.Fatal(err)
	}
	if res.NextExpectedVersion != 1 || res.CommitPosition == 0 || res.CommitPosition != res.PreparePosition {
		t.Fatalf("append result %+v", res)
	}
	got, err := readStream(t, tg.client, s, esdb.ReadStreamOptions{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("read %d events, want 2", len(got))
	}
	e0, e1 := got[0].Event, got[1].Event
	if e0.EventID != ev.EventID || e0.EventType != "Thing.v1" || e0.ContentType != "application/json" ||
		string(e0.Data) != `{"a":1}` || !bytes.Equal(e0.UserMetadata, ev.Metadata) || e0.StreamID != s || e0.EventNumber != 0 {
		t.Errorf("event 0 = %+v", e0)
	}
	if e1.EventID != bin.EventID || e1.ContentType != "application/octet-stream" || !bytes.Equal(e1.Data, []byte{0, 1, 2}) || e1.EventNumber != 1 {
		t.Errorf("event 1 = %+v", e1)
	}
	if e1.Position.Commit != res.CommitPosition || e0.Position.Commit >= e1.Position.Commit || e0.Position.Commit == 0 {
		t.Errorf("positions %v %v, append said %d", e0.Position, e1.Position, res.CommitPosition)
	}
	if e0.CreatedDate.Before(before) || e0.CreatedDate.After(time.Now().Add(time.Second)) {
		t.Errorf("created %v not near now", e0.CreatedDate)
	}
	// Appending nothing succeeds and reports the current state.
	res, err = tg.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{ExpectedRevision: esdb.Revision(1)})
	if err != nil || res.NextExpectedVersion != 1 {
		t.Fatalf("empty append: %+v, %v", res, err)
	}
}

func TestWrongExpectedVersion(t *testing.T) {
	tg := newTarget(t)
	s := streamName("wev")
	tests := []struct {
		name string
		exp  esdb.ExpectedRevision
		ok   bool
	}{
		{"stream_exists on missing", esdb.StreamExists{}, false},
		{"revision on missing", esdb.Revision(0), false},
		{"no_stream on missing", esdb.NoStream{}, true},
		{"no_stream on existing", esdb.NoStream{}, false},
		{"exact right", esdb.Revision(0), true},
		{"exact stale", esdb.Revision(0), false},
		{"exact ahead", esdb.Revision(7), false},
		{"stream_exists", esdb.StreamExists{}, true},
		{"any", esdb.Any{}, true},
	}
	for _, tc := range tests {
		_, err := tg.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{ExpectedRevision: tc.exp}, event("T", "{}"))
		switch {
		case tc.ok && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case !tc.ok && errCode(err) != esdb.ErrorCodeWrongExpectedVersion:
			t.Errorf("%s: got %v (code %d), want wrong expected version", tc.name, err, errCode(err))
		}
	}
	got, err := readStream(t, tg.client, s, esdb.ReadStreamOptions{}, 100)
	if err != nil || len(got) != 4 {
		t.Fatalf("read %d events (%v), want 4", len(got), err)
	}
}

func TestIdempotentAppend(t *testing.T) {
	tg := newTarget(t)
	s := streamName("idem")
	evs := events(3, "T")
	first, err := tg.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, evs...)
	if err != nil {
		t.Fatal(err)
	}
	for _, exp := range []esdb.ExpectedRevision{esdb.NoStream{}, esdb.Any{}} {
		again, err := tg.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{ExpectedRevision: exp}, evs...)
		if err != nil {
			t.Fatalf("re-append with %T: %v", exp, err)
		}
		if again.NextExpectedVersion != first.NextExpectedVersion || again.CommitPosition != first.CommitPosition {
			t.Errorf("re-append with %T = %+v, want %+v", exp, again, first)
		}
	}
	// A partial overlap is an error, never a silent duplicate.
	_, err = tg.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{ExpectedRevision: esdb.Any{}}, evs[0], event("T", "{}"))
	if errCode(err) != esdb.ErrorCodeWrongExpectedVersion {
		t.Errorf("partial overlap: %v, want wrong expected version", err)
	}
	// The same ids in another stream are new events.
	if _, err := tg.client.AppendToStream(ctxT(t), s+"-other", esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, evs...); err != nil {
		t.Errorf("same ids, other stream: %v", err)
	}
	got, err := readStream(t, tg.client, s, esdb.ReadStreamOptions{}, 100)
	if err != nil || len(got) != 3 {
		t.Fatalf("read %d events (%v), want 3", len(got), err)
	}
}

func TestReadDirectionsAndBounds(t *testing.T) {
	tg := newTarget(t)
	s := streamName("read")
	if _, err := tg.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(10, "T")...); err != nil {
		t.Fatal(err)
	}
	revs := func(evs []*esdb.ResolvedEvent) []uint64 {
		var out []uint64
		for _, e := range evs {
			out = append(out, e.OriginalEvent().EventNumber)
		}
		return out
	}
	tests := []struct {
		name  string
		opts  esdb.ReadStreamOptions
		count uint64
		want  []uint64
	}{
		{"forwards from start", esdb.ReadStreamOptions{}, 3, []uint64{0, 1, 2}},
		{"forwards from revision", esdb.ReadStreamOptions{From: esdb.Revision(7)}, 100, []uint64{7, 8, 9}},
		{"forwards past end", esdb.ReadStreamOptions{From: esdb.Revision(20)}, 100, nil},
		{"forwards from just past the last", esdb.ReadStreamOptions{From: esdb.Revision(10)}, 100, nil},
		{"backwards from end", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 3, []uint64{9, 8, 7}},
		{"backwards from revision", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.Revision(2)}, 100, []uint64{2, 1, 0}},
		{"backwards beyond end", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.Revision(50)}, 2, []uint64{9, 8}},
		// KurrentDB turns Start into revision 0 in either direction
		// (ReadReq.cs ToStreamRevision): backwards from it is event 0.
		{"backwards from start", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.Start{}}, 10, []uint64{0}},
	}
	for _, tc := range tests {
		got, err := readStream(t, tg.client, s, tc.opts, tc.count)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if g := revs(got); !equalU64(g, tc.want) {
			t.Errorf("%s: revisions %v, want %v", tc.name, g, tc.want)
		}
	}
	// Reading ends with io.EOF, again and again.
	rs, err := tg.client.ReadStream(ctxT(t), s, esdb.ReadStreamOptions{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		if _, err := rs.Recv(); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 2; i++ {
		if _, err := rs.Recv(); err == nil || err.Error() != "EOF" {
			t.Fatalf("recv after end: %v, want EOF", err)
		}
	}
	rs.Close()
	_, err = readStream(t, tg.client, streamName("missing"), esdb.ReadStreamOptions{}, 10)
	if errCode(err) != esdb.ErrorCodeResourceNotFound {
		t.Errorf("missing stream: %v, want resource not found", err)
	}
}

// TestTailReadSeesAcknowledgedAppends: through the client, a read of the
// events after the last one a reader knows (what a command handler with a
// cached copy of a stream reads) returns the event just appended, and a
// read from one past it returns none, with many writers committing at
// once — the boundaries of the store's answer from its stream table. That
// the table never lags an acknowledgement is checked inside the store
// (TestStreamTableLeadsAcknowledgement): a client's round trip is too slow
// to catch it.
func TestTailReadSeesAcknowledgedAppends(t *testing.T) {
	tg := newTarget(t)
	const writers, rounds = 16, 20
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := streamName(fmt.Sprintf("tail-%d", w))
			for r := range rounds {
				wr, err := tg.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(1, "T")...)
				if err != nil {
					t.Error(err)
					return
				}
				if wr.NextExpectedVersion != uint64(r) {
					t.Errorf("%s: appended at %d, want %d", s, wr.NextExpectedVersion, r)
					return
				}
				got, err := readStream(t, tg.client, s, esdb.ReadStreamOptions{From: esdb.Revision(uint64(r))}, 100)
				if err != nil || len(got) != 1 || got[0].OriginalEvent().EventNumber != uint64(r) {
					t.Errorf("%s: read from %d after its append was acknowledged: %d events, err %v; want the event at %d", s, r, len(got), err, r)
					return
				}
				if got, err := readStream(t, tg.client, s, esdb.ReadStreamOptions{From: esdb.Revision(uint64(r + 1))}, 100); err != nil || len(got) != 0 {
					t.Errorf("%s: read from %d, past the end: %d events, err %v; want none", s, r+1, len(got), err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func equalU64(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func readAll(t testing.TB, c *esdb.Client, opts esdb.ReadAllOptions, count uint64) []*esdb.ResolvedEvent {
	t.Helper()
	rs, err := c.ReadAll(ctxT(t), opts, count)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []*esdb.ResolvedEvent
	for {
		ev, err := rs.Recv()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("read $all: %v", err)
			}
			return out
		}
		out = append(out, ev)
	}
}

func TestReadAll(t *testing.T) {
	tg := newTarget(t)
	s := streamName("all")
	res, err := tg.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(5, "T")...)
	if err != nil {
		t.Fatal(err)
	}
	back := readAll(t, tg.client, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, 5)
	if len(back) != 5 || back[0].Event.StreamID != s || back[0].Event.EventNumber != 4 || back[0].Event.Position.Commit != res.CommitPosition {
		t.Fatalf("backwards from end: first %+v", back[0].Event)
	}
	for i := 1; i < len(back); i++ {
		if back[i].Event.Position.Commit >= back[i-1].Event.Position.Commit {
			t.Fatalf("backwards positions not decreasing at %d", i)
		}
	}
	p2 := back[2].Event.Position // the stream's event 2
	fwd := readAll(t, tg.client, esdb.ReadAllOptions{From: p2}, 2)
	if len(fwd) != 2 || fwd[0].Event.Position != p2 || fwd[1].Event.EventNumber != 3 {
		t.Errorf("forwards from a position is inclusive: got %d events", len(fwd))
	}
	bk := readAll(t, tg.client, esdb.ReadAllOptions{Direction: esdb.Backwards, From: p2}, 1)
	if len(bk) != 1 || bk[0].Event.StreamID != s || bk[0].Event.EventNumber != 1 {
		t.Errorf("backwards from a position is exclusive: got %+v", bk)
	}
	// Forwards from the stream's first event: its five events in order.
	fwd5 := readAll(t, tg.client, esdb.ReadAllOptions{From: back[4].Event.Position}, 5)
	for i, e := range fwd5 {
		if e.Event.StreamID != s || e.Event.EventNumber != uint64(i) {
			t.Fatalf("forwards event %d: %s@%d", i, e.Event.StreamID, e.Event.EventNumber)
		}
	}
	if tg.embedded {
		// The whole log: strictly increasing positions, system events included.
		var prev uint64
		system := 0
		for _, e := range readAll(t, tg.client, esdb.ReadAllOptions{}, math.MaxUint64) {
			if e.Event.Position.Commit <= prev {
				t.Fatalf("$all not strictly increasing at %v", e.Event.Position)
			}
			prev = e.Event.Position.Commit
			if strings.HasPrefix(e.Event.StreamID, "$") {
				system++
			}
		}
		if system == 0 {
			t.Error("$all holds no system events (the default users' streams)")
		}
	}
}

// collect reads a subscription until want events arrived, recording
// checkpoints and caught-up signals.
type collected struct {
	events      []*esdb.ResolvedEvent
	checkpoints []esdb.Position
	caughtUp    int
}

func collect(t testing.TB, sub *esdb.Subscription, want int, until func(*collected) bool) *collected {
	t.Helper()
	c := &collected{}
	done := make(chan struct{})
	timer := time.AfterFunc(20*time.Second, func() { sub.Close(); close(done) })
	defer timer.Stop()
	for len(c.events) < want || (until != nil && !until(c)) {
		ev := sub.Recv()
		switch {
		case ev.EventAppeared != nil:
			c.events = append(c.events, ev.EventAppeared)
		case ev.CheckPointReached != nil:
			c.checkpoints = append(c.checkpoints, *ev.CheckPointReached)
		case ev.CaughtUp != nil:
			c.caughtUp++
		case ev.SubscriptionDropped != nil:
			select {
			case <-done:
				t.Fatalf("subscription timed out after %d events", len(c.events))
			default:
			}
			t.Fatalf("subscription dropped after %d events: %v", len(c.events), ev.SubscriptionDropped.Error)
		}
	}
	return c
}

func TestSubscriptionCatchUpThenLiveUnderLoad(t *testing.T) {
	tg := newTarget(t)
	s := streamName("sub")
	const before, writers, perWriter = 50, 4, 25
	if _, err := tg.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(before, "T")...); err != nil {
		t.Fatal(err)
	}
	sub, err := tg.client.SubscribeToStream(ctxT(t), s, esdb.SubscribeToStreamOptions{From: esdb.Start{}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				if _, err := tg.client.AppendToStream(context.Background(), s, esdb.AppendToStreamOptions{}, event("T", "{}")); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	total := before + writers*perWriter
	got := collect(t, sub, total, nil)
	wg.Wait()
	for i, e := range got.events {
		if e.Event.EventNumber != uint64(i) {
			t.Fatalf("event %d has revision %d: gap or duplicate", i, e.Event.EventNumber)
		}
	}
	if got.caughtUp == 0 {
		t.Error("no caught-up signal")
	}
	// Exclusive start: from revision 10 the first event is 11; from end, only new events.
	sub2, err := tg.client.SubscribeToStream(ctxT(t), s, esdb.SubscribeToStreamOptions{From: esdb.Revision(10)})
	if err != nil {
		t.Fatal(err)
	}
	defer sub2.Close()
	if c := collect(t, sub2, 1, nil); c.events[0].Event.EventNumber != 11 {
		t.Errorf("from revision 10: first event %d, want 11", c.events[0].Event.EventNumber)
	}
	sub3, err := tg.client.SubscribeToStream(ctxT(t), s, esdb.SubscribeToStreamOptions{From: esdb.End{}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub3.Close()
	if _, err := tg.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, event("Last", "{}")); err != nil {
		t.Fatal(err)
	}
	if c := collect(t, sub3, 1, nil); c.events[0].Event.EventType != "Last" || c.caughtUp != 1 {
		t.Errorf("from end: got %s after %d caught-up", c.events[0].Event.EventType, c.caughtUp)
	}
}

func TestSubscribeToMissingStreamWaits(t *testing.T) {
	tg := newTarget(t)
	s := streamName("later")
	sub, err := tg.client.SubscribeToStream(ctxT(t), s, esdb.SubscribeToStreamOptions{From: esdb.Start{}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if _, err := tg.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(2, "T")...); err != nil {
		t.Fatal(err)
	}
	c := collect(t, sub, 2, nil)
	if c.events[1].Event.EventNumber != 1 {
		t.Errorf("got revision %d", c.events[1].Event.EventNumber)
	}
}

func TestAllSubscriptionFiltersAndCheckpoints(t *testing.T) {
	tg := newTarget(t)
	prefix := streamName("flt")
	// 40 events that do not match, then 3 that do, then live ones.
	if _, err := tg.client.AppendToStream(ctxT(t), prefix+"-noise", esdb.AppendToStreamOptions{}, events(40, "Noise")...); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.client.AppendToStream(ctxT(t), prefix+"-x", esdb.AppendToStreamOptions{}, events(3, "Match.v1")...); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		filter *esdb.SubscriptionFilter
	}{
		{"stream prefix", &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{prefix + "-x"}}},
		{"stream regex", &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Regex: "^" + prefix + "-x$"}},
		{"type prefix", &esdb.SubscriptionFilter{Type: esdb.EventFilterType, Prefixes: []string{"Match."}}},
		{"type regex", &esdb.SubscriptionFilter{Type: esdb.EventFilterType, Regex: "^Mat[c]h\\.v1$"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sub, err := tg.client.SubscribeToAll(ctxT(t), esdb.SubscribeToAllOptions{From: esdb.Start{}, Filter: tc.filter})
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			c := collect(t, sub, 3, func(c *collected) bool { return c.caughtUp > 0 })
			if len(c.checkpoints) < 2 {
				t.Errorf("%d checkpoints for ≥ 40 scanned events, want ≥ 2", len(c.checkpoints))
			}
			for i, e := range c.events {
				if e.Event.EventType != "Match.v1" || e.Event.EventNumber != uint64(i) {
					t.Errorf("event %d: %s #%d", i, e.Event.EventType, e.Event.EventNumber)
				}
			}
			last := c.checkpoints[len(c.checkpoints)-1]
			if last.Commit < c.events[2].Event.Position.Commit {
				t.Errorf("checkpoint %v before the last delivered event %v", last, c.events[2].Event.Position)
			}
		})
	}
	// The client's exclude-system filter hides `$` event types.
	sub, err := tg.client.SubscribeToAll(ctxT(t), esdb.SubscribeToAllOptions{From: esdb.Start{}, Filter: esdb.ExcludeSystemEventsFilter()})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	var ours []*esdb.ResolvedEvent
	collect(t, sub, 0, func(c *collected) bool {
		for _, e := range c.events[len(ours):] {
			if e.Event.EventType[0] == '$' {
				t.Fatalf("system event %s passed the filter", e.Event.EventType)
			}
		}
		ours = ours[:0]
		for _, e := range c.events {
			if strings.HasPrefix(e.Event.StreamID, prefix) {
				ours = append(ours, e)
			}
		}
		return len(ours) == 43
	})
	// Resuming from a position delivers strictly after it.
	live, err := tg.client.SubscribeToAll(ctxT(t), esdb.SubscribeToAllOptions{From: ours[41].Event.Position,
		Filter: &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{prefix}}})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if got := collect(t, live, 1, nil); got.events[0].Event.Position != ours[42].Event.Position {
		t.Errorf("from position: got %v, want %v", got.events[0].Event.Position, ours[42].Event.Position)
	}
}

func TestDeleteAndTombstone(t *testing.T) {
	tg := newTarget(t)
	ctx := ctxT(t)
	s := streamName("del")
	if _, err := tg.client.AppendToStream(ctx, s, esdb.AppendToStreamOptions{}, events(2, "T")...); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.client.DeleteStream(ctx, s, esdb.DeleteStreamOptions{ExpectedRevision: esdb.Revision(0)}); err == nil {
		t.Error("delete at a stale revision succeeded")
	}
	del, err := tg.client.DeleteStream(ctx, s, esdb.DeleteStreamOptions{ExpectedRevision: esdb.Revision(1)})
	if err != nil || del.Position.Commit == 0 {
		t.Fatalf("delete: %+v %v", del, err)
	}
	if _, err := readStream(t, tg.client, s, esdb.ReadStreamOptions{}, 10); errCode(err) != esdb.ErrorCodeResourceNotFound {
		t.Errorf("read after delete: %v, want not found", err)
	}
	if _, err := tg.client.AppendToStream(ctx, s, esdb.AppendToStreamOptions{ExpectedRevision: esdb.StreamExists{}}, event("T", "{}")); errCode(err) != esdb.ErrorCodeStreamDeleted {
		t.Errorf("stream_exists after soft delete: %v, want stream deleted", err)
	}
	// Appending re-creates the stream; numbering continues.
	res, err := tg.client.AppendToStream(ctx, s, esdb.AppendToStreamOptions{ExpectedRevision: esdb.Any{}}, event("Again", "{}"))
	if err != nil || res.NextExpectedVersion != 2 {
		t.Fatalf("re-create: %+v %v", res, err)
	}
	got, err := readStream(t, tg.client, s, esdb.ReadStreamOptions{}, 10)
	if err != nil || len(got) != 1 || got[0].Event.EventNumber != 2 || got[0].Event.EventType != "Again" {
		t.Fatalf("after re-create: %d events, %v", len(got), err)
	}

	// New metadata on a soft-deleted stream undeletes it without resurrecting old events.
	s2 := streamName("undelete")
	if _, err := tg.client.AppendToStream(ctx, s2, esdb.AppendToStreamOptions{}, events(3, "T")...); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.client.DeleteStream(ctx, s2, esdb.DeleteStreamOptions{}); err != nil {
		t.Fatal(err)
	}
	var custom esdb.StreamMetadata
	custom.AddCustomProperty("owner", "registry")
	if _, err := tg.client.SetStreamMetadata(ctx, s2, esdb.AppendToStreamOptions{}, custom); err != nil {
		t.Fatal(err)
	}
	if got, err := readStream(t, tg.client, s2, esdb.ReadStreamOptions{}, 10); err != nil || len(got) != 0 {
		t.Errorf("after undelete by metadata: %d events, %v; want none and no error", len(got), err)
	}
	if m, err := tg.client.GetStreamMetadata(ctx, s2, esdb.ReadStreamOptions{}); err != nil || m.TruncateBefore() == nil || *m.TruncateBefore() != 3 || m.CustomProperty("owner") != "registry" {
		t.Errorf("metadata after undelete: %+v %v", m, err)
	}

	ts, err := tg.client.TombstoneStream(ctx, s, esdb.TombstoneStreamOptions{})
	if err != nil || ts.Position.Commit == 0 {
		t.Fatalf("tombstone: %+v %v", ts, err)
	}
	if _, err := readStream(t, tg.client, s, esdb.ReadStreamOptions{}, 10); errCode(err) != esdb.ErrorCodeStreamDeleted {
		t.Errorf("read after tombstone: %v, want stream deleted", err)
	}
	if _, err := tg.client.AppendToStream(ctx, s, esdb.AppendToStreamOptions{}, event("T", "{}")); errCode(err) != esdb.ErrorCodeStreamDeleted {
		t.Errorf("append after tombstone: %v, want stream deleted", err)
	}
	if _, err := tg.client.GetStreamMetadata(ctx, s, esdb.ReadStreamOptions{}); err == nil {
		t.Error("metadata of a tombstoned stream readable")
	}
	if _, err := tg.client.SubscribeToStream(ctx, s, esdb.SubscribeToStreamOptions{From: esdb.Start{}}); err == nil {
		t.Error("subscribed to a tombstoned stream")
	}
	if _, err := tg.client.DeleteStream(ctx, streamName("never"), esdb.DeleteStreamOptions{}); err == nil {
		t.Error("soft delete of a never-written stream succeeded")
	}
	if _, err := tg.client.TombstoneStream(ctx, streamName("never"), esdb.TombstoneStreamOptions{}); err != nil {
		t.Errorf("tombstone of a never-written stream: %v", err)
	}
}

func TestSubscribeToSoftDeletedStream(t *testing.T) {
	tg := newTarget(t)
	s := streamName("softsub")
	if _, err := tg.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(3, "Old")...); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.client.DeleteStream(ctxT(t), s, esdb.DeleteStreamOptions{}); err != nil {
		t.Fatal(err)
	}
	sub, err := tg.client.SubscribeToStream(ctxT(t), s, esdb.SubscribeToStreamOptions{From: esdb.Start{}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if _, err := tg.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, event("New", "{}")); err != nil {
		t.Fatal(err)
	}
	c := collect(t, sub, 1, nil)
	if e := c.events[0].Event; e.EventType != "New" || e.EventNumber != 3 {
		t.Errorf("first event after soft delete: %s #%d, want New #3 (deleted events stay hidden)", e.EventType, e.EventNumber)
	}
}

func TestTombstoneEndsSubscription(t *testing.T) {
	tg := newTarget(t)
	s := streamName("tsub")
	if _, err := tg.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, event("T", "{}")); err != nil {
		t.Fatal(err)
	}
	sub, err := tg.client.SubscribeToStream(ctxT(t), s, esdb.SubscribeToStreamOptions{From: esdb.Start{}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	collect(t, sub, 1, nil)
	if _, err := tg.client.TombstoneStream(ctxT(t), s, esdb.TombstoneStreamOptions{}); err != nil {
		t.Fatal(err)
	}
	sawTombstone := false
	for {
		ev := sub.Recv()
		if ev.EventAppeared != nil && ev.EventAppeared.Event.EventType == "$streamDeleted" {
			sawTombstone = true
		}
		if ev.SubscriptionDropped != nil {
			break
		}
	}
	if !sawTombstone {
		t.Error("tombstone event not delivered before the drop")
	}
}

func TestStreamMetadata(t *testing.T) {
	tg := newTarget(t)
	ctx := ctxT(t)
	s := streamName("meta")
	if _, err := tg.client.AppendToStream(ctx, s, esdb.AppendToStreamOptions{}, events(10, "T")...); err != nil {
		t.Fatal(err)
	}
	var m esdb.StreamMetadata
	m.SetMaxCount(3)
	m.AddCustomProperty("owner", "registry")
	if _, err := tg.client.SetStreamMetadata(ctx, s, esdb.AppendToStreamOptions{}, m); err != nil {
		t.Fatal(err)
	}
	got, err := readStream(t, tg.client, s, esdb.ReadStreamOptions{}, 100)
	if err != nil || len(got) != 3 || got[0].Event.EventNumber != 7 {
		t.Fatalf("maxCount 3: %d events from %v (%v)", len(got), got, err)
	}
	m2 := esdb.StreamMetadata{}
	m2.SetTruncateBefore(8)
	if _, err := tg.client.SetStreamMetadata(ctx, s, esdb.AppendToStreamOptions{}, m2); err != nil {
		t.Fatal(err)
	}
	back, err := tg.client.GetStreamMetadata(ctx, s, esdb.ReadStreamOptions{})
	if err != nil || back.TruncateBefore() == nil || *back.TruncateBefore() != 8 || back.MaxCount() != nil {
		t.Fatalf("get metadata: %+v %v", back, err)
	}
	got, err = readStream(t, tg.client, s, esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 100)
	if err != nil || len(got) != 2 || got[1].Event.EventNumber != 8 {
		t.Fatalf("$tb 8 backwards: %d events (%v)", len(got), err)
	}
	// $maxAge: everything older than a second disappears, the stream still exists.
	aged := streamName("aged")
	if _, err := tg.client.AppendToStream(ctx, aged, esdb.AppendToStreamOptions{}, events(2, "T")...); err != nil {
		t.Fatal(err)
	}
	m3 := esdb.StreamMetadata{}
	m3.SetMaxAge(time.Second)
	if _, err := tg.client.SetStreamMetadata(ctx, aged, esdb.AppendToStreamOptions{}, m3); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	got, err = readStream(t, tg.client, aged, esdb.ReadStreamOptions{}, 100)
	if err != nil || len(got) != 0 {
		t.Fatalf("maxAge: %d events (%v), want none and no error", len(got), err)
	}
	// Custom properties round-trip.
	first, err := tg.client.GetStreamMetadata(ctx, aged, esdb.ReadStreamOptions{})
	if err != nil || first.MaxAge() == nil || *first.MaxAge() != time.Second {
		t.Errorf("maxAge metadata: %+v %v", first, err)
	}
}

func TestResolveLinks(t *testing.T) {
	tg := newTarget(t)
	s := streamName("target")
	if _, err := tg.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(2, "T")...); err != nil {
		t.Fatal(err)
	}
	links := streamName("links")
	link := esdb.EventData{EventID: uuid.New(), EventType: "$>", ContentType: esdb.ContentTypeBinary, Data: []byte("1@" + s)}
	if _, err := tg.client.AppendToStream(ctxT(t), links, esdb.AppendToStreamOptions{}, link); err != nil {
		t.Fatal(err)
	}
	got, err := readStream(t, tg.client, links, esdb.ReadStreamOptions{ResolveLinkTos: true}, 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("read links: %v", err)
	}
	if got[0].Event == nil || got[0].Event.StreamID != s || got[0].Event.EventNumber != 1 || got[0].Link == nil || got[0].Link.EventID != link.EventID {
		t.Errorf("resolved link = %+v", got[0])
	}
	plain, err := readStream(t, tg.client, links, esdb.ReadStreamOptions{}, 10)
	if err != nil || plain[0].Link != nil || plain[0].Event.EventType != "$>" {
		t.Errorf("unresolved link = %+v (%v)", plain, err)
	}
}

func TestMaximumAppendSize(t *testing.T) {
	tg := newTarget(t)
	big := esdb.EventData{EventID: uuid.New(), EventType: "Big", ContentType: esdb.ContentTypeBinary, Data: make([]byte, 1<<20)}
	_, err := tg.client.AppendToStream(ctxT(t), streamName("big"), esdb.AppendToStreamOptions{}, big)
	if err == nil {
		t.Fatal("append over 1 MiB succeeded")
	}
	var e *esdb.Error
	if !errors.As(err, &e) || !strings.Contains(err.Error(), "Maximum Append Size") {
		t.Fatalf("oversized append: %v, want the maximum-append-size error", err)
	}
	small := esdb.EventData{EventID: uuid.New(), EventType: "Big", ContentType: esdb.ContentTypeBinary, Data: make([]byte, 1<<19)}
	if _, err := tg.client.AppendToStream(ctxT(t), streamName("big"), esdb.AppendToStreamOptions{}, small); err != nil {
		t.Fatalf("append of 512 KiB: %v", err)
	}
}
