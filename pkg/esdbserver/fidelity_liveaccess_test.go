package esdbserver_test

// Live subscriptions re-checked after a metadata change, established from
// KurrentDB's source in the tenth session: SubscriptionsService re-checks
// the live subscriptions to X after an event of "$$X" is committed and
// handed on (SubscriptionsService.cs 357-368, 472-486, 503-546) and drops
// the denied ones with AccessDenied, which the Read handler answers
// PermissionDenied "Access Denied" (Streams.Read.cs 365-366).

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// rawSubscription is a Read with the subscription option, as one user,
// through the generated client.
type rawSubscription struct {
	rs     grpc.ServerStreamingClient[streams.ReadResp]
	cancel context.CancelFunc
}

func subscribeRaw(t *testing.T, raw streams.StreamsClient, user string, o *streams.ReadReq_Options) *rawSubscription {
	t.Helper()
	auth := basicAuth(user, "changeit")
	ctx, cancel := context.WithCancel(metadata.AppendToOutgoingContext(ctxT(t), "authorization", auth))
	t.Cleanup(cancel)
	rs, err := raw.Read(ctx, &streams.ReadReq{Options: o})
	if err != nil {
		t.Fatal(err)
	}
	return &rawSubscription{rs: rs, cancel: cancel}
}

// until receives messages, naming each ("confirmation", "caught_up",
// "STREAM:REVISION", "checkpoint"), until one is named last or the call
// ends; it returns the names and how the call ended (nil while it runs).
func (r *rawSubscription) until(t *testing.T, last string) ([]string, error) {
	t.Helper()
	var got []string
	timer := time.AfterFunc(10*time.Second, r.cancel)
	defer timer.Stop()
	for {
		m, err := r.rs.Recv()
		if err != nil {
			return got, err
		}
		name := "other"
		switch c := m.GetContent().(type) {
		case *streams.ReadResp_Confirmation:
			name = "confirmation"
		case *streams.ReadResp_CaughtUp_:
			name = "caught_up"
		case *streams.ReadResp_Checkpoint_:
			name = "checkpoint"
		case *streams.ReadResp_Event:
			e := c.Event.GetEvent()
			name = string(e.GetStreamIdentifier().GetStreamName()) + ":" + itoa(int(e.GetStreamRevision()))
		}
		got = append(got, name)
		if name == last {
			return got, nil
		}
	}
}

