package esdbserver_test

import (
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// TestFidelityPSReadBatchBelowHistoryBuffer: a read batch not below the
// history buffer is refused, as PersistentSubscription's constructor throws
// (PersistentSubscription.cs 88-90) and the service answers Fail with the
// exception's message (PersistentSubscriptionService.cs 388-393 for Create,
// 640-684 for Update): Internal "… failed: 'Specified argument was out of
// the range of valid values. (Parameter 'ReadBatchSize may not be greater
// than or equal to BufferSize')'". Create makes no group; Update leaves the
// group as it was, its consumer connected.
func TestFidelityPSReadBatchBelowHistoryBuffer(t *testing.T) {
	tg := newTarget(t)
	c := tg.client
	const want = "Subscription group g on stream %s failed: 'Specified argument was out of the range of valid values. (Parameter 'ReadBatchSize may not be greater than or equal to BufferSize')'"
	s := streamName("ps-batch")
	settings := esdb.SubscriptionSettingsDefault()
	settings.ReadBatchSize, settings.HistoryBufferSize = 500, 500
	err := c.CreatePersistentSubscription(ctxT(t), s, "g", esdb.PersistentStreamSubscriptionOptions{StartFrom: esdb.Start{}, Settings: &settings})
	if err == nil || !strings.Contains(err.Error(), strings.ReplaceAll(want, "%s", s)) {
		t.Errorf("Create with read batch 500 = history buffer 500: %v, want the Fail naming ReadBatchSize", err)
	}
	if _, err := c.GetPersistentSubscriptionInfo(ctxT(t), s, "g", esdb.GetPersistentSubscriptionOptions{}); err == nil {
		t.Errorf("the group was created")
	}

	s = newGroup(t, tg, "ps-batchup", 1)
	sub, err := c.SubscribeToPersistentSubscription(ctxT(t), s, "g", esdb.SubscribeToPersistentSubscriptionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	nextPersistent(t, sub)
	settings.ReadBatchSize, settings.HistoryBufferSize = 600, 500
	err = c.UpdatePersistentSubscription(ctxT(t), s, "g", esdb.PersistentStreamSubscriptionOptions{StartFrom: esdb.Start{}, Settings: &settings})
	if err == nil || !strings.Contains(err.Error(), strings.ReplaceAll(want, "%s", s)) {
		t.Errorf("Update with read batch 600 > history buffer 500: %v, want the Fail naming ReadBatchSize", err)
	}
	info, err := c.GetPersistentSubscriptionInfo(ctxT(t), s, "g", esdb.GetPersistentSubscriptionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Settings.ReadBatchSize != 20 {
		t.Errorf("read batch %d after the refused Update, want 20", info.Settings.ReadBatchSize)
	}
	select {
	case got := <-recvAsync(sub):
		t.Errorf("the consumer got %+v after the refused Update", got)
	case <-time.After(500 * time.Millisecond):
	}
}
