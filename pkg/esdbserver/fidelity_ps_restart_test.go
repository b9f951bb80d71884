package esdbserver_test

import (
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// TestFidelityPSRestartSubsystem: RestartSubsystem stops and starts the
// subsystem (PersistentSubscriptionService.cs 142-154): ShutdownSubscriptions
// → PersistentSubscription.Shutdown (374-378) → ShutdownAll
// (PersistentSubscriptionClientCollection.cs 46-50) drops every consumer,
// which the Read handler ends with Canceled "… was dropped."
// (PersistentSubscriptions.Read.cs 226-244). The group is loaded again from
// its last checkpoint: a consumer joining it gets the unacknowledged event.
func TestFidelityPSRestartSubsystem(t *testing.T) {
	tg := newTarget(t)
	c := tg.client
	s := newGroup(t, tg, "ps-restart", 2)
	sub, err := c.SubscribeToPersistentSubscription(ctxT(t), s, "g", esdb.SubscribeToPersistentSubscriptionOptions{BufferSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if err := sub.Ack(nextPersistent(t, sub).Event); err != nil {
		t.Fatal(err)
	}
	nextPersistent(t, sub) // event 1, not acknowledged
	if err := c.RestartPersistentSubscriptionSubsystem(ctxT(t), esdb.RestartPersistentSubscriptionSubsystemOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-recvAsync(sub):
		if got.SubscriptionDropped == nil || !strings.Contains(got.SubscriptionDropped.Error.Error(), "Subscription group g on stream "+s+" was dropped.") {
			t.Errorf("got %+v, want the group's drop", got)
		}
	case <-time.After(3 * time.Second):
		t.Fatalf("consumer still connected 3 s after RestartPersistentSubscriptionSubsystem")
	}
	sub2, err := c.SubscribeToPersistentSubscription(ctxT(t), s, "g", esdb.SubscribeToPersistentSubscriptionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub2.Close()
	// No checkpoint was due (min 10): the reloaded group starts over.
	if n := nextPersistent(t, sub2).Event.OriginalEvent().EventNumber; n != 0 {
		t.Errorf("after the restart the first delivery is %d, want 0", n)
	}
}
