package esdbserver_test

import (
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// TestLinkResolutionHonoursTargetACL: in secure mode a caller who may read
// a stream but not the stream its link points at gets the link unresolved
// (the link without the target's event), through reads, catch-up
// subscriptions and persistent subscriptions; an admin gets the target.
// Before the fix, ops read `$users` through "0@$users" in its own stream.
func TestLinkResolutionHonoursTargetACL(t *testing.T) {
	srv := startSecureServer(t)
	admin, ops := connectAs(t, srv, "admin:changeit@"), connectAs(t, srv, "ops:changeit@")
	s := streamName("linkacl")
	link := esdb.EventData{EventType: "$>", ContentType: esdb.ContentTypeBinary, Data: []byte("0@$users")}
	if _, err := ops.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, link); err != nil {
		t.Fatalf("ops appends a link to its own stream: %v", err)
	}
	check := func(how string, ev *esdb.ResolvedEvent, wantTarget bool) {
		t.Helper()
		if ev.Link == nil || string(ev.Link.Data) != "0@$users" {
			t.Errorf("%s: link %+v, want the link 0@$users", how, ev.Link)
		}
		switch {
		case wantTarget && (ev.Event == nil || ev.Event.StreamID != "$users"):
			t.Errorf("%s: event %+v, want $users@0", how, ev.Event)
		case !wantTarget && ev.Event != nil:
			t.Errorf("%s: the link was resolved to %s@%d for a caller who may not read it", how, ev.Event.StreamID, ev.Event.EventNumber)
		}
	}

	for _, c := range []struct {
		who    string
		client *esdb.Client
		target bool
	}{{"ops", ops, false}, {"admin", admin, true}} {
		got, err := readStream(t, c.client, s, esdb.ReadStreamOptions{ResolveLinkTos: true}, 10)
		if err != nil || len(got) != 1 {
			t.Fatalf("%s read with ResolveLinkTos: %d events, %v", c.who, len(got), err)
		}
		check(c.who+" read", got[0], c.target)

		sub, err := c.client.SubscribeToStream(ctxT(t), s, esdb.SubscribeToStreamOptions{From: esdb.Start{}, ResolveLinkTos: true})
		if err != nil {
			t.Fatalf("%s subscribe: %v", c.who, err)
		}
		for {
			e := sub.Recv()
			if e.SubscriptionDropped != nil {
				t.Fatalf("%s subscription dropped: %v", c.who, e.SubscriptionDropped.Error)
			}
			if e.EventAppeared != nil {
				check(c.who+" subscription", e.EventAppeared, c.target)
				break
			}
		}
		sub.Close()
	}

	settings := esdb.SubscriptionSettingsDefault()
	settings.ResolveLinkTos = true
	if err := ops.CreatePersistentSubscription(ctxT(t), s, "g", esdb.PersistentStreamSubscriptionOptions{Settings: &settings, StartFrom: esdb.Start{}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		who    string
		client *esdb.Client
		target bool
	}{{"ops", ops, false}, {"admin", admin, true}} {
		ps, err := c.client.SubscribeToPersistentSubscription(ctxT(t), s, "g", esdb.SubscribeToPersistentSubscriptionOptions{})
		if err != nil {
			t.Fatalf("%s persistent subscription: %v", c.who, err)
		}
		for {
			e := ps.Recv()
			if e.SubscriptionDropped != nil {
				t.Fatalf("%s persistent subscription dropped: %v", c.who, e.SubscriptionDropped.Error)
			}
			if e.EventAppeared != nil {
				check(c.who+" persistent subscription", e.EventAppeared.Event, c.target)
				// Leave it unacknowledged: closing hands it to the next consumer.
				break
			}
		}
		ps.Close()
	}
}
