package esdbserver_test

import (
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// Persistent subscriptions where an earlier version differed from
// KurrentDB's server (a review against its source, twelfth session).

// newGroup appends n events to a fresh stream and creates group "g" on it
// from the start.
func newGroup(t *testing.T, tg *target, prefix string, n int) string {
	t.Helper()
	s := streamName(prefix)
	if _, err := tg.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(n, "T")...); err != nil {
		t.Fatal(err)
	}
	settings := esdb.SubscriptionSettingsDefault()
	if err := tg.client.CreatePersistentSubscription(ctxT(t), s, "g", esdb.PersistentStreamSubscriptionOptions{StartFrom: esdb.Start{}, Settings: &settings}); err != nil {
		t.Fatal(err)
	}
	return s
}

// waitParked waits until the group's parked stream shows n messages.
func waitParked(t *testing.T, tg *target, s string, n int64) {
	t.Helper()
	var got int64
	for i := 0; i < 250; i++ {
		info, err := tg.client.GetPersistentSubscriptionInfo(ctxT(t), s, "g", esdb.GetPersistentSubscriptionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got = info.Stats.ParkedMessagesCount; got == n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%d parked messages, want %d", got, n)
}

// A consumer that goes away with a message unacknowledged: the message is
// retried, its retry count one higher (KurrentDB's
// RemoveClientByCorrelationId → RetryMessage, OutstandingMessage
// ForRetriedEvent), so a message that crashes every consumer shows it.
func TestPersistentLostMessageCountsAsRetried(t *testing.T) {
	tg := newTarget(t)
	s := newGroup(t, tg, "ps-lost", 1)
	for round := 0; round < 3; round++ {
		sub, err := tg.client.SubscribeToPersistentSubscription(ctxT(t), s, "g", esdb.SubscribeToPersistentSubscriptionOptions{BufferSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		ev := nextPersistent(t, sub)
		if ev.Event.OriginalEvent().EventNumber != 0 || ev.RetryCount != round {
			t.Fatalf("consumer %d: event %d with retry count %d, want 0 with %d", round, ev.Event.OriginalEvent().EventNumber, ev.RetryCount, round)
		}
		sub.Close() // gone without an ack
	}
}

// Nack with Stop: KurrentDB's StopSubscription does nothing and the
// message is dropped like a skip; the consumer's call goes on with the
// next event.
func TestPersistentNackStopSkips(t *testing.T) {
	tg := newTarget(t)
	s := newGroup(t, tg, "ps-stop", 3)
	sub, err := tg.client.SubscribeToPersistentSubscription(ctxT(t), s, "g", esdb.SubscribeToPersistentSubscriptionOptions{BufferSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	first := nextPersistent(t, sub)
	if err := sub.Nack("stop", esdb.NackActionStop, first.Event); err != nil {
		t.Fatal(err)
	}
	next := nextPersistent(t, sub) // fails the test if the subscription is dropped
	if next.Event.OriginalEvent().EventNumber != 1 || next.RetryCount != 0 {
		t.Fatalf("after Nack(Stop): event %d retry %d, want 1 retry 0", next.Event.OriginalEvent().EventNumber, next.RetryCount)
	}
}

// ReplayParkedMessages' StopAt is an event number of the parked stream
// (exclusive), not a count: after a first replay truncated the parked
// stream at 2, three more parked messages are numbers 2-4, and StopAt 3
// replays number 2 alone, leaving two parked.
func TestPersistentReplayParkedStopsAtAParkedNumber(t *testing.T) {
	tg := newTarget(t)
	c := tg.client
	s := newGroup(t, tg, "ps-stopat", 5)
	sub, err := c.SubscribeToPersistentSubscription(ctxT(t), s, "g", esdb.SubscribeToPersistentSubscriptionOptions{BufferSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	// Events 0-4 arrive (all sent at once: the buffer holds 10) and are
	// parked; once 0 and 1 are, they are replayed.
	for i := 0; i < 5; i++ {
		ev := nextPersistent(t, sub)
		if ev.Event.OriginalEvent().EventNumber != uint64(i) {
			t.Fatalf("event %d, want %d", ev.Event.OriginalEvent().EventNumber, i)
		}
		if err := sub.Nack("p", esdb.NackActionPark, ev.Event); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			waitParked(t, tg, s, 2)
			if err := c.ReplayParkedMessages(ctxT(t), s, "g", esdb.ReplayParkedMessagesOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The two replays come back (after 2-4, parked as they came).
	for i := 0; i < 2; i++ {
		ev := nextPersistent(t, sub)
		if ev.Event.Link == nil {
			t.Fatalf("expected a replayed message, got event %d", ev.Event.OriginalEvent().EventNumber)
		}
		if err := sub.Ack(ev.Event); err != nil {
			t.Fatal(err)
		}
	}
	waitParked(t, tg, s, 3) // 2, 3 and 4: parked numbers 2, 3, 4
	if err := c.ReplayParkedMessages(ctxT(t), s, "g", esdb.ReplayParkedMessagesOptions{StopAt: 3}); err != nil {
		t.Fatal(err)
	}
	ev := nextPersistent(t, sub)
	if ev.Event.Event.EventNumber != 2 || ev.Event.Link == nil || ev.Event.Link.EventNumber != 2 {
		t.Fatalf("replayed event %d (link %+v), want event 2 from parked number 2", ev.Event.Event.EventNumber, ev.Event.Link)
	}
	waitParked(t, tg, s, 2) // 3 and 4 stay parked
}
