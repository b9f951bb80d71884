package esdbserver_test

// Answers established from KurrentDB's source (kurrent-io/KurrentDB
// 44996ed0) in the eighth session: a filter regex that does not compile
// (EventFilter.cs: .NET's Regex constructor throws in the handler), the
// start of a persistent subscription created in the deprecated form or
// with a revision StreamRevision refuses (PersistentSubscriptions.Create.cs
// 58-72, StreamRevision.cs 16-22), and the group name "" (a group like any
// other, except that Read throws: ClientMessage.cs 1132, 1153).

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/persistent"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/craftledger/craftledger/pkg/esdbserver"
)

// badRegex is refused by Go's RE2 and by .NET's Regex alike (an unclosed
// group).
const badRegex = "(x"

func TestFidelityFilterRegex(t *testing.T) {
	p, _ := newProtoStream(t, "regex")
	structured := structuredUUIDs()
	allStart := &streams.ReadReq_Options_All{All: &streams.ReadReq_Options_AllOptions{AllOption: &streams.ReadReq_Options_AllOptions_Start{Start: &shared.Empty{}}}}
	allEnd := &streams.ReadReq_Options_All{All: &streams.ReadReq_Options_AllOptions{AllOption: &streams.ReadReq_Options_AllOptions_End{End: &shared.Empty{}}}}
	count := &streams.ReadReq_Options_Count{Count: 10}
	sub := &streams.ReadReq_Options_Subscription{Subscription: &streams.ReadReq_Options_SubscriptionOptions{}}
	window := &streams.ReadReq_Options_FilterOptions_Max{Max: 32}
	byStream := func(re string, w *streams.ReadReq_Options_FilterOptions_Max) *streams.ReadReq_Options_Filter {
		f := &streams.ReadReq_Options_FilterOptions{Filter: &streams.ReadReq_Options_FilterOptions_StreamIdentifier{
			StreamIdentifier: &streams.ReadReq_Options_FilterOptions_Expression{Regex: re}}, CheckpointIntervalMultiplier: 1}
		if w != nil {
			f.Window = w
		}
		return &streams.ReadReq_Options_Filter{Filter: f}
	}
	byType := &streams.ReadReq_Options_Filter{Filter: &streams.ReadReq_Options_FilterOptions{Filter: &streams.ReadReq_Options_FilterOptions_EventType{
		EventType: &streams.ReadReq_Options_FilterOptions_Expression{Regex: badRegex}}, Window: window, CheckpointIntervalMultiplier: 1}}
	back := streams.ReadReq_Options_Backwards
	for _, c := range []struct {
		name string
		o    *streams.ReadReq_Options
	}{
		{"forwards read", &streams.ReadReq_Options{StreamOption: allStart, CountOption: count, FilterOption: byStream(badRegex, window), UuidOption: structured}},
		{"backwards read", &streams.ReadReq_Options{StreamOption: allEnd, ReadDirection: back, CountOption: count, FilterOption: byStream(badRegex, window), UuidOption: structured}},
		// The enumerator is built (and the regex compiled) even for a read
		// that finds nothing, and before ConvertToWindow.
		{"forwards read from the end", &streams.ReadReq_Options{StreamOption: allEnd, CountOption: count, FilterOption: byStream(badRegex, window), UuidOption: structured}},
		{"read without window", &streams.ReadReq_Options{StreamOption: allStart, CountOption: count, FilterOption: byStream(badRegex, nil), UuidOption: structured}},
		{"subscription by event type", &streams.ReadReq_Options{StreamOption: allEnd, CountOption: sub, FilterOption: byType, UuidOption: structured}},
	} {
		n, md, err := p.readRaw(t, c.o)
		if n != 0 {
			t.Errorf("%s: %d messages before the error", c.name, n)
		}
		wantStatus(t, c.name, err, md, codes.Unknown, handlerThrew, nil)
	}
	// A regex that compiles is served; without window it is ConvertToWindow's.
	if n, _, err := p.readRaw(t, &streams.ReadReq_Options{StreamOption: allStart, CountOption: count, FilterOption: byStream("^regex-", window), UuidOption: structured}); n != 1 || err.Error() != "EOF" {
		t.Errorf("read with a good regex: %d messages, %v; want 1, EOF", n, err)
	}
	n, md, err := p.readRaw(t, &streams.ReadReq_Options{StreamOption: allStart, CountOption: count, FilterOption: byStream("^regex-", nil), UuidOption: structured})
	if n != 0 {
		t.Errorf("good regex without window: %d messages", n)
	}
	wantStatus(t, "good regex without window", err, md, codes.InvalidArgument,
		"'None' is not a valid EventStore.Client.Streams.ReadReq+Types+Options+Types+FilterOptions+WindowOneofCase", nil)

	// The official client's subscription and persistent subscription to $all.
	_, err = p.client.SubscribeToAll(ctxT(t), esdb.SubscribeToAllOptions{From: esdb.End{},
		Filter: &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Regex: badRegex}})
	if errCode(err) != esdb.ErrorCodeUnknown {
		t.Errorf("official SubscribeToAll with a bad regex: %v (code %d), want ErrorCodeUnknown", err, errCode(err))
	}
	err = p.client.CreatePersistentSubscriptionToAll(ctxT(t), "g", esdb.PersistentAllSubscriptionOptions{StartFrom: esdb.Start{},
		Filter: &esdb.SubscriptionFilter{Type: esdb.EventFilterType, Regex: badRegex}})
	if errCode(err) != esdb.ErrorCodeUnknown {
		t.Errorf("official CreatePersistentSubscriptionToAll with a bad regex: %v (code %d), want ErrorCodeUnknown", err, errCode(err))
	}
	raw := persistent.NewPersistentSubscriptionsClient(p.conn)
	_, err = raw.Create(ctxT(t), &persistent.CreateReq{Options: &persistent.CreateReq_Options{GroupName: "g", Settings: psSettings(),
		StreamOption: &persistent.CreateReq_Options_All{All: &persistent.CreateReq_AllOptions{
			AllOption: &persistent.CreateReq_AllOptions_Start{Start: &shared.Empty{}},
			FilterOption: &persistent.CreateReq_AllOptions_Filter{Filter: &persistent.CreateReq_AllOptions_FilterOptions{
				Filter: &persistent.CreateReq_AllOptions_FilterOptions_StreamIdentifier{
					StreamIdentifier: &persistent.CreateReq_AllOptions_FilterOptions_Expression{Regex: badRegex}}}}}}}})
	wantStatus(t, "persistent create with a bad regex", err, nil, codes.Unknown, handlerThrew, nil)
	if _, err := p.client.GetPersistentSubscriptionInfoToAll(ctxT(t), "g", esdb.GetPersistentSubscriptionOptions{}); errCode(err) != esdb.ErrorCodeResourceNotFound {
		t.Errorf("group after the refused creates: %v, want not found", err)
	}
}

