package esdbserver_test

import (
	"math"
	"strings"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/craftledger/craftledger/pkg/esdbserver"
)

// TestEmptyAppendPositionSurvivesRestart: an empty append's position holds
// no record, yet no later write may take it or an earlier one, across
// restarts too; $all never shows it.
func TestEmptyAppendPositionSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := ctxT(t)
	s := streamName("empty-restart")
	srv := startServer(t, esdbserver.Config{DataDir: dir, Insecure: true})
	c := connect(t, srv.URL())
	wr, err := c.AppendToStream(ctx, s, esdb.AppendToStreamOptions{}, events(2, "T")...)
	if err != nil {
		t.Fatal(err)
	}
	e1, err := c.AppendToStream(ctx, s, esdb.AppendToStreamOptions{ExpectedRevision: esdb.Revision(1)})
	if err != nil || e1.CommitPosition <= wr.CommitPosition || e1.NextExpectedVersion != 1 {
		t.Fatalf("empty append: %+v, %v; want revision 1 past position %d", e1, err, wr.CommitPosition)
	}
	c.Close()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	// The empty append was the last write: only the high-water key knows it.
	srv = startServer(t, esdbserver.Config{DataDir: dir, Insecure: true})
	c = connect(t, srv.URL())
	e2, err := c.AppendToStream(ctx, s, esdb.AppendToStreamOptions{})
	if err != nil || e2.CommitPosition <= e1.CommitPosition {
		t.Fatalf("empty append after restart: %+v, %v; want a position past %d", e2, err, e1.CommitPosition)
	}
	w2, err := c.AppendToStream(ctx, s, esdb.AppendToStreamOptions{ExpectedRevision: esdb.Revision(1)}, event("T", "{}"))
	if err != nil || w2.CommitPosition <= e2.CommitPosition || w2.NextExpectedVersion != 2 {
		t.Fatalf("append after restart: %+v, %v; want revision 2 past position %d", w2, err, e2.CommitPosition)
	}
	c.Close()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	// An event follows the high-water position: still strictly increasing.
	srv = startServer(t, esdbserver.Config{DataDir: dir, Insecure: true})
	c = connect(t, srv.URL())
	e3, err := c.AppendToStream(ctx, s, esdb.AppendToStreamOptions{})
	if err != nil || e3.CommitPosition <= w2.CommitPosition || e3.NextExpectedVersion != 2 {
		t.Fatalf("empty append after second restart: %+v, %v; want revision 2 past position %d", e3, err, w2.CommitPosition)
	}
	var got []uint64
	for _, ev := range readAll(t, c, esdb.ReadAllOptions{From: esdb.Start{}}, 100) {
		if ev.Event.StreamID == s {
			got = append(got, ev.Event.Position.Commit)
		}
	}
	if len(got) != 3 || got[2] != w2.CommitPosition {
		t.Errorf("$all positions of %s: %v; want its 3 events only, the last at %d", s, got, w2.CommitPosition)
	}
}

