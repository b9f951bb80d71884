package esdbserver_test

import (
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/craftledger/craftledger/pkg/esdbserver"
)

// Persistent subscriptions, timeouts and checkpoints (fourteenth session,
// checked against KurrentDB's PersistentSubscriptionService.cs and
// PersistentSubscription.cs).

// TestFidelityPSMessageTimeoutZero: a message timeout of 0 ms is
// TimeSpan.Zero (ToMessageTimeout, PersistentSubscriptionService.cs
// 1479-1481), not "no timeout": a pushed message expires at once
// (MarkBeginProcessing, PersistentSubscription.cs 347-354) and the next
// clock tick (1 s) retries it (NotifyClockTick 692-710).
func TestFidelityPSMessageTimeoutZero(t *testing.T) {
	tg := newTarget(t)
	c := tg.client
	s := streamName("ps-timeout0")
	if _, err := c.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, event("T", "{}")); err != nil {
		t.Fatal(err)
	}
	settings := esdb.SubscriptionSettingsDefault()
	settings.MessageTimeout = 0
	psGroupFromStart(t, c, s, settings)
	sub, err := c.SubscribeToPersistentSubscription(ctxT(t), s, "g", esdb.SubscribeToPersistentSubscriptionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	first := nextPersistent(t, sub) // not acknowledged
	select {
	case got := <-recvAsync(sub):
		if got.EventAppeared == nil || got.EventAppeared.RetryCount != 1 || got.EventAppeared.Event.OriginalEvent().EventID != first.Event.OriginalEvent().EventID {
			t.Errorf("want the same event again with retry count 1, got %+v", got)
		}
	case <-time.After(3 * time.Second):
		t.Errorf("message timeout 0: the unacknowledged event was not retried within 3 s")
	}
}

// TestFidelityPSCheckpointAfterZero: a checkpoint-after of 0 ms is
// TimeSpan.MaxValue (ToCheckPointAfterTimeout, 1475-1477): no checkpoint
// is ever due by time, only after max checkpoint count acks
// (TryMarkCheckpoint, PersistentSubscription.cs 465-476). Three acks under
// min 1 / max 1000 write none; with max 3 they write one.
func TestFidelityPSCheckpointAfterZero(t *testing.T) {
	tg := newTarget(t)
	c := tg.client
	for _, maxCount := range []int32{1000, 3} {
		s := streamName("ps-cp0")
		if _, err := c.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(3, "T")...); err != nil {
			t.Fatal(err)
		}
		settings := esdb.SubscriptionSettingsDefault()
		settings.CheckpointAfter, settings.CheckpointLowerBound, settings.CheckpointUpperBound = 0, 1, maxCount
		psGroupFromStart(t, c, s, settings)
		sub, err := c.SubscribeToPersistentSubscription(ctxT(t), s, "g", esdb.SubscribeToPersistentSubscriptionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			if err := sub.Ack(nextPersistent(t, sub).Event); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(2500 * time.Millisecond) // two clock ticks
		sub.Close()
		info, err := c.GetPersistentSubscriptionInfo(ctxT(t), s, "g", esdb.GetPersistentSubscriptionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cp := info.Stats.LastCheckpointedEventRevision
		switch {
		case maxCount == 1000 && cp != nil:
			t.Errorf("checkpoint at %d with CheckpointAfter 0 and 3 < 1000 acks, want none", *cp)
		case maxCount == 3 && (cp == nil || *cp != 2):
			t.Errorf("checkpoint %v with CheckpointAfter 0 and 3 acks of max 3, want 2", cp)
		}
	}
}

// TestFidelityPSNoCheckpointAtShutdown: nothing writes a checkpoint at
// shutdown (BecomeShuttingDown → ShutdownSubscriptions → Shutdown only
// drops consumers, PersistentSubscriptionService.cs 166-178,
// PersistentSubscription.cs 374-378): with the defaults (min 10) three
// acks write none, and all three come again after a restart.
func TestFidelityPSNoCheckpointAtShutdown(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, esdbserver.Config{DataDir: dir, Insecure: true})
	c := connect(t, srv.URL())
	if _, err := c.AppendToStream(ctxT(t), "orders", esdb.AppendToStreamOptions{}, events(5, "T")...); err != nil {
		t.Fatal(err)
	}
	psGroupFromStart(t, c, "orders", esdb.SubscriptionSettingsDefault())
	sub, err := c.SubscribeToPersistentSubscription(ctxT(t), "orders", "g", esdb.SubscribeToPersistentSubscriptionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := sub.Ack(nextPersistent(t, sub).Event); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond) // the acks arrive
	sub.Close()
	c.Close()
	srv.Close()
	srv2 := startServer(t, esdbserver.Config{DataDir: dir, Insecure: true})
	c2 := connect(t, srv2.URL())
	sub2, err := c2.SubscribeToPersistentSubscription(ctxT(t), "orders", "g", esdb.SubscribeToPersistentSubscriptionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub2.Close()
	if n := nextPersistent(t, sub2).Event.OriginalEvent().EventNumber; n != 0 {
		t.Errorf("after restart the first delivery is %d, want 0 (no checkpoint was due)", n)
	}
}
