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

// TestReplayParkedReadErrorKeepsParked: when a parked message's event
// cannot be read, ReplayParked fails instead of skipping it, and the
// parked stream is not truncated past it (it used to be dropped silently).
func TestReplayParkedReadErrorKeepsParked(t *testing.T) {
	srv := startServer(t, esdbserver.Config{Insecure: true})
	c := connect(t, srv.URL())
	s := streamName("psparked")
	parked := "$persistentsubscription-" + s + "::g-parked"
	if err := c.CreatePersistentSubscription(ctxT(t), s, "g", esdb.PersistentStreamSubscriptionOptions{StartFrom: esdb.Start{}}); err != nil {
		t.Fatal(err)
	}
	res, err := c.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, event("T", `{}`))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := c.SubscribeToPersistentSubscription(ctxT(t), s, "g", esdb.SubscribeToPersistentSubscriptionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close() // after the nack has been handled
	for {
		e := ps.Recv()
		if e.SubscriptionDropped != nil {
			t.Fatal(e.SubscriptionDropped.Error)
		}
		if e.EventAppeared != nil {
			if err := ps.Nack("park it", esdb.NackActionPark, e.EventAppeared.Event); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	parkedCount := func() int {
		got, err := readStream(t, c, parked, esdb.ReadStreamOptions{}, 10)
		if errCode(err) == esdb.ErrorCodeResourceNotFound {
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	for i := 0; parkedCount() == 0; i++ { // parking is asynchronous
		if i == 500 {
			t.Fatal("the message was never parked")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := esdbserver.CorruptRecord(srv, res.CommitPosition); err != nil {
		t.Fatal(err)
	}
	if err := c.ReplayParkedMessages(ctxT(t), s, "g", esdb.ReplayParkedMessagesOptions{}); err == nil {
		t.Error("replaying a parked message whose event cannot be read succeeded")
	}
	if n := parkedCount(); n != 1 {
		t.Errorf("after the failed replay the parked stream holds %d messages, want 1", n)
	}
}
