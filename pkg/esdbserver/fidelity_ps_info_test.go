package esdbserver_test

import (
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// Persistent subscriptions, GetInfo (fourteenth session, checked against
// KurrentDB's PersistentSubscriptionStats.cs and PersistentSubscription.cs).

func psInfo(t *testing.T, c *esdb.Client, s string) *esdb.PersistentSubscriptionInfo {
	t.Helper()
	info, err := c.GetPersistentSubscriptionInfo(ctxT(t), s, "g", esdb.GetPersistentSubscriptionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// TestFidelityPSStatusBehind: the status is the state flags' ToString
// (PersistentSubscriptionStats.cs 94): a group reads ahead without
// consumers while its history buffer has room for a batch
// (TryReadingNewBatch, PersistentSubscription.cs 156-175;
// StreamBuffer.CanAccept) and stays "Behind" short of the stream's end,
// its read buffer holding what it read (Stats 111); a group whose read
// reached the end is "Live".
func TestFidelityPSStatusBehind(t *testing.T) {
	tg := newTarget(t)
	c := tg.client
	s := streamName("ps-behind")
	if _, err := c.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(600, "T")...); err != nil {
		t.Fatal(err)
	}
	psGroupFromStart(t, c, s, esdb.SubscriptionSettingsDefault())
	time.Sleep(1500 * time.Millisecond)
	if info := psInfo(t, c, s); info.Status != "Behind" || info.Stats.ReadBufferCount == 0 {
		t.Errorf("status %q, read buffer %d; want \"Behind\" with the buffer read ahead", info.Status, info.Stats.ReadBufferCount)
	}
	small := newGroup(t, tg, "ps-live", 3)
	time.Sleep(500 * time.Millisecond)
	if info := psInfo(t, c, small); info.Status != "Live" || info.Stats.ReadBufferCount != 3 {
		t.Errorf("status %q, read buffer %d; want \"Live\" with the 3 events read", info.Status, info.Stats.ReadBufferCount)
	}
}

// TestFidelityPSTotalItemsAndFrom: TotalItems counts messages pushed to
// consumers (IncrementProcessed in MarkBeginProcessing,
// PersistentSubscription.cs 347-349; Stats 29-31, 99), not
// acknowledgements; a gRPC consumer's From is "" (the Read handler
// connects with string.Empty, PersistentSubscriptions.Read.cs 202-216).
func TestFidelityPSTotalItemsAndFrom(t *testing.T) {
	tg := newTarget(t)
	c := tg.client
	s := newGroup(t, tg, "ps-total", 2)
	sub, err := c.SubscribeToPersistentSubscription(ctxT(t), s, "g", esdb.SubscribeToPersistentSubscriptionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	nextPersistent(t, sub)
	ev := nextPersistent(t, sub) // neither acknowledged
	info := psInfo(t, c, s)
	if n := info.Stats.TotalItems; n != 2 {
		t.Errorf("TotalItems %d after two deliveries without acks, want 2", n)
	}
	if len(info.Connections) != 1 || info.Connections[0].From != "" {
		t.Errorf("connections %+v, want one with From \"\"", info.Connections)
	}
	if err := sub.Nack("again", esdb.NackActionRetry, ev.Event); err != nil {
		t.Fatal(err)
	}
	nextPersistent(t, sub)
	if n := psInfo(t, c, s).Stats.TotalItems; n != 3 {
		t.Errorf("TotalItems %d after a retry, want 3", n)
	}
}
