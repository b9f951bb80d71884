package esdbserver_test

import (
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// TestFidelityPSDispatchToSingleStays: DispatchToSingle moves a full
// consumer at the head of its queue to the back
// (DispatchToSinglePersistentSubscriptionConsumerStrategy.PushMessageToClient:
// Clients.Dequeue/Enqueue), so once B took over from a full A, B stays the
// one served after A frees a slot.
func TestFidelityPSDispatchToSingleStays(t *testing.T) {
	tg := newTarget(t)
	c := tg.client
	s := streamName("ps-single")
	if _, err := c.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(3, "T")...); err != nil {
		t.Fatal(err)
	}
	settings := esdb.SubscriptionSettingsDefault()
	settings.ConsumerStrategyName = esdb.ConsumerStrategyDispatchToSingle
	psGroupFromStart(t, c, s, settings)
	a, err := c.SubscribeToPersistentSubscription(ctxT(t), s, "g", esdb.SubscribeToPersistentSubscriptionOptions{BufferSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	first := nextPersistent(t, a) // A is full
	b, err := c.SubscribeToPersistentSubscription(ctxT(t), s, "g", esdb.SubscribeToPersistentSubscriptionOptions{BufferSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for i := 1; i <= 2; i++ {
		if n := nextPersistent(t, b).Event.OriginalEvent().EventNumber; n != uint64(i) {
			t.Fatalf("B got %d, want %d", n, i)
		}
	}
	if err := a.Ack(first.Event); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := c.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(1, "T")...); err != nil { // 3
		t.Fatal(err)
	}
	if n := nextPersistent(t, b).Event.OriginalEvent().EventNumber; n != 3 {
		t.Errorf("B got %d, want 3", n)
	}
	select {
	case got := <-recvAsync(a):
		if got.EventAppeared != nil {
			t.Errorf("A got event %d; KurrentDB sends it to B, now first in the queue", got.EventAppeared.Event.OriginalEvent().EventNumber)
		}
	case <-time.After(500 * time.Millisecond):
	}
}