// TestEmptyAppendNotInSubscription: a subscription to $all sees the events
// around an empty append and nothing for the empty append itself.
func TestEmptyAppendNotInSubscription(t *testing.T) {
	ctx := ctxT(t)
	c := connect(t, startServer(t, esdbserver.Config{Insecure: true}).URL())
	s := streamName("empty-sub")
	sub, err := c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: esdb.Start{}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if _, err := c.AppendToStream(ctx, s, esdb.AppendToStreamOptions{}, event("A", "{}")); err != nil {
		t.Fatal(err)
	}
	empty, err := c.AppendToStream(ctx, s, esdb.AppendToStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	last, err := c.AppendToStream(ctx, s, esdb.AppendToStreamOptions{}, event("B", "{}"))
	if err != nil || last.CommitPosition <= empty.CommitPosition {
		t.Fatalf("append after the empty one: %+v, %v; want a position past %d", last, err, empty.CommitPosition)
	}
	var types []string
	for len(types) < 2 {
		m := sub.Recv()
		if m.SubscriptionDropped != nil {
			t.Fatalf("subscription dropped: %v", m.SubscriptionDropped.Error)
		}
		if ev := m.EventAppeared; ev != nil && !strings.HasPrefix(ev.Event.StreamID, "$") {
			if ev.Event.Position.Commit == empty.CommitPosition {
				t.Errorf("the empty append's position %d was delivered as %s", empty.CommitPosition, ev.Event.EventType)
			}
			types = append(types, ev.Event.EventType)
		}
	}
	if types[0] != "A" || types[1] != "B" {
		t.Errorf("subscription delivered %v; want [A B]", types)
	}
}

// TestEmptyAppendDeletedStreams: what passes on tombstoned and soft-deleted
// streams (IndexWriter.CheckCommit) and the undelete a passing one makes.
func TestEmptyAppendDeletedStreams(t *testing.T) {
	ctx := ctxT(t)
	c := connect(t, startServer(t, esdbserver.Config{Insecure: true}).URL())

	tomb := streamName("empty-tomb")
	if _, err := c.TombstoneStream(ctx, tomb, esdb.TombstoneStreamOptions{}); err != nil {
		t.Fatal(err)
	}
	var prev uint64
	for _, tc := range []struct {
		stream string
		exp    esdb.ExpectedRevision
	}{
		{tomb, esdb.Any{}}, {tomb, esdb.NoStream{}}, {tomb, esdb.Revision(math.MaxInt64)}, {"$$" + tomb, esdb.Any{}},
	} {
		got, err := c.AppendToStream(ctx, tc.stream, esdb.AppendToStreamOptions{ExpectedRevision: tc.exp})
		if err != nil || got.NextExpectedVersion != math.MaxInt64 || got.CommitPosition <= prev {
			t.Errorf("empty append to %s expecting %T: %+v, %v; want revision int64 max past position %d", tc.stream, tc.exp, got, err, prev)
		}
		if err == nil {
			prev = got.CommitPosition
		}
	}
	for _, exp := range []esdb.ExpectedRevision{esdb.StreamExists{}, esdb.Revision(0)} {
		if _, err := c.AppendToStream(ctx, tomb, esdb.AppendToStreamOptions{ExpectedRevision: exp}); errCode(err) != esdb.ErrorCodeStreamDeleted {
			t.Errorf("empty append to a tombstoned stream expecting %T: %v; want stream deleted", exp, err)
		}
	}
	if _, err := c.AppendToStream(ctx, tomb, esdb.AppendToStreamOptions{}, event("T", "{}")); errCode(err) != esdb.ErrorCodeStreamDeleted {
		t.Errorf("append of an event to a tombstoned stream: %v; want stream deleted", err)
	}

	// Soft-deleted: any, or a write to the metadata stream, undeletes; only
	// events written after it are visible.
	for _, target := range []string{"", "$$"} {
		d := streamName("empty-soft")
		if _, err := c.AppendToStream(ctx, d, esdb.AppendToStreamOptions{}, events(2, "T")...); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DeleteStream(ctx, d, esdb.DeleteStreamOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.AppendToStream(ctx, d, esdb.AppendToStreamOptions{ExpectedRevision: esdb.StreamExists{}}); errCode(err) != esdb.ErrorCodeStreamDeleted {
			t.Errorf("empty append to a soft-deleted stream expecting it to exist: %v; want stream deleted", err)
		}
		if _, err := c.AppendToStream(ctx, target+d, esdb.AppendToStreamOptions{}); err != nil {
			t.Fatalf("empty append to %s of a soft-deleted stream: %v", target+d, err)
		}
		if evs, err := readStream(t, c, d, esdb.ReadStreamOptions{}, 10); err != nil || len(evs) != 0 {
			t.Errorf("read after the undelete through %q: %d events, %v; want none and no error", target, len(evs), err)
		}
		got, err := c.AppendToStream(ctx, d, esdb.AppendToStreamOptions{ExpectedRevision: esdb.Revision(1)}, event("N", "{}"))
		if err != nil || got.NextExpectedVersion != 2 {
			t.Fatalf("append after the undelete: %+v, %v; want revision 2", got, err)
		}
		evs, err := readStream(t, c, d, esdb.ReadStreamOptions{}, 10)
		if err != nil || len(evs) != 1 || evs[0].Event.EventType != "N" {
			t.Errorf("read after the undelete and an append: %d events, %v; want only the new one", len(evs), err)
		}
	}
}
