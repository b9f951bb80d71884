package esdbserver_test

import (
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// untilCaughtUp reads a subscription up to caught_up and returns the event
// numbers it delivered.
func untilCaughtUp(t *testing.T, sub *esdb.Subscription) []uint64 {
	t.Helper()
	var out []uint64
	for {
		ev := sub.Recv()
		switch {
		case ev.SubscriptionDropped != nil:
			t.Fatalf("dropped: %v", ev.SubscriptionDropped.Error)
		case ev.EventAppeared != nil:
			out = append(out, ev.EventAppeared.OriginalEvent().EventNumber)
		case ev.CaughtUp != nil:
			return out
		}
	}
}

// nextEvents reads n events of a live subscription.
func nextEvents(t *testing.T, sub *esdb.Subscription, n int) []uint64 {
	t.Helper()
	var out []uint64
	for len(out) < n {
		ev := sub.Recv()
		switch {
		case ev.SubscriptionDropped != nil:
			t.Fatalf("dropped after %v: %v", out, ev.SubscriptionDropped.Error)
		case ev.EventAppeared != nil:
			out = append(out, ev.EventAppeared.OriginalEvent().EventNumber)
		}
	}
	return out
}

// KurrentDB pushes live events to a stream subscription with no metadata
// check (SubscriptionsService.cs 440-455, Enumerator.StreamSubscription.cs
// 202-229); only its catch-up reads (ReadStreamEventsForward) apply
// $maxCount, $maxAge and $tb. The store applied them to live events too, so
// a batch longer than $maxCount lost its first events, and a $tb ahead of
// the stream hid them all.
func TestFidelityLiveIgnoresMetadata(t *testing.T) {
	tg := newTarget(t)
	t.Run("maxCount", func(t *testing.T) {
		s := streamName("livemax")
		if _, err := tg.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(5, "e")...); err != nil {
			t.Fatal(err)
		}
		m := esdb.StreamMetadata{}
		m.SetMaxCount(2)
		if _, err := tg.client.SetStreamMetadata(ctxT(t), s, esdb.AppendToStreamOptions{}, m); err != nil {
			t.Fatal(err)
		}
		// From the start: the catch-up still honours $maxCount.
		sub, err := tg.client.SubscribeToStream(ctxT(t), s, esdb.SubscribeToStreamOptions{From: esdb.Start{}})
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		if got := untilCaughtUp(t, sub); len(got) != 2 || got[0] != 3 {
			t.Errorf("catch-up with $maxCount 2 over 0-4: %v; KurrentDB: [3 4]", got)
		}
		end, err := tg.client.SubscribeToStream(ctxT(t), s, esdb.SubscribeToStreamOptions{From: esdb.End{}})
		if err != nil {
			t.Fatal(err)
		}
		defer end.Close()
		untilCaughtUp(t, end)
		if _, err := tg.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(5, "e")...); err != nil {
			t.Fatal(err)
		}
		for name, sb := range map[string]*esdb.Subscription{"from start": sub, "from end": end} {
			if got := nextEvents(t, sb, 5); got[0] != 5 || got[4] != 9 {
				t.Errorf("%s: live events after appending 5-9 with $maxCount 2: %v; KurrentDB: [5 6 7 8 9]", name, got)
			}
		}
	})
	t.Run("tb ahead", func(t *testing.T) {
		s := streamName("livetb")
		if _, err := tg.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(2, "e")...); err != nil {
			t.Fatal(err)
		}
		m := esdb.StreamMetadata{}
		m.SetTruncateBefore(100)
		if _, err := tg.client.SetStreamMetadata(ctxT(t), s, esdb.AppendToStreamOptions{}, m); err != nil {
			t.Fatal(err)
		}
		sub, err := tg.client.SubscribeToStream(ctxT(t), s, esdb.SubscribeToStreamOptions{From: esdb.Start{}})
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		if got := untilCaughtUp(t, sub); len(got) != 0 {
			t.Errorf("catch-up with $tb 100: %v; KurrentDB: none", got)
		}
		if _, err := tg.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(3, "e")...); err != nil {
			t.Fatal(err)
		}
		if got := nextEvents(t, sub, 3); got[0] != 2 || got[2] != 4 {
			t.Errorf("live events 2-4 under $tb 100: %v; KurrentDB: [2 3 4]", got)
		}
	})
}

// A filtered $all subscription counts its live events for checkpoints from
// 0 when it goes live (Enumerator.AllSubscriptionFiltered.cs 380-388,
// SubscriptionsService.cs 456-466); the catch-up's count (265-345) ends
// with the catch-up. The store carried the catch-up's remainder over: 40
// events (and the server's own) before, window 32, then 31 non-matching
// live events gave a checkpoint KurrentDB does not send.
func TestFidelityLiveCheckpointCounter(t *testing.T) {
	tg := newTarget(t)
	s := streamName("ckpt")
	if _, err := tg.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(40, "nomatch")...); err != nil {
		t.Fatal(err)
	}
	f := esdb.SubscriptionFilter{Type: esdb.EventFilterType, Prefixes: []string{"match"}}
	sub, err := tg.client.SubscribeToAll(ctxT(t), esdb.SubscribeToAllOptions{From: esdb.Start{}, Filter: &f, MaxSearchWindow: 32, CheckpointInterval: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for ev := sub.Recv(); ev.CaughtUp == nil; ev = sub.Recv() {
		if ev.SubscriptionDropped != nil {
			t.Fatal(ev.SubscriptionDropped.Error)
		}
	}
	if _, err := tg.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(31, "nomatch")...); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(1, "match")...); err != nil {
		t.Fatal(err)
	}
	n := 0
	for ev := sub.Recv(); ev.EventAppeared == nil; ev = sub.Recv() {
		if ev.SubscriptionDropped != nil {
			t.Fatal(ev.SubscriptionDropped.Error)
		}
		if ev.CheckPointReached != nil {
			n++
		}
	}
	if n != 0 {
		t.Errorf("%d live checkpoints within the first 31 live events; KurrentDB: 0 (its live count starts at 0)", n)
	}
}

// The tombstone prepare has no IsJson flag and no data (LogRecord.cs
// 109-116), so its $streamDeleted event reads as application/octet-stream
// (MetadataHelpers.cs 11-18), empty. The store sent application/json.
func TestFidelityTombstoneContentType(t *testing.T) {
	tg := newTarget(t)
	s := streamName("tombct")
	if _, err := tg.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(1, "e")...); err != nil {
		t.Fatal(err)
	}
	sub, err := tg.client.SubscribeToStream(ctxT(t), s, esdb.SubscribeToStreamOptions{From: esdb.Start{}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	untilCaughtUp(t, sub)
	if _, err := tg.client.TombstoneStream(ctxT(t), s, esdb.TombstoneStreamOptions{}); err != nil {
		t.Fatal(err)
	}
	ev := sub.Recv()
	if ev.EventAppeared == nil {
		t.Fatalf("no tombstone event: %+v", ev)
	}
	e := ev.EventAppeared.OriginalEvent()
	if e.EventType != "$streamDeleted" || e.ContentType != "application/octet-stream" || len(e.Data) != 0 {
		t.Errorf("tombstone event: type %s content-type %q data %q; KurrentDB: $streamDeleted, application/octet-stream, empty", e.EventType, e.ContentType, e.Data)
	}
}
