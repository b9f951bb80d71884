package esdbserver_test

// A stream subscription to the stream named "$all" on an insecure server,
// established from KurrentDB's source in the tenth session: a Read whose
// stream option names "$all" is a StreamSubscription like any other
// (Streams.Read.cs 168-181); SubscriptionsService files it under the topic
// "$all" (157-182, 213-235) and hands each committed event to the topic of
// its own stream (357-368, 440-470), so it gets the events written to the
// stream "$all" and nothing else; its catch-up reads that stream
// (ReadStreamEventsForward), whose metadata is "$$$all"'s
// (IndexReader.cs 915-951). The mapping of "$$$all" changes to the
// all-subscriptions' topic (478-479) only re-authorizes subscriptions,
// which the passthrough provider always allows.

import (
	"context"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// nextStreamEvent returns a subscription's next event, skipping caught-up
// and checkpoint notices; a drop fails the test.
func nextStreamEvent(t *testing.T, what string, sub *esdb.Subscription) *esdb.RecordedEvent {
	t.Helper()
	timer := time.AfterFunc(15*time.Second, func() { sub.Close() })
	defer timer.Stop()
	for {
		ev := sub.Recv()
		if ev.SubscriptionDropped != nil {
			t.Fatalf("%s: dropped: %v", what, ev.SubscriptionDropped.Error)
		}
		if ev.EventAppeared != nil {
			return ev.EventAppeared.OriginalEvent()
		}
	}
}

// TestFidelityInsecureStreamAllSubscription: on an insecure server a
// stream subscription to "$all" delivers the events of the stream named
// "$all" — catch-up, caught_up, then live — and no event of another
// stream, not even of its metadata stream "$$$all"; "$$$all"'s $maxCount
// limits its catch-up as any stream's metadata does; a tombstone ends it
// with stream-deleted.
func TestFidelityInsecureStreamAllSubscription(t *testing.T) {
	p := newProtoTarget(t)
	c := p.client
	other := streamName("not-all")
	if _, err := c.AppendToStream(ctxT(t), "$all", esdb.AppendToStreamOptions{}, event("A0", "{}"), event("A1", "{}")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AppendToStream(ctxT(t), other, esdb.AppendToStreamOptions{}, event("O0", "{}")); err != nil {
		t.Fatal(err)
	}

	// The exact answer: confirmation, the stream's two events, caught_up.
	ctx, cancel := context.WithCancel(ctxT(t))
	rs, err := p.raw.Read(ctx, &streams.ReadReq{Options: &streams.ReadReq_Options{UuidOption: structuredUUIDs(),
		StreamOption: &streams.ReadReq_Options_Stream{Stream: &streams.ReadReq_Options_StreamOptions{StreamIdentifier: sid("$all"),
			RevisionOption: &streams.ReadReq_Options_StreamOptions_Start{Start: &shared.Empty{}}}},
		CountOption:  &streams.ReadReq_Options_Subscription{Subscription: &streams.ReadReq_Options_SubscriptionOptions{}},
		FilterOption: &streams.ReadReq_Options_NoFilter{NoFilter: &shared.Empty{}}}})
	var got []string
	for err == nil {
		var m *streams.ReadResp
		if m, err = rs.Recv(); err != nil {
			break
		}
		switch x := m.GetContent().(type) {
		case *streams.ReadResp_Confirmation:
			got = append(got, "confirmation")
		case *streams.ReadResp_Event:
			e := x.Event.GetEvent()
			got = append(got, string(e.GetStreamIdentifier().GetStreamName())+"/"+e.GetMetadata()["type"])
		case *streams.ReadResp_CaughtUp_:
			got = append(got, "caught_up")
		default:
			got = append(got, "other")
		}
		if len(got) == 4 {
			break
		}
	}
	cancel()
	if want := []string{"confirmation", "$all/A0", "$all/A1", "caught_up"}; err != nil || len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] || got[3] != want[3] {
		t.Errorf("raw subscription to the stream $all: %v (%v), want %v", got, err, want)
	}

	// Live: only what is written to the stream $all.
	fromStart, err := c.SubscribeToStream(ctxT(t), "$all", esdb.SubscribeToStreamOptions{From: esdb.Start{}})
	if err != nil {
		t.Fatal(err)
	}
	defer fromStart.Close()
	fromEnd, err := c.SubscribeToStream(ctxT(t), "$all", esdb.SubscribeToStreamOptions{From: esdb.End{}})
	if err != nil {
		t.Fatal(err)
	}
	defer fromEnd.Close()
	for i, want := range []string{"A0", "A1"} {
		if e := nextStreamEvent(t, "subscription from the start", fromStart); e.StreamID != "$all" || e.EventType != want || e.EventNumber != uint64(i) {
			t.Errorf("subscription from the start: %s/%s #%d, want $all/%s #%d", e.StreamID, e.EventType, e.EventNumber, want, i)
		}
	}
	if _, err := c.AppendToStream(ctxT(t), other, esdb.AppendToStreamOptions{}, event("O1", "{}")); err != nil {
		t.Fatal(err)
	}
	var meta esdb.StreamMetadata
	meta.SetMaxCount(1)
	if _, err := c.SetStreamMetadata(ctxT(t), "$all", esdb.AppendToStreamOptions{}, meta); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AppendToStream(ctxT(t), "$all", esdb.AppendToStreamOptions{}, event("A2", "{}")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what string
		sub  *esdb.Subscription
	}{{"subscription from the start", fromStart}, {"subscription from the end", fromEnd}} {
		if e := nextStreamEvent(t, tc.what, tc.sub); e.StreamID != "$all" || e.EventType != "A2" || e.EventNumber != 2 {
			t.Errorf("%s: next event %s/%s #%d, want $all/A2 #2 (nothing of %s or $$$all)", tc.what, e.StreamID, e.EventType, e.EventNumber, other)
		}
	}

	// $$$all's $maxCount 1 is the stream $all's: a new subscription from
	// the start catches up from its last event.
	late, err := c.SubscribeToStream(ctxT(t), "$all", esdb.SubscribeToStreamOptions{From: esdb.Start{}})
	if err != nil {
		t.Fatal(err)
	}
	defer late.Close()
	if e := nextStreamEvent(t, "subscription under $maxCount 1", late); e.EventType != "A2" || e.EventNumber != 2 {
		t.Errorf("subscription under $maxCount 1: first event %s #%d, want A2 #2", e.EventType, e.EventNumber)
	}

	// A tombstone is delivered, then the subscription ends stream-deleted.
	if _, err := c.TombstoneStream(ctxT(t), "$all", esdb.TombstoneStreamOptions{}); err != nil {
		t.Fatal(err)
	}
	if e := nextStreamEvent(t, "subscription at the tombstone", fromStart); e.EventType != "$streamDeleted" {
		t.Errorf("subscription at the tombstone: %s, want $streamDeleted", e.EventType)
	}
	timer := time.AfterFunc(15*time.Second, func() { fromStart.Close() })
	defer timer.Stop()
	ev := fromStart.Recv()
	// The v4 client hands a subscription's ending status over unclassified.
	if ev.SubscriptionDropped == nil {
		t.Fatalf("subscription after the tombstone: %+v, want dropped", ev)
	}
	if st, _ := status.FromError(ev.SubscriptionDropped.Error); st.Code() != codes.FailedPrecondition || st.Message() != "Event stream '$all' is deleted." {
		t.Errorf("subscription after the tombstone: dropped with %v, want FailedPrecondition \"Event stream '$all' is deleted.\"", ev.SubscriptionDropped.Error)
	}
}
