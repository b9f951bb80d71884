package esdbserver_test

import (
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// Persistent subscriptions, live and deleted streams (fourteenth session,
// checked against KurrentDB's PersistentSubscriptionService.cs and
// PersistentSubscription.cs).

// psGroupFromStart creates the group "g" on s from its start.
func psGroupFromStart(t *testing.T, c *esdb.Client, s string, settings esdb.PersistentSubscriptionSettings) {
	t.Helper()
	if err := c.CreatePersistentSubscription(ctxT(t), s, "g", esdb.PersistentStreamSubscriptionOptions{StartFrom: esdb.Start{}, Settings: &settings}); err != nil {
		t.Fatal(err)
	}
}

// TestFidelityPSLiveIgnoresMaxCount: live events reach a stream group as
// committed (ProcessEventCommitted, PersistentSubscriptionService.cs
// 1032-1051 → NotifyLiveSubscriptionMessage, PersistentSubscription.cs
// 293-323); only the catch-up read applies $maxCount. Three events appended
// at once under $maxCount 1 all reach a live consumer.
func TestFidelityPSLiveIgnoresMaxCount(t *testing.T) {
	tg := newTarget(t)
	c := tg.client
	s := streamName("ps-livemax")
	var meta esdb.StreamMetadata
	meta.SetMaxCount(1)
	if _, err := c.SetStreamMetadata(ctxT(t), s, esdb.AppendToStreamOptions{}, meta); err != nil {
		t.Fatal(err)
	}
	psGroupFromStart(t, c, s, esdb.SubscriptionSettingsDefault())
	sub, err := c.SubscribeToPersistentSubscription(ctxT(t), s, "g", esdb.SubscribeToPersistentSubscriptionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	time.Sleep(500 * time.Millisecond) // the group reads the empty stream and goes live
	if _, err := c.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(3, "T")...); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		ev := nextPersistent(t, sub)
		if n := ev.Event.OriginalEvent().EventNumber; n != uint64(i) {
			t.Fatalf("live delivery %d is event %d, want %d", i, n, i)
		}
		if err := sub.Ack(ev.Event); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFidelityPSLiveGetsTheTombstone: a tombstone committed while a group
// is live reaches its consumers as the $streamDeleted event (the groups of
// a stream get every committed event, EventFilter.DefaultStreamFilter
// allowing all, EventFilter.cs 61-66).
func TestFidelityPSLiveGetsTheTombstone(t *testing.T) {
	tg := newTarget(t)
	c := tg.client
	s := newGroup(t, tg, "ps-livetomb", 1)
	sub, err := c.SubscribeToPersistentSubscription(ctxT(t), s, "g", esdb.SubscribeToPersistentSubscriptionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if err := sub.Ack(nextPersistent(t, sub).Event); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := c.TombstoneStream(ctxT(t), s, esdb.TombstoneStreamOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-recvAsync(sub):
		if got.EventAppeared == nil || got.EventAppeared.Event.OriginalEvent().EventType != "$streamDeleted" {
			t.Errorf("got %+v, want the $streamDeleted event", got)
		}
	case <-time.After(2 * time.Second):
		t.Errorf("the live consumer did not receive the tombstone")
	}
}

// TestFidelityPSTombstonedStreamFaults: a group reading a tombstoned stream
// gets StreamDeleted (IndexReader.cs 219-220), which its reader does not
// retry (PersistentSubscriptionStreamReader.cs 139-141): HandleReadError
// (PersistentSubscription.cs 177-187) faults the group and AddClient
// (363-368) drops every consumer that joins, confirmed first, with
// Canceled "Subscription group g on stream S was dropped."
// (PersistentSubscriptions.Read.cs 238-239).
func TestFidelityPSTombstonedStreamFaults(t *testing.T) {
	tg := newTarget(t)
	c := tg.client
	s := streamName("ps-tomb")
	if _, err := c.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(1, "T")...); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TombstoneStream(ctxT(t), s, esdb.TombstoneStreamOptions{}); err != nil {
		t.Fatal(err)
	}
	psGroupFromStart(t, c, s, esdb.SubscriptionSettingsDefault())
	for i := 0; i < 2; i++ { // the first consumer faults the group; the second joins it faulted
		sub, err := c.SubscribeToPersistentSubscription(ctxT(t), s, "g", esdb.SubscribeToPersistentSubscriptionOptions{})
		if err != nil {
			t.Fatalf("subscribe %d: %v", i, err)
		}
		select {
		case got := <-recvAsync(sub):
			if got.SubscriptionDropped == nil || !strings.Contains(got.SubscriptionDropped.Error.Error(), "Subscription group g on stream "+s+" was dropped.") {
				t.Errorf("consumer %d got %+v, want the group's drop", i, got)
			}
		case <-time.After(3 * time.Second):
			t.Errorf("consumer %d of a group on a tombstoned stream still connected after 3 s", i)
		}
		sub.Close()
	}
}

// TestFidelityPSSoftDeletedStreamLive: a group on a soft-deleted stream
// reads NoStream, the end of the stream (PersistentSubscriptionStreamReader
// FetchCompleted), and goes live: the events the delete hid are not sent,
// the next one appended is.
func TestFidelityPSSoftDeletedStreamLive(t *testing.T) {
	tg := newTarget(t)
	c := tg.client
	s := streamName("ps-softdel")
	if _, err := c.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(3, "T")...); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteStream(ctxT(t), s, esdb.DeleteStreamOptions{}); err != nil {
		t.Fatal(err)
	}
	psGroupFromStart(t, c, s, esdb.SubscriptionSettingsDefault())
	sub, err := c.SubscribeToPersistentSubscription(ctxT(t), s, "g", esdb.SubscribeToPersistentSubscriptionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	time.Sleep(300 * time.Millisecond)
	if _, err := c.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(1, "T")...); err != nil {
		t.Fatal(err)
	}
	if n := nextPersistent(t, sub).Event.OriginalEvent().EventNumber; n != 3 {
		t.Errorf("first delivery is event %d, want 3 (0-2 were deleted)", n)
	}
}
