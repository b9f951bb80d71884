package esdbserver_test

// The start of a persistent subscription to $all, established from
// KurrentDB's source in the ninth session: the handlers build
// Transport/Common/Position (Position.cs 47-60: its constructor throws for
// a commit position below the prepare position or above int64 max other
// than uint64 max) and ToInt64 (159-161), and PersistentSubscriptionService's
// ValidateStartFrom (PersistentSubscriptionService.cs 209-232) fails a start
// past the last indexed position, or whose prepare position is above its
// commit position, with the Fail result that the handlers answer with
// RpcExceptions.PersistentSubscriptionFailed (RpcExceptions.cs 171-180).

import (
	"math"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/persistent"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
)

const (
	pastLastIndexed    = "Invalid Start From position: commit position must be less than or equal to the last commit position in the transaction file."
	prepareAboveCommit = "Invalid Start From position: prepare position must be less than or equal to the commit position."
)

// lastAllPosition is the commit position of the last event in $all.
func lastAllPosition(t *testing.T, c *esdb.Client) uint64 {
	t.Helper()
	rs, err := c.ReadAll(ctxT(t), esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	ev, err := rs.Recv()
	if err != nil {
		t.Fatal(err)
	}
	return ev.OriginalEvent().Position.Commit
}

func psFailedTrailers(group, reason string) map[string]string {
	return map[string]string{"exception": "persistent-subscription-failed", "stream-name": "$all", "group-name": group, "reason": reason}
}

// TestFidelityPersistentAllStart: Create and Update of a $all group answer
// a start past the last event, or with a commit position of uint64 max
// and a lower prepare position, with Internal "Subscription group G on
// stream $all failed: '<reason>'" and the persistent-subscription-failed
// trailers (Create before it looks for an existing group, Update after);
// a commit position below the prepare position or above int64 max is the
// handler's exception; a start at the last event is served, and GetInfo
// shows the prepare position that was sent.
func TestFidelityPersistentAllStart(t *testing.T) {
	p := newProtoTarget(t)
	c := p.client
	raw := persistent.NewPersistentSubscriptionsClient(p.conn)
	s := streamName("ps-allstart")
	if _, err := c.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(3, "T")...); err != nil {
		t.Fatal(err)
	}
	create := func(group string, commit, prepare uint64) (metadata.MD, error) {
		var md metadata.MD
		_, err := raw.Create(ctxT(t), &persistent.CreateReq{Options: &persistent.CreateReq_Options{GroupName: group, Settings: psSettings(),
			StreamOption: &persistent.CreateReq_Options_All{All: &persistent.CreateReq_AllOptions{
				AllOption:    &persistent.CreateReq_AllOptions_Position{Position: &persistent.CreateReq_Position{CommitPosition: commit, PreparePosition: prepare}},
				FilterOption: &persistent.CreateReq_AllOptions_NoFilter{NoFilter: &shared.Empty{}}}}}}, grpc.Trailer(&md))
		return md, err
	}
	update := func(group string, commit, prepare uint64) (metadata.MD, error) {
		var md metadata.MD
		_, err := raw.Update(ctxT(t), &persistent.UpdateReq{Options: &persistent.UpdateReq_Options{GroupName: group, Settings: &persistent.UpdateReq_Settings{MaxRetryCount: 1, ReadBatchSize: 20, HistoryBufferSize: 500},
			StreamOption: &persistent.UpdateReq_Options_All{All: &persistent.UpdateReq_AllOptions{
				AllOption: &persistent.UpdateReq_AllOptions_Position{Position: &persistent.UpdateReq_Position{CommitPosition: commit, PreparePosition: prepare}}}}}}, grpc.Trailer(&md))
		return md, err
	}
	startOf := func(group string) any {
		t.Helper()
		info, err := c.GetPersistentSubscriptionInfoToAll(ctxT(t), group, esdb.GetPersistentSubscriptionOptions{})
		if err != nil {
			t.Fatalf("info of %s: %v", group, err)
		}
		if p, ok := info.Settings.StartFrom.(*esdb.Position); ok {
			return *p
		}
		return info.Settings.StartFrom
	}
	absent := func(what, group string) {
		t.Helper()
		if _, err := c.GetPersistentSubscriptionInfoToAll(ctxT(t), group, esdb.GetPersistentSubscriptionOptions{}); errCode(err) != esdb.ErrorCodeResourceNotFound {
			t.Errorf("%s: group %s: %v, want not found", what, group, err)
		}
	}
	failed := func(group, reason string) string {
		return "Subscription group " + group + " on stream $all failed: '" + reason + "'"
	}

	last := lastAllPosition(t, c)

	// Create: past the last event, and uint64 max over a lower prepare
	// position (ToInt64 makes the commit position -1).
	md, err := create("past", last+1, last+1)
	wantStatus(t, "create past the last event", err, md, codes.Internal, failed("past", pastLastIndexed), psFailedTrailers("past", pastLastIndexed))
	absent("create past the last event", "past")
	md, err = create("maxc", math.MaxUint64, 0)
	wantStatus(t, "create at commit uint64 max, prepare 0", err, md, codes.Internal, failed("maxc", prepareAboveCommit), psFailedTrailers("maxc", prepareAboveCommit))
	absent("create at commit uint64 max", "maxc")
	// Position's constructor throws in the handler.
	for _, pos := range [][2]uint64{{1, 2}, {math.MaxInt64 + 1, 0}, {math.MaxUint64 - 1, math.MaxUint64 - 1}} {
		md, err = create("bad", pos[0], pos[1])
		wantStatus(t, "create at a position Position refuses", err, md, codes.Unknown, handlerThrew, nil)
	}
	absent("create at positions Position refuses", "bad")

	// At the last event: served, and it is the first event delivered;
	// GetInfo shows the prepare position as sent.
	if _, err := create("atlast", last, last); err != nil {
		t.Fatalf("create at the last event: %v", err)
	}
	sub, err := c.SubscribeToPersistentSubscriptionToAll(ctxT(t), "atlast", esdb.SubscribeToPersistentSubscriptionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := nextPersistent(t, sub).Event.OriginalEvent(); got.Position.Commit != last || got.StreamID != s {
		t.Errorf("group at the last event delivers %s at %d first, want %s at %d", got.StreamID, got.Position.Commit, s, last)
	}
	sub.Close()
	if _, err := create("prep", last, last-1); err != nil {
		t.Fatalf("create at C:%d/P:%d: %v", last, last-1, err)
	}
	if got, want := startOf("prep"), (esdb.Position{Commit: last, Prepare: last - 1}); got != want {
		t.Errorf("start of a group created at C:%d/P:%d: %#v", last, last-1, got)
	}
	if _, err := create("end", math.MaxUint64, math.MaxUint64); err != nil {
		t.Fatalf("create at uint64 max, uint64 max (the end): %v", err)
	}
	if _, ok := startOf("end").(esdb.End); !ok {
		t.Errorf("start of a group created at uint64 max: %#v, want the end", startOf("end"))
	}
	// Create checks the start before the group's existence.
	md, err = create("end", last+1, last+1)
	wantStatus(t, "create of an existing group past the last event", err, md, codes.Internal, failed("end", pastLastIndexed), psFailedTrailers("end", pastLastIndexed))

	// An empty append takes a position but writes no record KurrentDB
	// indexes (ImplicitTransaction.cs 19-20): a start there is still past
	// the last indexed position.
	head := lastAllPosition(t, c) // the consumer above may have checkpointed
	wr, err := c.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if wr.CommitPosition <= head {
		t.Fatalf("empty append at %d, not after the last event at %d", wr.CommitPosition, head)
	}
	md, err = create("empty", wr.CommitPosition, wr.CommitPosition)
	wantStatus(t, "create at an empty append's position", err, md, codes.Internal, failed("empty", pastLastIndexed), psFailedTrailers("empty", pastLastIndexed))
	absent("create at an empty append's position", "empty")

	// Update: the existence first, then the start; the group keeps its
	// start when refused.
	md, err = update("none", head+1, head+1)
	wantStatus(t, "update of no group past the last event", err, md, codes.NotFound, "Subscription group none on stream $all does not exist.",
		map[string]string{"exception": "persistent-subscription-does-not-exist", "stream-name": "$all"})
	md, err = update("none", 2, 3)
	wantStatus(t, "update of no group at a position Position refuses", err, md, codes.Unknown, handlerThrew, nil)
	md, err = update("prep", head+1, head+1)
	wantStatus(t, "update past the last event", err, md, codes.Internal, failed("prep", pastLastIndexed), psFailedTrailers("prep", pastLastIndexed))
	md, err = update("prep", math.MaxUint64, 5)
	wantStatus(t, "update at commit uint64 max, prepare 5", err, md, codes.Internal, failed("prep", prepareAboveCommit), psFailedTrailers("prep", prepareAboveCommit))
	md, err = update("prep", 1, 2)
	wantStatus(t, "update at a position Position refuses", err, md, codes.Unknown, handlerThrew, nil)
	if got, want := startOf("prep"), (esdb.Position{Commit: last, Prepare: last - 1}); got != want {
		t.Errorf("start after refused updates: %#v, want %#v", got, want)
	}
	if _, err := update("prep", head, head); err != nil {
		t.Errorf("update to the last event: %v", err)
	}
	if got, want := startOf("prep"), (esdb.Position{Commit: head, Prepare: head}); got != want {
		t.Errorf("start after update to the last event: %#v, want %#v", got, want)
	}

	// The official client sends the same requests.
	far := esdb.Position{Commit: head + 1000, Prepare: head + 1000}
	err = c.CreatePersistentSubscriptionToAll(ctxT(t), "official", esdb.PersistentAllSubscriptionOptions{StartFrom: far})
	if err == nil {
		t.Error("official create past the last event: no error")
	}
	absent("official create past the last event", "official")
	settings := esdb.SubscriptionSettingsDefault() // the v4 client's Update needs them
	err = c.UpdatePersistentSubscriptionToAll(ctxT(t), "prep", esdb.PersistentAllSubscriptionOptions{StartFrom: far, Settings: &settings})
	if err == nil {
		t.Error("official update past the last event: no error")
	}
	if got, want := startOf("prep"), (esdb.Position{Commit: head, Prepare: head}); got != want {
		t.Errorf("start after the refused official update: %#v, want %#v", got, want)
	}
}