func psSettings() *persistent.CreateReq_Settings {
	return &persistent.CreateReq_Settings{ConsumerStrategy: "RoundRobin", MaxRetryCount: 1, ReadBatchSize: 20, HistoryBufferSize: 500,
		MessageTimeout: &persistent.CreateReq_Settings_MessageTimeoutMs{MessageTimeoutMs: 1000}}
}

// TestFidelityPersistentStart: the deprecated Create form starts at
// settings.revision (uint64 max being the end), and a revision above int64
// max other than uint64 max, in either form, is StreamRevision's exception.
func TestFidelityPersistentStart(t *testing.T) {
	p := newProtoTarget(t)
	raw := persistent.NewPersistentSubscriptionsClient(p.conn)
	s := streamName("ps-start")
	if _, err := p.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(3, "T")...); err != nil {
		t.Fatal(err)
	}
	deprecated := func(group string, rev uint64) error {
		st := psSettings()
		st.Revision = rev
		_, err := raw.Create(ctxT(t), &persistent.CreateReq{Options: &persistent.CreateReq_Options{GroupName: group, Settings: st, StreamIdentifier: sid(s)}})
		return err
	}
	err := deprecated("big", math.MaxInt64+1)
	wantStatus(t, "deprecated form above int64 max", err, nil, codes.Unknown, handlerThrew, nil)
	_, err = raw.Create(ctxT(t), &persistent.CreateReq{Options: &persistent.CreateReq_Options{GroupName: "big", Settings: psSettings(),
		StreamOption: &persistent.CreateReq_Options_Stream{Stream: &persistent.CreateReq_StreamOptions{StreamIdentifier: sid(s),
			RevisionOption: &persistent.CreateReq_StreamOptions_Revision{Revision: math.MaxUint64 - 1}}}}})
	wantStatus(t, "stream option above int64 max", err, nil, codes.Unknown, handlerThrew, nil)
	if _, err := p.client.GetPersistentSubscriptionInfo(ctxT(t), s, "big", esdb.GetPersistentSubscriptionOptions{}); errCode(err) != esdb.ErrorCodeResourceNotFound {
		t.Errorf("group after the refused creates: %v, want not found", err)
	}

	if err := deprecated("from1", 1); err != nil {
		t.Fatal(err)
	}
	if err := deprecated("end", math.MaxUint64); err != nil {
		t.Fatal(err)
	}
	info, err := p.client.GetPersistentSubscriptionInfo(ctxT(t), s, "from1", esdb.GetPersistentSubscriptionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := info.Settings.StartFrom.(esdb.StreamRevision); !ok || got.Value != 1 {
		t.Errorf("deprecated form at revision 1: start from %#v, want revision 1", info.Settings.StartFrom)
	}
	info, err = p.client.GetPersistentSubscriptionInfo(ctxT(t), s, "end", esdb.GetPersistentSubscriptionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := info.Settings.StartFrom.(esdb.End); !ok {
		t.Errorf("deprecated form at uint64 max: start from %#v, want the end", info.Settings.StartFrom)
	}
	sub, err := p.client.SubscribeToPersistentSubscription(ctxT(t), s, "from1", esdb.SubscribeToPersistentSubscriptionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for want := uint64(1); want < 3; want++ {
		ev := nextPersistent(t, sub)
		if got := ev.Event.OriginalEvent().EventNumber; got != want {
			t.Fatalf("deprecated form at revision 1: event %d, want %d", got, want)
		}
		if err := sub.Ack(ev.Event); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFidelityEmptyGroupName: KurrentDB creates, updates, describes,
// replays and deletes a group named "" like any other (nothing on the way
// checks the name but for null), while Read throws in
// ClientMessage.ConnectToPersistentSubscriptionTo*'s Ensure.NotNullOrEmpty.
func TestFidelityEmptyGroupName(t *testing.T) {
	p := newProtoTarget(t)
	raw := persistent.NewPersistentSubscriptionsClient(p.conn)
	s := streamName("ps-empty-group")
	if _, err := p.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(1, "T")...); err != nil {
		t.Fatal(err)
	}
	if err := p.client.CreatePersistentSubscription(ctxT(t), s, "", esdb.PersistentStreamSubscriptionOptions{StartFrom: esdb.Start{}}); err != nil {
		t.Fatalf("create group \"\": %v", err)
	}
	err := p.client.CreatePersistentSubscription(ctxT(t), s, "", esdb.PersistentStreamSubscriptionOptions{StartFrom: esdb.Start{}})
	if errCode(err) != esdb.ErrorCodeResourceAlreadyExists {
		t.Errorf("create group \"\" again: %v, want already exists", err)
	}
	if err := p.client.UpdatePersistentSubscription(ctxT(t), s, "", esdb.PersistentStreamSubscriptionOptions{StartFrom: esdb.Start{}}); err != nil {
		t.Errorf("update group \"\": %v", err)
	}
	info, err := p.client.GetPersistentSubscriptionInfo(ctxT(t), s, "", esdb.GetPersistentSubscriptionOptions{})
	if err != nil || info.GroupName != "" || info.EventSource != s {
		t.Errorf("info of group \"\": %+v, %v", info, err)
	}
	if err := p.client.ReplayParkedMessages(ctxT(t), s, "", esdb.ReplayParkedMessagesOptions{}); err != nil {
		t.Errorf("replay parked of group \"\": %v", err)
	}
	_, err = p.client.SubscribeToPersistentSubscription(ctxT(t), s, "", esdb.SubscribeToPersistentSubscriptionOptions{})
	if errCode(err) != esdb.ErrorCodeUnknown {
		t.Errorf("official subscribe to group \"\": %v (code %d), want ErrorCodeUnknown", err, errCode(err))
	}
	rs, err := raw.Read(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.Send(&persistent.ReadReq{Content: &persistent.ReadReq_Options_{Options: &persistent.ReadReq_Options{
		StreamOption: &persistent.ReadReq_Options_StreamIdentifier{StreamIdentifier: sid(s)}, BufferSize: 10,
		UuidOption: &persistent.ReadReq_Options_UUIDOption{Content: &persistent.ReadReq_Options_UUIDOption_Structured{Structured: &shared.Empty{}}}}}}); err != nil {
		t.Fatal(err)
	}
	_, err = rs.Recv()
	wantStatus(t, "read group \"\"", err, rs.Trailer(), codes.Unknown, handlerThrew, nil)
	if err := p.client.DeletePersistentSubscription(ctxT(t), s, "", esdb.DeletePersistentSubscriptionOptions{}); err != nil {
		t.Errorf("delete group \"\": %v", err)
	}
	if _, err := p.client.GetPersistentSubscriptionInfo(ctxT(t), s, "", esdb.GetPersistentSubscriptionOptions{}); errCode(err) != esdb.ErrorCodeResourceNotFound {
		t.Errorf("group \"\" after delete: %v, want not found", err)
	}
}

// TestFidelityWriteAllDenied: with access checks on (a secure server),
// KurrentDB's legacy policy denies writing or deleting the stream "$all"
// to every caller, admins too (LegacyStreamPermissionAssertion.cs 55-60),
// at the handlers' access check: PermissionDenied "Access Denied".
func TestFidelityWriteAllDenied(t *testing.T) {
	srv := startSecureServer(t)
	admin := connectAs(t, srv, "admin:changeit@")
	denied := func(what string, err error) {
		t.Helper()
		checkAccessDenied(t, what, err)
	}
	_, err := admin.AppendToStream(ctxT(t), "$all", esdb.AppendToStreamOptions{}, event("T", "{}"))
	denied("admin append to $all", err)
	_, err = admin.DeleteStream(ctxT(t), "$all", esdb.DeleteStreamOptions{})
	denied("admin delete of $all", err)
	_, err = admin.TombstoneStream(ctxT(t), "$all", esdb.TombstoneStreamOptions{})
	denied("admin tombstone of $all", err)
	// Its metadata stream is the $all ACL, which admins may write.
	if _, err := admin.SetStreamMetadata(ctxT(t), "$all", esdb.AppendToStreamOptions{}, esdb.StreamMetadata{}); err != nil {
		t.Errorf("admin writes $all's metadata: %v", err)
	}
	if got := readAll(t, admin, esdb.ReadAllOptions{}, 100); len(got) == 0 {
		t.Error("admin read of $all returned nothing")
	}
}

// TestFidelityFilterWithoutExpression: ConvertToEventFilter's answer to a
// filter without expression, RpcExceptions.InvalidArgument(filter), prints
// the FilterOptions with Google.Protobuf's diagnostic JSON formatter
// (JsonFormatter.ToDiagnosticString); it comes before the window check.
func TestFidelityFilterWithoutExpression(t *testing.T) {
	p, _ := newProtoStream(t, "no-expr")
	allStart := &streams.ReadReq_Options_All{All: &streams.ReadReq_Options_AllOptions{AllOption: &streams.ReadReq_Options_AllOptions_Start{Start: &shared.Empty{}}}}
	const typ = "' is not a valid EventStore.Client.Streams.ReadReq+Types+Options+Types+FilterOptions"
	for _, c := range []struct {
		f    *streams.ReadReq_Options_FilterOptions
		json string
	}{
		{&streams.ReadReq_Options_FilterOptions{}, `{ }`},
		{&streams.ReadReq_Options_FilterOptions{Window: &streams.ReadReq_Options_FilterOptions_Max{}}, `{ "max": 0 }`},
		{&streams.ReadReq_Options_FilterOptions{Window: &streams.ReadReq_Options_FilterOptions_Max{Max: 7}, CheckpointIntervalMultiplier: 3},
			`{ "max": 7, "checkpointIntervalMultiplier": 3 }`},
		{&streams.ReadReq_Options_FilterOptions{Window: &streams.ReadReq_Options_FilterOptions_Count{Count: &shared.Empty{}}, CheckpointIntervalMultiplier: 4294967295},
			`{ "count": { }, "checkpointIntervalMultiplier": 4294967295 }`},
		{&streams.ReadReq_Options_FilterOptions{CheckpointIntervalMultiplier: 1}, `{ "checkpointIntervalMultiplier": 1 }`},
	} {
		for _, sub := range []bool{false, true} {
			o := &streams.ReadReq_Options{StreamOption: allStart, FilterOption: &streams.ReadReq_Options_Filter{Filter: c.f}, UuidOption: structuredUUIDs(),
				CountOption: &streams.ReadReq_Options_Count{Count: 10}}
			if sub {
				o.CountOption = &streams.ReadReq_Options_Subscription{Subscription: &streams.ReadReq_Options_SubscriptionOptions{}}
			}
			n, md, err := p.readRaw(t, o)
			if n != 0 {
				t.Errorf("%s (subscription %v): %d messages before the error", c.json, sub, n)
			}
			wantStatus(t, c.json, err, md, codes.InvalidArgument, "'"+c.json+typ, nil)
		}
	}
}

// TestFidelityPersistentStreamAll: a stream subscription group on the
// stream "$all" (the official client sends the stream option) is refused by
// KurrentDB's subscription service with a stream-kind reply that the
// handler, expecting the $all kind for that name, answers as an unknown
// message; no group is created.
func TestFidelityPersistentStreamAll(t *testing.T) {
	p := newProtoTarget(t)
	raw := persistent.NewPersistentSubscriptionsClient(p.conn)
	const msg = "Envelope callback expected either CreatePersistentSubscriptionToAllCompleted or NotHandled, received CreatePersistentSubscriptionToStreamCompleted instead"
	err := p.client.CreatePersistentSubscription(ctxT(t), "$all", "g", esdb.PersistentStreamSubscriptionOptions{StartFrom: esdb.Start{}})
	if errCode(err) != esdb.ErrorCodeUnknown || !strings.Contains(err.Error(), msg) {
		t.Errorf("official create on the stream $all: %v, want Unknown %q", err, msg)
	}
	_, err = raw.Create(ctxT(t), &persistent.CreateReq{Options: &persistent.CreateReq_Options{GroupName: "g", Settings: psSettings(),
		StreamOption: &persistent.CreateReq_Options_Stream{Stream: &persistent.CreateReq_StreamOptions{StreamIdentifier: sid("$all"),
			RevisionOption: &persistent.CreateReq_StreamOptions_End{End: &shared.Empty{}}}}}})
	wantStatus(t, "create on the stream $all", err, nil, codes.Unknown, msg, nil)
	_, err = raw.Create(ctxT(t), &persistent.CreateReq{Options: &persistent.CreateReq_Options{GroupName: "g", Settings: psSettings(), StreamIdentifier: sid("$all")}})
	wantStatus(t, "deprecated create on the stream $all", err, nil, codes.Unknown, msg, nil)
	if _, err := p.client.GetPersistentSubscriptionInfoToAll(ctxT(t), "g", esdb.GetPersistentSubscriptionOptions{}); errCode(err) != esdb.ErrorCodeResourceNotFound {
		t.Errorf("$all group after the refused creates: %v, want not found", err)
	}
	// The $all option still creates the group.
	if err := p.client.CreatePersistentSubscriptionToAll(ctxT(t), "g", esdb.PersistentAllSubscriptionOptions{StartFrom: esdb.Start{}}); err != nil {
		t.Errorf("create on $all: %v", err)
	}
	// Update names the same stream-kind reply, even with a $all group "g".
	const updateMsg = "Envelope callback expected either UpdatePersistentSubscriptionToAllCompleted or NotHandled, received UpdatePersistentSubscriptionToStreamCompleted instead"
	err = p.client.UpdatePersistentSubscription(ctxT(t), "$all", "g", esdb.PersistentStreamSubscriptionOptions{StartFrom: esdb.Start{}})
	if errCode(err) != esdb.ErrorCodeUnknown || !strings.Contains(err.Error(), updateMsg) {
		t.Errorf("official update on the stream $all: %v, want Unknown %q", err, updateMsg)
	}
	_, err = raw.Update(ctxT(t), &persistent.UpdateReq{Options: &persistent.UpdateReq_Options{GroupName: "none", Settings: &persistent.UpdateReq_Settings{},
		StreamIdentifier: sid("$all")}})
	wantStatus(t, "deprecated update on the stream $all, no such group", err, nil, codes.Unknown, updateMsg, nil)
	// StreamRevision refuses a start above int64 max other than uint64 max.
	s := streamName("ps-update")
	if err := p.client.CreatePersistentSubscription(ctxT(t), s, "g", esdb.PersistentStreamSubscriptionOptions{StartFrom: esdb.Start{}}); err != nil {
		t.Fatal(err)
	}
	_, err = raw.Update(ctxT(t), &persistent.UpdateReq{Options: &persistent.UpdateReq_Options{GroupName: "g", Settings: &persistent.UpdateReq_Settings{},
		StreamOption: &persistent.UpdateReq_Options_Stream{Stream: &persistent.UpdateReq_StreamOptions{StreamIdentifier: sid(s),
			RevisionOption: &persistent.UpdateReq_StreamOptions_Revision{Revision: math.MaxInt64 + 1}}}}})
	wantStatus(t, "update above int64 max", err, nil, codes.Unknown, handlerThrew, nil)
	_, err = raw.Update(ctxT(t), &persistent.UpdateReq{Options: &persistent.UpdateReq_Options{GroupName: "g", Settings: &persistent.UpdateReq_Settings{Revision: math.MaxUint64 - 1},
		StreamIdentifier: sid(s)}})
	wantStatus(t, "deprecated update above int64 max", err, nil, codes.Unknown, handlerThrew, nil)
	_, err = raw.Update(ctxT(t), &persistent.UpdateReq{Options: &persistent.UpdateReq_Options{GroupName: "g", Settings: &persistent.UpdateReq_Settings{Revision: math.MaxUint64, ReadBatchSize: 20, HistoryBufferSize: 500},
		StreamIdentifier: sid(s)}})
	if err != nil {
		t.Errorf("deprecated update at uint64 max (the end): %v", err)
	}
}

// TestFidelityEmptyStreamDenied: with access checks on, StreamIdentifier's
// string conversion (Transport/Grpc/StreamIdentifier.cs 13-20) hands the
// stream "" to the access check as null, which LegacyStreamPermissionAssertion
// denies (47-51) to every caller, admins too, so Append, Delete, Tombstone
// and Read (a read or a subscription) of "" answer RpcExceptions.AccessDenied
// at the handlers' access check, before their own refusal of the name.
// An insecure server keeps its answers (TestMalformedStreamsHandlerThrew).
func TestFidelityEmptyStreamDenied(t *testing.T) {
	srv := startSecureServer(t)
	for _, user := range []string{"admin", "ops"} {
		c := connectAs(t, srv, user+":changeit@")
		denied := func(what string, err error) {
			t.Helper()
			checkAccessDenied(t, user+" "+what, err)
		}
		_, err := c.AppendToStream(ctxT(t), "", esdb.AppendToStreamOptions{}, event("T", "{}"))
		denied("append to \"\"", err)
		_, err = c.DeleteStream(ctxT(t), "", esdb.DeleteStreamOptions{})
		denied("delete of \"\"", err)
		_, err = c.TombstoneStream(ctxT(t), "", esdb.TombstoneStreamOptions{})
		denied("tombstone of \"\"", err)
		_, err = readStream(t, c, "", esdb.ReadStreamOptions{}, 10)
		denied("read of \"\"", err)
		sub, err := c.SubscribeToStream(ctxT(t), "", esdb.SubscribeToStreamOptions{})
		if err == nil {
			ev := sub.Recv()
			sub.Close()
			if ev.SubscriptionDropped != nil {
				err = ev.SubscriptionDropped.Error
			}
		}
		denied("subscription to \"\"", err)
	}

	// The exact answers (and trailers) through the generated client.
	conn := dialTLS(t, srv)
	raw := streams.NewStreamsClient(conn)
	admin := func() context.Context {
		return metadata.AppendToOutgoingContext(ctxT(t), "authorization", basicAuth("admin", "changeit"))
	}
	appendRaw := func(msgs ...*streams.AppendReq) (metadata.MD, error) {
		var md metadata.MD
		call, err := raw.Append(admin(), grpc.Trailer(&md))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if call.Send(m) != nil {
				break
			}
		}
		_, err = call.CloseAndRecv()
		return md, err
	}
	accessDenied := map[string]string{"exception": "access-denied"}
	md, err := appendRaw(optionsMsg("", anyRev()), proposedMsg(structuredID(1, 2), jsonMD))
	wantStatus(t, "raw append to \"\"", err, md, codes.PermissionDenied, "Access Denied", accessDenied)
	// No stream identifier at all: converting null throws at the access
	// check (Streams.Append.cs 44), before any event is read, so an event
	// without its required metadata is never looked at.
	noID := &streams.AppendReq{Content: &streams.AppendReq_Options_{Options: &streams.AppendReq_Options{
		ExpectedStreamRevision: &streams.AppendReq_Options_Any{Any: &shared.Empty{}}}}}
	md, err = appendRaw(noID, proposedMsg(structuredID(1, 2), nil))
	wantStatus(t, "raw append without stream identifier", err, md, codes.Unknown, handlerThrew, nil)
	md = nil
	_, err = raw.Delete(admin(), &streams.DeleteReq{Options: &streams.DeleteReq_Options{StreamIdentifier: sid(""),
		ExpectedStreamRevision: &streams.DeleteReq_Options_Any{Any: &shared.Empty{}}}}, grpc.Trailer(&md))
	wantStatus(t, "raw delete of \"\"", err, md, codes.PermissionDenied, "Access Denied", accessDenied)
	md = nil
	_, err = raw.Tombstone(admin(), &streams.TombstoneReq{Options: &streams.TombstoneReq_Options{StreamIdentifier: sid(""),
		ExpectedStreamRevision: &streams.TombstoneReq_Options_Any{Any: &shared.Empty{}}}}, grpc.Trailer(&md))
	wantStatus(t, "raw tombstone of \"\"", err, md, codes.PermissionDenied, "Access Denied", accessDenied)
	rs, err := raw.Read(admin(), &streams.ReadReq{Options: &streams.ReadReq_Options{
		StreamOption: &streams.ReadReq_Options_Stream{Stream: &streams.ReadReq_Options_StreamOptions{StreamIdentifier: sid(""),
			RevisionOption: &streams.ReadReq_Options_StreamOptions_Start{Start: &shared.Empty{}}}},
		CountOption: &streams.ReadReq_Options_Count{Count: 10}, FilterOption: &streams.ReadReq_Options_NoFilter{NoFilter: &shared.Empty{}},
		UuidOption: structuredUUIDs()}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = rs.Recv()
	wantStatus(t, "raw read of \"\"", err, rs.Trailer(), codes.PermissionDenied, "Access Denied", accessDenied)

	// A persistent subscription's Read checks ProcessMessages, whose stream
	// read assertion hands the same null to the legacy policy
	// (PersistentSubscriptions.Read.cs 49-57, RequireStreamReadAssertion.cs
	// 25-30). Without access checks KurrentDB goes on to build its
	// enumerator, whose ArgumentNullException.ThrowIfNull(streamName)
	// throws (186): the handler's exception. (The official client cannot
	// send "": it subscribes to $all instead.)
	psRead := func(ctx context.Context, conn *grpc.ClientConn) (metadata.MD, error) {
		rs, err := persistent.NewPersistentSubscriptionsClient(conn).Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := rs.Send(&persistent.ReadReq{Content: &persistent.ReadReq_Options_{Options: &persistent.ReadReq_Options{
			StreamOption: &persistent.ReadReq_Options_StreamIdentifier{StreamIdentifier: sid("")}, GroupName: "g", BufferSize: 10,
			UuidOption: &persistent.ReadReq_Options_UUIDOption{Content: &persistent.ReadReq_Options_UUIDOption_Structured{Structured: &shared.Empty{}}}}}}); err != nil {
			t.Fatal(err)
		}
		_, err = rs.Recv()
		return rs.Trailer(), err
	}
	md, err = psRead(admin(), conn)
	wantStatus(t, "persistent read of \"\"", err, md, codes.PermissionDenied, "Access Denied", accessDenied)
	insecureSrv := startServer(t, esdbserver.Config{Insecure: true})
	insecureConn, err := grpc.NewClient(insecureSrv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { insecureConn.Close() })
	md, err = psRead(ctxT(t), insecureConn)
	wantStatus(t, "insecure persistent read of \"\"", err, md, codes.Unknown, handlerThrew, nil)
}

// droppedWith receives from sub until it is dropped and returns the error
// it was dropped with (the subscription is closed after 10 s without).
func droppedWith(t *testing.T, sub *esdb.PersistentSubscription) error {
	t.Helper()
	timer := time.AfterFunc(10*time.Second, func() { sub.Close() })
	defer timer.Stop()
	for {
		if ev := sub.Recv(); ev.SubscriptionDropped != nil {
			return ev.SubscriptionDropped.Error
		}
	}
}

// TestFidelityPersistentUpdate: KurrentDB's Update replaces the group's
// subscription with a new one built with the update's start
// (PersistentSubscriptionService.cs 456-548): UpdateSubscription (876-921)
// shuts the old one down, which drops its consumers with Unsubscribed
// (PersistentSubscription.cs 374-378, PersistentSubscriptionClient.cs
// 124-127), which Read answers with RpcExceptions.PersistentSubscriptionDropped
// (PersistentSubscriptions.Read.cs 238-239, RpcExceptions.cs 213-221:
// Cancelled "Subscription group G on stream S was dropped."); GetInfo shows
// the new start; the new subscription loads the group's checkpoint
// (PersistentSubscription.cs 125-153, the checkpoint stream of the same
// key) and reads from it, else from the new start. A $all group keeps its
// filter (635). Delete drops the consumers the same way (761).
func TestFidelityPersistentUpdate(t *testing.T) {
	p := newProtoTarget(t)
	c := p.client
	s := streamName("ps-update")
	if _, err := c.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(5, "T")...); err != nil {
		t.Fatal(err)
	}
	settings := esdb.SubscriptionSettingsDefault()
	settings.CheckpointLowerBound, settings.CheckpointUpperBound = 1, 1
	startOf := func(group string) any {
		t.Helper()
		var info *esdb.PersistentSubscriptionInfo
		var err error
		if group == "all" {
			info, err = c.GetPersistentSubscriptionInfoToAll(ctxT(t), "all-"+s, esdb.GetPersistentSubscriptionOptions{})
		} else {
			info, err = c.GetPersistentSubscriptionInfo(ctxT(t), s, group, esdb.GetPersistentSubscriptionOptions{})
		}
		if err != nil {
			t.Fatal(err)
		}
		return info.Settings.StartFrom
	}
	update := func(group string, start esdb.StreamPosition) {
		t.Helper()
		if err := c.UpdatePersistentSubscription(ctxT(t), s, group, esdb.PersistentStreamSubscriptionOptions{StartFrom: start, Settings: &settings}); err != nil {
			t.Fatal(err)
		}
	}
	subscribe := func(group string) *esdb.PersistentSubscription {
		t.Helper()
		sub, err := c.SubscribeToPersistentSubscription(ctxT(t), s, group, esdb.SubscribeToPersistentSubscriptionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sub.Close() })
		return sub
	}
	wantDropped := func(what, group, source string, err error) {
		t.Helper()
		want := "Subscription group " + group + " on stream " + source + " was dropped."
		if st, _ := status.FromError(err); st.Code() != codes.Canceled || st.Message() != want {
			t.Errorf("%s: consumer dropped with %v, want Canceled %q", what, err, want)
		}
	}
	first := func(sub *esdb.PersistentSubscription) uint64 {
		t.Helper()
		return nextPersistent(t, sub).Event.OriginalEvent().EventNumber
	}

	// A group without checkpoint: GetInfo and the next consumer follow the
	// update's start; the connected consumer is dropped.
	if err := c.CreatePersistentSubscription(ctxT(t), s, "fresh", esdb.PersistentStreamSubscriptionOptions{StartFrom: esdb.End{}, Settings: &settings}); err != nil {
		t.Fatal(err)
	}
	idle := subscribe("fresh")
	update("fresh", esdb.StreamRevision{Value: 2})
	if got := startOf("fresh"); got != (esdb.StreamRevision{Value: 2}) {
		t.Errorf("start after update to revision 2: %#v", got)
	}
	wantDropped("update", "fresh", s, droppedWith(t, idle))
	sub := subscribe("fresh")
	if got := first(sub); got != 2 {
		t.Errorf("after update to revision 2 the first event is %d", got)
	}
	update("fresh", esdb.Start{})
	if got := startOf("fresh"); got != (esdb.Start{}) {
		t.Errorf("start after update to the start: %#v", got)
	}
	wantDropped("update of a consuming group", "fresh", s, droppedWith(t, sub))
	if got := first(subscribe("fresh")); got != 0 {
		t.Errorf("after update to the start the first event is %d", got)
	}

	// The exact answer and trailers, through the generated client.
	raw := persistent.NewPersistentSubscriptionsClient(p.conn)
	rs, err := raw.Read(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.Send(&persistent.ReadReq{Content: &persistent.ReadReq_Options_{Options: &persistent.ReadReq_Options{
		StreamOption: &persistent.ReadReq_Options_StreamIdentifier{StreamIdentifier: sid(s)}, GroupName: "fresh", BufferSize: 10,
		UuidOption: &persistent.ReadReq_Options_UUIDOption{Content: &persistent.ReadReq_Options_UUIDOption_Structured{Structured: &shared.Empty{}}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := rs.Recv(); err != nil { // the confirmation
		t.Fatal(err)
	}
	// The official client (v4.2.0) sends Start for End in an update
	// (protobuf_utils.go), so the end goes through the generated client.
	if _, err := raw.Update(ctxT(t), &persistent.UpdateReq{Options: &persistent.UpdateReq_Options{GroupName: "fresh",
		StreamOption: &persistent.UpdateReq_Options_Stream{Stream: &persistent.UpdateReq_StreamOptions{StreamIdentifier: sid(s),
			RevisionOption: &persistent.UpdateReq_StreamOptions_End{End: &shared.Empty{}}}},
		Settings: &persistent.UpdateReq_Settings{MaxRetryCount: 1, MinCheckpointCount: 1, MaxCheckpointCount: 1, LiveBufferSize: 500,
			ReadBatchSize: 20, HistoryBufferSize: 500, MessageTimeout: &persistent.UpdateReq_Settings_MessageTimeoutMs{MessageTimeoutMs: 1000},
			NamedConsumerStrategy: persistent.UpdateReq_RoundRobin}}}); err != nil {
		t.Fatal(err)
	}
	if got := startOf("fresh"); got != (esdb.End{}) {
		t.Errorf("start after update to the end: %#v", got)
	}
	for err == nil {
		_, err = rs.Recv()
	}
	wantStatus(t, "raw consumer of an updated group", err, rs.Trailer(), codes.Canceled, "Subscription group fresh on stream "+s+" was dropped.",
		map[string]string{"exception": "persistent-subscription-dropped", "stream-name": s, "group-name": "fresh"})

	// A checkpointed group goes on from its checkpoint, whatever the new start.
	if err := c.CreatePersistentSubscription(ctxT(t), s, "cp", esdb.PersistentStreamSubscriptionOptions{StartFrom: esdb.Start{}, Settings: &settings}); err != nil {
		t.Fatal(err)
	}
	sub = subscribe("cp")
	for i := 0; i < 3; i++ {
		if err := sub.Ack(nextPersistent(t, sub).Event); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; ; i++ {
		info, err := c.GetPersistentSubscriptionInfo(ctxT(t), s, "cp", esdb.GetPersistentSubscriptionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if r := info.Stats.LastCheckpointedEventRevision; r != nil && *r == 2 {
			break
		}
		if i == 200 {
			t.Fatalf("no checkpoint at revision 2: %v", info.Stats.LastCheckpointedEventRevision)
		}
		time.Sleep(25 * time.Millisecond)
	}
	update("cp", esdb.StreamRevision{Value: 4})
	if got := startOf("cp"); got != (esdb.StreamRevision{Value: 4}) {
		t.Errorf("start of the checkpointed group after update to revision 4: %#v", got)
	}
	wantDropped("update of a checkpointed group", "cp", s, droppedWith(t, sub))
	sub = subscribe("cp")
	if got := first(sub); got != 3 {
		t.Errorf("checkpointed group after update: first event %d, want 3 (the checkpoint)", got)
	}

	// Delete drops its consumers the same way.
	if err := c.DeletePersistentSubscription(ctxT(t), s, "cp", esdb.DeletePersistentSubscriptionOptions{}); err != nil {
		t.Fatal(err)
	}
	wantDropped("delete", "cp", s, droppedWith(t, sub))

	// A $all group: the new start, the filter kept.
	evs, err := readStream(t, c, s, esdb.ReadStreamOptions{}, 10)
	if err != nil || len(evs) != 5 {
		t.Fatalf("read %s: %d events, %v", s, len(evs), err)
	}
	if err := c.CreatePersistentSubscriptionToAll(ctxT(t), "all-"+s, esdb.PersistentAllSubscriptionOptions{StartFrom: esdb.End{},
		Filter: &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{s}}, Settings: &settings}); err != nil {
		t.Fatal(err)
	}
	subAll := func() *esdb.PersistentSubscription {
		sub, err := c.SubscribeToPersistentSubscriptionToAll(ctxT(t), "all-"+s, esdb.SubscribeToPersistentSubscriptionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sub.Close() })
		return sub
	}
	updateAll := func(start esdb.AllPosition) {
		t.Helper()
		if err := c.UpdatePersistentSubscriptionToAll(ctxT(t), "all-"+s, esdb.PersistentAllSubscriptionOptions{StartFrom: start, Settings: &settings}); err != nil {
			t.Fatal(err)
		}
	}
	sub = subAll()
	updateAll(esdb.Start{})
	if got := startOf("all"); got != (esdb.Start{}) {
		t.Errorf("$all start after update to the start: %#v", got)
	}
	wantDropped("$all update", "all-"+s, "$all", droppedWith(t, sub))
	ev := nextPersistent(t, subAll()).Event.OriginalEvent()
	if ev.StreamID != s || ev.EventNumber != 0 {
		t.Errorf("$all group after update to the start: first event %s:%d, want %s:0", ev.StreamID, ev.EventNumber, s)
	}
	pos := evs[3].OriginalEvent().Position
	updateAll(pos)
	if got, ok := startOf("all").(*esdb.Position); !ok || *got != pos {
		t.Errorf("$all start after update to %v: %#v", pos, got)
	}
	ev = nextPersistent(t, subAll()).Event.OriginalEvent()
	if ev.StreamID != s || ev.EventNumber != 3 {
		t.Errorf("$all group after update to %v: first event %s:%d, want %s:3", pos, ev.StreamID, ev.EventNumber, s)
	}
}

// checkAccessDenied fails t unless err is the official client's
// AccessDenied, wrapping the gRPC status PermissionDenied "Access Denied".
func checkAccessDenied(t *testing.T, what string, err error) {
	t.Helper()
	var se interface{ GRPCStatus() *status.Status }
	st := status.New(codes.OK, "")
	if errors.As(err, &se) {
		st = se.GRPCStatus()
	}
	if errCode(err) != esdb.ErrorCodeAccessDenied || st.Code() != codes.PermissionDenied || st.Message() != "Access Denied" {
		t.Errorf("%s: %v (status %v %q), want PermissionDenied \"Access Denied\"", what, err, st.Code(), st.Message())
	}
}
