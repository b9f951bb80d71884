package esdbserver_test

import (
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/craftledger/craftledger/pkg/esdbserver"
)

// nextPersistent waits for the next event of a persistent subscription.
func nextPersistent(t *testing.T, sub *esdb.PersistentSubscription) *esdb.EventAppeared {
	t.Helper()
	timer := time.AfterFunc(15*time.Second, func() { sub.Close() })
	defer timer.Stop()
	for {
		ev := sub.Recv()
		if ev.SubscriptionDropped != nil {
			t.Fatalf("persistent subscription dropped: %v", ev.SubscriptionDropped.Error)
		}
		if ev.EventAppeared != nil {
			return ev.EventAppeared
		}
	}
}

// recvAsync starts receiving the next event; the caller can check that
// nothing arrives for a while and then take it.
func recvAsync(sub *esdb.PersistentSubscription) <-chan *esdb.PersistentSubscriptionEvent {
	got := make(chan *esdb.PersistentSubscriptionEvent, 1)
	go func() {
		for {
			ev := sub.Recv()
			if ev.EventAppeared != nil || ev.SubscriptionDropped != nil {
				got <- ev
				return
			}
		}
	}()
	return got
}

func TestPersistentSubscriptionAckParkReplay(t *testing.T) {
	tg := newTarget(t)
	ctx := ctxT(t)
	s := streamName("ps")
	if _, err := tg.client.AppendToStream(ctx, s, esdb.AppendToStreamOptions{}, events(4, "T")...); err != nil {
		t.Fatal(err)
	}
	settings := esdb.SubscriptionSettingsDefault()
	if err := tg.client.CreatePersistentSubscription(ctx, s, "g", esdb.PersistentStreamSubscriptionOptions{StartFrom: esdb.Start{}, Settings: &settings}); err != nil {
		t.Fatal(err)
	}
	if err := tg.client.CreatePersistentSubscription(ctx, s, "g", esdb.PersistentStreamSubscriptionOptions{}); errCode(err) != esdb.ErrorCodeResourceAlreadyExists {
		t.Errorf("duplicate create: %v, want already exists", err)
	}
	if _, err := tg.client.SubscribeToPersistentSubscription(ctx, s, "nope", esdb.SubscribeToPersistentSubscriptionOptions{}); errCode(err) != esdb.ErrorCodeResourceNotFound {
		t.Errorf("missing group: %v, want not found", err)
	}
	sub, err := tg.client.SubscribeToPersistentSubscription(ctx, s, "g", esdb.SubscribeToPersistentSubscriptionOptions{BufferSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	e0, e1 := nextPersistent(t, sub), nextPersistent(t, sub)
	if e0.Event.OriginalEvent().EventNumber != 0 || e1.Event.OriginalEvent().EventNumber != 1 || e0.RetryCount != 0 {
		t.Fatalf("first deliveries %d, %d", e0.Event.OriginalEvent().EventNumber, e1.Event.OriginalEvent().EventNumber)
	}
	pending := recvAsync(sub)
	select {
	case ev := <-pending:
		t.Fatalf("a third event arrived with a buffer of 2: %+v", ev)
	case <-time.After(300 * time.Millisecond):
	}
	if err := sub.Ack(e0.Event); err != nil {
		t.Fatal(err)
	}
	var e2 *esdb.EventAppeared
	select {
	case ev := <-pending:
		if ev.EventAppeared == nil {
			t.Fatalf("dropped: %v", ev.SubscriptionDropped.Error)
		}
		e2 = ev.EventAppeared
	case <-time.After(15 * time.Second):
		t.Fatal("no event after ack")
	}
	if e2.Event.OriginalEvent().EventNumber != 2 {
		t.Fatalf("after ack got %d, want 2", e2.Event.OriginalEvent().EventNumber)
	}
	// Retry redelivers with a retry count; park sets aside.
	if err := sub.Nack("again", esdb.NackActionRetry, e1.Event); err != nil {
		t.Fatal(err)
	}
	r1 := nextPersistent(t, sub)
	if r1.Event.OriginalEvent().EventNumber != 1 || r1.RetryCount != 1 {
		t.Fatalf("retry: got %d (retry %d), want 1 (retry 1)", r1.Event.OriginalEvent().EventNumber, r1.RetryCount)
	}
	if err := sub.Nack("bad", esdb.NackActionPark, r1.Event, e2.Event); err != nil {
		t.Fatal(err)
	}
	e3 := nextPersistent(t, sub)
	if e3.Event.OriginalEvent().EventNumber != 3 {
		t.Fatalf("got %d, want 3", e3.Event.OriginalEvent().EventNumber)
	}
	sub.Ack(e3.Event)
	var info *esdb.PersistentSubscriptionInfo
	for i := 0; i < 50; i++ {
		if info, err = tg.client.GetPersistentSubscriptionInfo(ctx, s, "g", esdb.GetPersistentSubscriptionOptions{}); err != nil {
			t.Fatal(err)
		}
		if info.Stats.ParkedMessagesCount == 2 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if info.Stats.ParkedMessagesCount != 2 || info.EventSource != s || info.GroupName != "g" {
		t.Errorf("info: source %s group %s parked %d", info.EventSource, info.GroupName, info.Stats.ParkedMessagesCount)
	}
	if err := tg.client.ReplayParkedMessages(ctx, s, "g", esdb.ReplayParkedMessagesOptions{}); err != nil {
		t.Fatal(err)
	}
	// A replayed message comes as KurrentDB reads it from the parked
	// stream, links resolved: the event, with the parked link (what the
	// client acks) — the official client's own replay test reads
	// Event.Event for this reason.
	p1, p2 := nextPersistent(t, sub), nextPersistent(t, sub)
	parked := "$persistentsubscription-" + s + "::g-parked"
	for i, p := range []*esdb.EventAppeared{p1, p2} {
		if p.Event.Event.StreamID != s || p.Event.Event.EventNumber != uint64(i+1) || p.Event.Link == nil || p.Event.Link.StreamID != parked || p.Event.OriginalEvent() != p.Event.Link {
			t.Fatalf("replayed %d: event %s@%d, link %+v; want %s@%d linked from %s", i, p.Event.Event.StreamID, p.Event.Event.EventNumber, p.Event.Link, s, i+1, parked)
		}
	}
	sub.Ack(p1.Event, p2.Event)
	list, err := tg.client.ListPersistentSubscriptionsForStream(ctx, s, esdb.ListPersistentSubscriptionsOptions{})
	if err != nil || len(list) != 1 {
		t.Errorf("list for stream: %d, %v", len(list), err)
	}
	if err := tg.client.DeletePersistentSubscription(ctx, s, "g", esdb.DeletePersistentSubscriptionOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := tg.client.DeletePersistentSubscription(ctx, s, "g", esdb.DeletePersistentSubscriptionOptions{}); errCode(err) != esdb.ErrorCodeResourceNotFound {
		t.Errorf("second delete: %v, want not found", err)
	}
}

func TestPersistentSubscriptionRoundRobinAndAll(t *testing.T) {
	tg := newTarget(t)
	ctx := ctxT(t)
	prefix := streamName("rr")
	if err := tg.client.CreatePersistentSubscriptionToAll(ctx, "all-"+prefix, esdb.PersistentAllSubscriptionOptions{
		StartFrom: esdb.End{}, Filter: &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{prefix}}}); err != nil {
		t.Fatal(err)
	}
	a, err := tg.client.SubscribeToPersistentSubscriptionToAll(ctx, "all-"+prefix, esdb.SubscribeToPersistentSubscriptionOptions{BufferSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := tg.client.SubscribeToPersistentSubscriptionToAll(ctx, "all-"+prefix, esdb.SubscribeToPersistentSubscriptionOptions{BufferSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := tg.client.AppendToStream(ctx, streamName("other"), esdb.AppendToStreamOptions{}, events(3, "T")...); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.client.AppendToStream(ctx, prefix, esdb.AppendToStreamOptions{}, events(2, "T")...); err != nil {
		t.Fatal(err)
	}
	// With one slot each, both consumers get one of the two matching events.
	x, y := nextPersistent(t, a), nextPersistent(t, b)
	got := map[uint64]bool{x.Event.OriginalEvent().EventNumber: true, y.Event.OriginalEvent().EventNumber: true}
	if !got[0] || !got[1] || x.Event.OriginalEvent().StreamID != prefix || y.Event.OriginalEvent().StreamID != prefix {
		t.Errorf("round robin delivered %v from %s and %s", got, x.Event.OriginalEvent().StreamID, y.Event.OriginalEvent().StreamID)
	}
	all, err := tg.client.ListPersistentSubscriptionsToAll(ctx, esdb.ListPersistentSubscriptionsOptions{})
	if err != nil || len(all) == 0 || all[0].EventSource != "$all" {
		t.Errorf("list $all groups: %+v %v", all, err)
	}
}

// TestPersistentCheckpointSurvivesRestart: acknowledged events are not
// delivered again after the server restarts on the same data.
func TestPersistentCheckpointSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, esdbserver.Config{DataDir: dir, Insecure: true})
	c := connect(t, srv.URL())
	ctx := ctxT(t)
	if _, err := c.AppendToStream(ctx, "orders", esdb.AppendToStreamOptions{}, events(5, "T")...); err != nil {
		t.Fatal(err)
	}
	settings := esdb.SubscriptionSettingsDefault()
	settings.CheckpointLowerBound, settings.CheckpointUpperBound = 1, 1
	if err := c.CreatePersistentSubscription(ctx, "orders", "billing", esdb.PersistentStreamSubscriptionOptions{StartFrom: esdb.Start{}, Settings: &settings}); err != nil {
		t.Fatal(err)
	}
	sub, err := c.SubscribeToPersistentSubscription(ctx, "orders", "billing", esdb.SubscribeToPersistentSubscriptionOptions{BufferSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		ev := nextPersistent(t, sub)
		if err := sub.Ack(ev.Event); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond) // let the acks arrive
	sub.Close()
	c.Close()
	srv.Close()

	srv2 := startServer(t, esdbserver.Config{DataDir: dir, Insecure: true})
	c2 := connect(t, srv2.URL())
	sub2, err := c2.SubscribeToPersistentSubscription(ctxT(t), "orders", "billing", esdb.SubscribeToPersistentSubscriptionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub2.Close()
	if ev := nextPersistent(t, sub2); ev.Event.OriginalEvent().EventNumber != 3 {
		t.Errorf("after restart the first delivery is %d, want 3", ev.Event.OriginalEvent().EventNumber)
	}
}

// TestPersistentMessageTimeout: an event not acknowledged in time comes
// back with a higher retry count, and is parked after the last retry.
func TestPersistentMessageTimeout(t *testing.T) {
	tg := newTarget(t)
	ctx := ctxT(t)
	s := streamName("timeout")
	if _, err := tg.client.AppendToStream(ctx, s, esdb.AppendToStreamOptions{}, event("T", "{}")); err != nil {
		t.Fatal(err)
	}
	settings := esdb.SubscriptionSettingsDefault()
	settings.MessageTimeout = 300
	settings.MaxRetryCount = 1
	if err := tg.client.CreatePersistentSubscription(ctx, s, "slow", esdb.PersistentStreamSubscriptionOptions{StartFrom: esdb.Start{}, Settings: &settings}); err != nil {
		t.Fatal(err)
	}
	sub, err := tg.client.SubscribeToPersistentSubscription(ctx, s, "slow", esdb.SubscribeToPersistentSubscriptionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	first, again := nextPersistent(t, sub), nextPersistent(t, sub) // no ack: it times out
	if first.RetryCount != 0 || again.RetryCount != 1 || again.Event.OriginalEvent().EventID != first.Event.OriginalEvent().EventID {
		t.Fatalf("retries %d then %d of %v / %v", first.RetryCount, again.RetryCount, first.Event.OriginalEvent().EventID, again.Event.OriginalEvent().EventID)
	}
	for i := 0; ; i++ {
		info, err := tg.client.GetPersistentSubscriptionInfo(ctx, s, "slow", esdb.GetPersistentSubscriptionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if info.Stats.ParkedMessagesCount == 1 {
			break
		}
		if i == 100 {
			t.Fatalf("not parked after the last retry: %d parked", info.Stats.ParkedMessagesCount)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
