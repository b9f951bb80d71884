package esdbserver_test

import (
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// Persistent subscriptions, parked messages (fourteenth session, checked
// against KurrentDB's PersistentSubscriptionMessageParker.cs).

// TestFidelityPSDeleteGroupDeletesParked: deleting a group soft-deletes its
// parked stream (DeletePersistentSubscription, PersistentSubscriptionService.cs
// 761-763 → PersistentSubscription.Delete 751-754 → MessageParker.BeginDelete
// 115-118), so a group created again under the name has none to replay.
func TestFidelityPSDeleteGroupDeletesParked(t *testing.T) {
	tg := newTarget(t)
	c := tg.client
	s := newGroup(t, tg, "ps-delpark", 2)
	sub, err := c.SubscribeToPersistentSubscription(ctxT(t), s, "g", esdb.SubscribeToPersistentSubscriptionOptions{BufferSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.Nack("bad", esdb.NackActionPark, nextPersistent(t, sub).Event); err != nil {
		t.Fatal(err)
	}
	waitParked(t, tg, s, 1)
	sub.Close()
	if err := c.DeletePersistentSubscription(ctxT(t), s, "g", esdb.DeletePersistentSubscriptionOptions{}); err != nil {
		t.Fatal(err)
	}
	settings := esdb.SubscriptionSettingsDefault()
	if err := c.CreatePersistentSubscription(ctxT(t), s, "g", esdb.PersistentStreamSubscriptionOptions{StartFrom: esdb.End{}, Settings: &settings}); err != nil {
		t.Fatal(err)
	}
	info, err := c.GetPersistentSubscriptionInfo(ctxT(t), s, "g", esdb.GetPersistentSubscriptionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := info.Stats.ParkedMessagesCount; n != 0 {
		t.Errorf("new group shows %d parked messages of the deleted one, want 0", n)
	}
	if err := c.ReplayParkedMessages(ctxT(t), s, "g", esdb.ReplayParkedMessagesOptions{}); err != nil {
		t.Fatal(err)
	}
	sub2, err := c.SubscribeToPersistentSubscription(ctxT(t), s, "g", esdb.SubscribeToPersistentSubscriptionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub2.Close()
	select {
	case got := <-recvAsync(sub2):
		if got.EventAppeared != nil {
			t.Errorf("new group (from the end) received event %d: the deleted group's parked message came back",
				got.EventAppeared.Event.OriginalEvent().EventNumber)
		}
	case <-time.After(1500 * time.Millisecond):
	}
}
