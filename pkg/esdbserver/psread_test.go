package esdbserver_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/craftledger/craftledger/pkg/esdbserver"
)

// TestPersistentSubscriptionReadErrorDropsConsumers: when the group cannot
// read its source (here a log record that no longer decodes), its consumer
// is dropped with an error naming the cause instead of waiting forever for
// events the group will never deliver. Both a stream group and an $all
// group.
func TestPersistentSubscriptionReadErrorDropsConsumers(t *testing.T) {
	srv := startServer(t, esdbserver.Config{Insecure: true})
	c := connect(t, srv.URL())
	s := streamName("psbroken")
	res, err := c.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, event("T", `{}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := esdbserver.CorruptRecord(srv, res.CommitPosition); err != nil {
		t.Fatal(err)
	}
	if err := c.CreatePersistentSubscription(ctxT(t), s, "g", esdb.PersistentStreamSubscriptionOptions{StartFrom: esdb.Start{}}); err != nil {
		t.Fatal(err)
	}
	if err := c.CreatePersistentSubscriptionToAll(ctxT(t), "g", esdb.PersistentAllSubscriptionOptions{StartFrom: esdb.Start{}}); err != nil {
		t.Fatal(err)
	}
	subscribe := func(how string, open func(ctx context.Context) (*esdb.PersistentSubscription, error)) {
		// The deadline only keeps a broken server from hanging the test;
		// the assertion is on the error the subscription ends with.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ps, err := open(ctx)
		if err != nil {
			t.Fatalf("%s: subscribe: %v", how, err)
		}
		defer ps.Close()
		for {
			e := ps.Recv()
			if e.EventAppeared != nil {
				// The $all group may first hand out the events before it.
				if ev := e.EventAppeared.Event.OriginalEvent(); ev.StreamID == s {
					t.Errorf("%s: got an event from an undecodable record: %s@%d", how, ev.StreamID, ev.EventNumber)
				}
				_ = ps.Ack(e.EventAppeared.Event)
				continue
			}
			if d := e.SubscriptionDropped; d != nil {
				if d.Error == nil || errors.Is(d.Error, context.DeadlineExceeded) || ctx.Err() != nil || !strings.Contains(d.Error.Error(), "cannot read its source") {
					t.Errorf("%s: dropped with %v, want the group's read error", how, d.Error)
				}
				return
			}
		}
	}
	subscribe("stream group", func(ctx context.Context) (*esdb.PersistentSubscription, error) {
		return c.SubscribeToPersistentSubscription(ctx, s, "g", esdb.SubscribeToPersistentSubscriptionOptions{})
	})
	subscribe("$all group", func(ctx context.Context) (*esdb.PersistentSubscription, error) {
		return c.SubscribeToPersistentSubscriptionToAll(ctx, "g", esdb.SubscribeToPersistentSubscriptionOptions{})
	})
}