// TestFidelityLiveAccessRecheck: on a secure server a live subscription of
// a user who is not an admin ends with PermissionDenied "Access Denied"
// (trailer exception access-denied) once its stream's metadata takes read
// access away, after every event committed before that metadata event and
// before any committed after it; a metadata change that keeps access, an
// admin's subscription and another stream's subscription go on. The same
// for subscriptions to $all when $$$all changes: they receive the $$$all
// event itself first. The official client reports the drop as
// AccessDenied.
func TestFidelityLiveAccessRecheck(t *testing.T) {
	srv := startSecureServer(t)
	admin := connectAs(t, srv, "admin:changeit@")
	ops := connectAs(t, srv, "ops:changeit@")
	conn := dialTLS(t, srv)
	raw := streams.NewStreamsClient(conn)
	appendOne := func(s string) {
		t.Helper()
		if _, err := admin.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, event("T", "{}")); err != nil {
			t.Fatal(err)
		}
	}
	setACL := func(s string, roles map[string][]string) {
		t.Helper()
		m := allACL(roles)
		m.SetMaxCount(100)
		if _, err := admin.SetStreamMetadata(ctxT(t), s, esdb.AppendToStreamOptions{}, m); err != nil {
			t.Fatal(err)
		}
	}
	streamSub := func(s string) *streams.ReadReq_Options {
		o := dollarDollarOptions(false, streams.ReadReq_Options_Forwards, fromStart())
		o.GetStream().StreamIdentifier = sid(s)
		return o
	}
	denied := map[string]string{"exception": "access-denied"}

	t.Run("stream", func(t *testing.T) {
		x, y := streamName("live-x"), streamName("live-y")
		appendOne(x)
		appendOne(y)
		opsX, adminX, opsY := subscribeRaw(t, raw, "ops", streamSub(x)), subscribeRaw(t, raw, "admin", streamSub(x)), subscribeRaw(t, raw, "ops", streamSub(y))
		for _, sub := range []*rawSubscription{opsX, adminX, opsY} {
			if got, err := sub.until(t, "caught_up"); err != nil || strings.Join(got, " ") != "confirmation "+x+":0 caught_up" && strings.Join(got, " ") != "confirmation "+y+":0 caught_up" {
				t.Fatalf("start: %v, %v", got, err)
			}
		}
		officialX, err := ops.SubscribeToStream(ctxT(t), x, esdb.SubscribeToStreamOptions{From: esdb.Start{}})
		if err != nil {
			t.Fatal(err)
		}
		defer officialX.Close()
		// A change that keeps ops's access drops nothing.
		setACL(x, map[string][]string{"$r": {"ops"}})
		appendOne(x)
		if got, err := opsX.until(t, x+":1"); err != nil {
			t.Fatalf("after a change that keeps access: %v, %v", got, err)
		}
		// Then access is taken away between two appends.
		appendOne(x)
		setACL(x, map[string][]string{"$r": {"$admins"}})
		appendOne(x)
		appendOne(y)
		got, err := opsX.until(t, "never")
		if strings.Join(got, " ") != x+":2" {
			t.Errorf("ops's subscription to x after the change: %v, want only %s:2 before the end", got, x)
		}
		wantStatus(t, "ops's subscription to x", err, opsX.rs.Trailer(), codes.PermissionDenied, "Access Denied", denied)
		if got, err := adminX.until(t, x+":3"); err != nil || strings.Join(got, " ") != x+":1 "+x+":2 "+x+":3" {
			t.Errorf("admin's subscription to x: %v, %v; want it to go on", got, err)
		}
		if got, err := opsY.until(t, y+":1"); err != nil || strings.Join(got, " ") != y+":1" {
			t.Errorf("ops's subscription to y: %v, %v; want it to go on", got, err)
		}
		// The official client: dropped after the events before the change,
		// with the status (the v4 client passes a dropped subscription's
		// status on as it is, without classifying it).
		var evs []uint64
		for {
			ev := officialX.Recv()
			if ev.EventAppeared != nil {
				evs = append(evs, ev.EventAppeared.OriginalEvent().EventNumber)
				continue
			}
			if ev.SubscriptionDropped != nil {
				if st, ok := status.FromError(ev.SubscriptionDropped.Error); !ok || st.Code() != codes.PermissionDenied || st.Message() != "Access Denied" {
					t.Errorf("official subscription to x dropped with %v, want PermissionDenied \"Access Denied\"", ev.SubscriptionDropped.Error)
				}
				break
			}
		}
		if len(evs) != 3 || evs[2] != 2 {
			t.Errorf("official subscription to x: events %v before the drop, want 0, 1, 2", evs)
		}
		// A new subscription is refused at once.
		sub := subscribeRaw(t, raw, "ops", streamSub(x))
		_, err = sub.until(t, "never")
		wantStatus(t, "new subscription to x", err, sub.rs.Trailer(), codes.PermissionDenied, "Access Denied", denied)
	})

	t.Run("$all", func(t *testing.T) {
		z := streamName("live-z")
		setACL("$all", map[string][]string{"$r": {"ops"}})
		allSub := func(filtered bool) *streams.ReadReq_Options {
			o := &streams.ReadReq_Options{UuidOption: structuredUUIDs(), ReadDirection: streams.ReadReq_Options_Forwards,
				StreamOption: &streams.ReadReq_Options_All{All: &streams.ReadReq_Options_AllOptions{AllOption: &streams.ReadReq_Options_AllOptions_End{End: &shared.Empty{}}}},
				CountOption:  &streams.ReadReq_Options_Subscription{Subscription: &streams.ReadReq_Options_SubscriptionOptions{}},
				FilterOption: &streams.ReadReq_Options_NoFilter{NoFilter: &shared.Empty{}}}
			if filtered {
				o.FilterOption = &streams.ReadReq_Options_Filter{Filter: &streams.ReadReq_Options_FilterOptions{
					Filter: &streams.ReadReq_Options_FilterOptions_StreamIdentifier{StreamIdentifier: &streams.ReadReq_Options_FilterOptions_Expression{Prefix: []string{z}}},
					Window: &streams.ReadReq_Options_FilterOptions_Max{Max: 1000}, CheckpointIntervalMultiplier: 1000}}
			}
			return o
		}
		opsAll, opsFiltered, adminAll := subscribeRaw(t, raw, "ops", allSub(false)), subscribeRaw(t, raw, "ops", allSub(true)), subscribeRaw(t, raw, "admin", allSub(false))
		for _, sub := range []*rawSubscription{opsAll, opsFiltered, adminAll} {
			if got, err := sub.until(t, "caught_up"); err != nil {
				t.Fatalf("start: %v, %v", got, err)
			}
		}
		appendOne(z)
		setACL("$all", map[string][]string{"$r": {"$admins"}})
		appendOne(z)
		got, err := opsAll.until(t, "never")
		if strings.Join(got, " ") != z+":0 $$$all:1" {
			t.Errorf("ops's $all subscription: %v, want %s:0 and the $$$all event before the end", got, z)
		}
		wantStatus(t, "ops's $all subscription", err, opsAll.rs.Trailer(), codes.PermissionDenied, "Access Denied", denied)
		got, err = opsFiltered.until(t, "never")
		if strings.Join(got, " ") != z+":0" {
			t.Errorf("ops's filtered $all subscription: %v, want %s:0 before the end", got, z)
		}
		wantStatus(t, "ops's filtered $all subscription", err, opsFiltered.rs.Trailer(), codes.PermissionDenied, "Access Denied", denied)
		if got, err := adminAll.until(t, z+":1"); err != nil || strings.Join(got, " ") != z+":0 $$$all:1 "+z+":1" {
			t.Errorf("admin's $all subscription: %v, %v; want it to go on", got, err)
		}
		sub, err := ops.SubscribeToAll(ctxT(t), esdb.SubscribeToAllOptions{})
		if err == nil {
			ev := sub.Recv()
			sub.Close()
			if ev.SubscriptionDropped != nil {
				err = ev.SubscriptionDropped.Error
			}
		}
		checkAccessDenied(t, "official $all subscription after the change", err)
	})
}
