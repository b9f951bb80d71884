package esdbserver_test

// Malformed persistent-subscription requests, answered as KurrentDB's
// PersistentSubscriptions.Create.cs and PersistentSubscriptions.Read.cs do
// (kurrent-io/KurrentDB 44996ed0): the exact code and message over real
// gRPC with the generated client (the official client never sends them).

import (
	"errors"
	"io"
	"math"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/persistent"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

func TestMalformedPersistentCreate(t *testing.T) {
	p := newProtoTarget(t)
	raw := persistent.NewPersistentSubscriptionsClient(p.conn)
	s := streamName("ps-malformed")
	settings := &persistent.CreateReq_Settings{ConsumerStrategy: "RoundRobin", MaxRetryCount: 1, ReadBatchSize: 20, HistoryBufferSize: 500,
		MessageTimeout: &persistent.CreateReq_Settings_MessageTimeoutMs{MessageTimeoutMs: 1000}}
	prefix := &persistent.CreateReq_AllOptions_FilterOptions_Expression{Prefix: []string{"x"}}
	noneNotValid := func(enum string) string {
		return "'None' is not a valid EventStore.Client.PersistentSubscriptions." + enum
	}
	for _, c := range []struct {
		name string
		o    *persistent.CreateReq_Options
		code codes.Code
		msg  string
	}{
		// request.Options.Settings throws before the access check.
		{"no options", nil, codes.Unknown, handlerThrew},
		// settings.ConsumerStrategy throws.
		{"no settings", &persistent.CreateReq_Options{GroupName: "g",
			StreamOption: &persistent.CreateReq_Options_All{All: &persistent.CreateReq_AllOptions{
				AllOption: &persistent.CreateReq_AllOptions_Start{Start: &shared.Empty{}}}}}, codes.Unknown, handlerThrew},
		{"$all without start", &persistent.CreateReq_Options{GroupName: "g", Settings: settings,
			StreamOption: &persistent.CreateReq_Options_All{All: &persistent.CreateReq_AllOptions{}}},
			codes.InvalidArgument, noneNotValid("CreateReq+Types+AllOptions+AllOptionOneofCase")},
		{"$all filter without expression", &persistent.CreateReq_Options{GroupName: "g", Settings: settings,
			StreamOption: &persistent.CreateReq_Options_All{All: &persistent.CreateReq_AllOptions{
				AllOption:    &persistent.CreateReq_AllOptions_Start{Start: &shared.Empty{}},
				FilterOption: &persistent.CreateReq_AllOptions_Filter{Filter: &persistent.CreateReq_AllOptions_FilterOptions{}}}}},
			codes.InvalidArgument, noneNotValid("CreateReq+Types+AllOptions+Types+FilterOptions+FilterOneofCase")},
		{"stream without start", &persistent.CreateReq_Options{GroupName: "g", Settings: settings,
			StreamOption: &persistent.CreateReq_Options_Stream{Stream: &persistent.CreateReq_StreamOptions{StreamIdentifier: sid(s)}}},
			codes.InvalidArgument, noneNotValid("CreateReq+Types+StreamOptions+RevisionOptionOneofCase")},
		// The deprecated form (no stream_option, the stream in
		// stream_identifier) is still served.
		{"deprecated stream form", &persistent.CreateReq_Options{GroupName: "g", Settings: settings, StreamIdentifier: sid(s)}, codes.OK, ""},
		{"$all filter by prefix", &persistent.CreateReq_Options{GroupName: "g", Settings: settings,
			StreamOption: &persistent.CreateReq_Options_All{All: &persistent.CreateReq_AllOptions{
				AllOption: &persistent.CreateReq_AllOptions_Start{Start: &shared.Empty{}},
				FilterOption: &persistent.CreateReq_AllOptions_Filter{Filter: &persistent.CreateReq_AllOptions_FilterOptions{
					Filter: &persistent.CreateReq_AllOptions_FilterOptions_StreamIdentifier{StreamIdentifier: prefix}}}}}}, codes.OK, ""},
	} {
		_, err := raw.Create(ctxT(t), &persistent.CreateReq{Options: c.o})
		if c.code == codes.OK {
			if err != nil {
				t.Errorf("%s: %v, want created", c.name, err)
			}
			continue
		}
		wantStatus(t, c.name, err, nil, c.code, c.msg, nil)
	}
}

func TestMalformedPersistentRead(t *testing.T) {
	p := newProtoTarget(t)
	raw := persistent.NewPersistentSubscriptionsClient(p.conn)
	s := streamName("ps-read-malformed")
	structured := &persistent.ReadReq_Options_UUIDOption{Content: &persistent.ReadReq_Options_UUIDOption_Structured{Structured: &shared.Empty{}}}
	stream := &persistent.ReadReq_Options_StreamIdentifier{StreamIdentifier: sid(s)}
	options := func(o *persistent.ReadReq_Options) *persistent.ReadReq {
		return &persistent.ReadReq{Content: &persistent.ReadReq_Options_{Options: o}}
	}
	for _, c := range []struct {
		name string
		msg  *persistent.ReadReq // nil: the client sends nothing
		code codes.Code
		text string
	}{
		// The handler returns when the request stream ends at once.
		{"no message", nil, codes.OK, ""},
		{"ack first", &persistent.ReadReq{Content: &persistent.ReadReq_Ack_{Ack: &persistent.ReadReq_Ack{}}}, codes.Unknown, handlerThrew},
		{"no stream option", options(&persistent.ReadReq_Options{GroupName: "g", UuidOption: structured}), codes.Unknown, handlerThrew},
		// options.UuidOption.ContentCase throws after the access check,
		// before the group is looked up.
		{"no uuid option", options(&persistent.ReadReq_Options{StreamOption: stream, GroupName: "g"}), codes.Unknown, handlerThrew},
		// A bounded channel of buffer_size (BoundedChannelOptions refuses a
		// capacity below 1) is made before the group is looked up.
		{"buffer size 0", options(&persistent.ReadReq_Options{StreamOption: stream, GroupName: "g", UuidOption: structured}), codes.Unknown, handlerThrew},
		{"negative buffer size", options(&persistent.ReadReq_Options{StreamOption: stream, GroupName: "g", UuidOption: structured, BufferSize: -1}), codes.Unknown, handlerThrew},
		// RpcExceptions.PersistentSubscriptionDoesNotExist: no quotes.
		{"no such group", options(&persistent.ReadReq_Options{StreamOption: stream, GroupName: "g", UuidOption: structured, BufferSize: 1}), codes.NotFound,
			"Subscription group g on stream " + s + " does not exist."},
	} {
		rs, err := raw.Read(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		if c.msg != nil {
			if err := rs.Send(c.msg); err != nil {
				t.Fatal(err)
			}
		}
		if err := rs.CloseSend(); err != nil {
			t.Fatal(err)
		}
		_, err = rs.Recv()
		if c.code == codes.OK {
			if !errors.Is(err, io.EOF) {
				t.Errorf("%s: %v, want the call to end with OK", c.name, err)
			}
			continue
		}
		if c.text == "" {
			if status.Code(err) != c.code {
				t.Errorf("%s: got %v, want %v", c.name, err, c.code)
			}
			continue
		}
		wantStatus(t, c.name, err, nil, c.code, c.text, nil)
	}
}

// TestMalformedPersistentAdmin: Update, Delete, GetInfo, List and
// ReplayParked (PersistentSubscriptions.Update.cs, .Delete.cs, .Info.cs,
// .ReplayParked.cs): options naming no stream, or missing a case the
// handler switches on without a default answer, end in the handler's
// exception; Update's stream option without start is InvalidArgument.
func TestMalformedPersistentAdmin(t *testing.T) {
	p := newProtoTarget(t)
	raw := persistent.NewPersistentSubscriptionsClient(p.conn)
	ctx := ctxT(t)
	s := streamName("ps-admin-malformed")
	settings := &persistent.UpdateReq_Settings{MaxRetryCount: 1}
	for _, c := range []struct {
		name string
		call func() error
		code codes.Code
		msg  string
	}{
		{"update without options", func() error { _, err := raw.Update(ctx, &persistent.UpdateReq{}); return err }, codes.Unknown, handlerThrew},
		{"update of a stream without start", func() error {
			_, err := raw.Update(ctx, &persistent.UpdateReq{Options: &persistent.UpdateReq_Options{GroupName: "g", Settings: settings,
				StreamOption: &persistent.UpdateReq_Options_Stream{Stream: &persistent.UpdateReq_StreamOptions{StreamIdentifier: sid(s)}}}})
			return err
		}, codes.InvalidArgument, "'None' is not a valid EventStore.Client.PersistentSubscriptions.UpdateReq+Types+StreamOptions+RevisionOptionOneofCase"},
		{"update of $all without start", func() error {
			_, err := raw.Update(ctx, &persistent.UpdateReq{Options: &persistent.UpdateReq_Options{GroupName: "g", Settings: settings,
				StreamOption: &persistent.UpdateReq_Options_All{All: &persistent.UpdateReq_AllOptions{}}}})
			return err
		}, codes.Unknown, handlerThrew},
		{"update without settings", func() error {
			_, err := raw.Update(ctx, &persistent.UpdateReq{Options: &persistent.UpdateReq_Options{GroupName: "g",
				StreamOption: &persistent.UpdateReq_Options_All{All: &persistent.UpdateReq_AllOptions{
					AllOption: &persistent.UpdateReq_AllOptions_Start{Start: &shared.Empty{}}}}}})
			return err
		}, codes.Unknown, handlerThrew},
		{"delete naming no stream", func() error {
			_, err := raw.Delete(ctx, &persistent.DeleteReq{Options: &persistent.DeleteReq_Options{GroupName: "g"}})
			return err
		}, codes.Unknown, handlerThrew},
		{"delete without options", func() error { _, err := raw.Delete(ctx, &persistent.DeleteReq{}); return err }, codes.Unknown, handlerThrew},
		{"info naming no stream", func() error {
			_, err := raw.GetInfo(ctx, &persistent.GetInfoReq{Options: &persistent.GetInfoReq_Options{GroupName: "g"}})
			return err
		}, codes.Unknown, handlerThrew},
		{"list without list option", func() error {
			_, err := raw.List(ctx, &persistent.ListReq{Options: &persistent.ListReq_Options{}})
			return err
		}, codes.Unknown, handlerThrew},
		{"list for no stream", func() error {
			_, err := raw.List(ctx, &persistent.ListReq{Options: &persistent.ListReq_Options{
				ListOption: &persistent.ListReq_Options_ListForStream{ListForStream: &persistent.ListReq_StreamOption{}}}})
			return err
		}, codes.Unknown, handlerThrew},
		{"replay naming no stream", func() error {
			_, err := raw.ReplayParked(ctx, &persistent.ReplayParkedReq{Options: &persistent.ReplayParkedReq_Options{GroupName: "g",
				StopAtOption: &persistent.ReplayParkedReq_Options_NoLimit{NoLimit: &shared.Empty{}}}})
			return err
		}, codes.Unknown, handlerThrew},
		{"replay without stop-at option", func() error {
			_, err := raw.ReplayParked(ctx, &persistent.ReplayParkedReq{Options: &persistent.ReplayParkedReq_Options{GroupName: "g",
				StreamOption: &persistent.ReplayParkedReq_Options_StreamIdentifier{StreamIdentifier: sid(s)}}})
			return err
		}, codes.Unknown, handlerThrew},
		// Well-formed requests still reach the group lookup.
		{"list of all", func() error {
			_, err := raw.List(ctx, &persistent.ListReq{Options: &persistent.ListReq_Options{
				ListOption: &persistent.ListReq_Options_ListAllSubscriptions{ListAllSubscriptions: &shared.Empty{}}}})
			return err
		}, codes.OK, ""},
		{"replay of no group", func() error {
			_, err := raw.ReplayParked(ctx, &persistent.ReplayParkedReq{Options: &persistent.ReplayParkedReq_Options{GroupName: "g",
				StreamOption: &persistent.ReplayParkedReq_Options_StreamIdentifier{StreamIdentifier: sid(s)},
				StopAtOption: &persistent.ReplayParkedReq_Options_NoLimit{NoLimit: &shared.Empty{}}}})
			return err
		}, codes.NotFound, ""},
	} {
		err := c.call()
		if c.msg == "" {
			if status.Code(err) != c.code {
				t.Errorf("%s: got %v, want %v", c.name, err, c.code)
			}
			continue
		}
		wantStatus(t, c.name, err, nil, c.code, c.msg, nil)
	}
}

// TestMalformedStreamsHandlerThrew: Read, Delete and Tombstone requests on
// which KurrentDB's Streams.Read.cs / Streams.Delete.cs dereference a
// missing message (or StreamRevision refuses the value, or
// ClientMessage.DeleteStream the empty name): ASP.NET Core's Unknown
// "Exception was thrown by handler.", no trailers, nothing read or deleted.
func TestMalformedStreamsHandlerThrew(t *testing.T) {
	p, s := newProtoStream(t, "malformed")
	structured := structuredUUIDs()
	for _, c := range []struct {
		name string
		o    *streams.ReadReq_Options
	}{
		{"read without options", nil},
		{"read of a stream without identifier", &streams.ReadReq_Options{UuidOption: structured,
			StreamOption: &streams.ReadReq_Options_Stream{Stream: &streams.ReadReq_Options_StreamOptions{
				RevisionOption: &streams.ReadReq_Options_StreamOptions_Start{Start: &shared.Empty{}}}},
			CountOption: &streams.ReadReq_Options_Count{Count: 1}, FilterOption: &streams.ReadReq_Options_NoFilter{NoFilter: &shared.Empty{}}}},
	} {
		n, md, err := p.readRaw(t, c.o)
		if n != 0 {
			t.Errorf("%s: %d messages before the error", c.name, n)
		}
		wantStatus(t, c.name, err, md, codes.Unknown, handlerThrew, nil)
	}
	for _, c := range []struct {
		name string
		o    *streams.DeleteReq_Options
	}{
		{"without options", nil},
		{"without stream identifier", &streams.DeleteReq_Options{ExpectedStreamRevision: &streams.DeleteReq_Options_Any{Any: &shared.Empty{}}}},
		{"of the stream \"\"", &streams.DeleteReq_Options{StreamIdentifier: sid(""), ExpectedStreamRevision: &streams.DeleteReq_Options_Any{Any: &shared.Empty{}}}},
		{"expecting a revision above int64 max", &streams.DeleteReq_Options{StreamIdentifier: sid(s), ExpectedStreamRevision: &streams.DeleteReq_Options_Revision{Revision: math.MaxInt64 + 1}}},
	} {
		var md metadata.MD
		_, err := p.raw.Delete(ctxT(t), &streams.DeleteReq{Options: c.o}, grpc.Trailer(&md))
		wantStatus(t, "delete "+c.name, err, md, codes.Unknown, handlerThrew, nil)
		// The same fields on the wire are a TombstoneReq.
		b, err := proto.Marshal(&streams.DeleteReq{Options: c.o})
		if err != nil {
			t.Fatal(err)
		}
		var treq streams.TombstoneReq
		if err := proto.Unmarshal(b, &treq); err != nil {
			t.Fatal(err)
		}
		md = nil
		_, err = p.raw.Tombstone(ctxT(t), &treq, grpc.Trailer(&md))
		wantStatus(t, "tombstone "+c.name, err, md, codes.Unknown, handlerThrew, nil)
	}
	if evs, err := readStream(t, p.client, s, esdb.ReadStreamOptions{}, 10); err != nil || len(evs) != 1 {
		t.Errorf("stream after refused deletes: %d events, %v; want 1, nil", len(evs), err)
	}
}

// TestPersistentGroupErrorTexts: KurrentDB's RpcExceptions texts for a
// group that exists already, for a listing of a stream that has no group
// (PersistentSubscriptionDoesNotExist with the group "") and for a consumer
// beyond a group's maximum, with their trailers.
func TestPersistentGroupErrorTexts(t *testing.T) {
	p := newProtoTarget(t)
	raw := persistent.NewPersistentSubscriptionsClient(p.conn)
	s, other := streamName("ps-texts"), streamName("ps-none")
	create := &persistent.CreateReq{Options: &persistent.CreateReq_Options{GroupName: "g", StreamIdentifier: sid(s),
		Settings: &persistent.CreateReq_Settings{ConsumerStrategy: "RoundRobin", MaxRetryCount: 1, ReadBatchSize: 20, HistoryBufferSize: 500,
			MessageTimeout: &persistent.CreateReq_Settings_MessageTimeoutMs{MessageTimeoutMs: 1000}}}}
	if _, err := raw.Create(ctxT(t), create); err != nil {
		t.Fatal(err)
	}
	var md metadata.MD
	_, err := raw.Create(ctxT(t), create, grpc.Trailer(&md))
	wantStatus(t, "create again", err, md, codes.AlreadyExists, "Subscription group g on stream "+s+" exists.",
		map[string]string{"exception": "persistent-subscription-exists", "stream-name": s, "group-name": "g"})
	md = nil
	_, err = raw.List(ctxT(t), &persistent.ListReq{Options: &persistent.ListReq_Options{
		ListOption: &persistent.ListReq_Options_ListForStream{ListForStream: &persistent.ListReq_StreamOption{
			StreamOption: &persistent.ListReq_StreamOption_Stream{Stream: sid(other)}}}}}, grpc.Trailer(&md))
	wantStatus(t, "list a stream without groups", err, md, codes.NotFound, "Subscription group  on stream "+other+" does not exist.",
		map[string]string{"exception": "persistent-subscription-does-not-exist", "stream-name": other, "group-name": ""})

	// A second consumer of a group that takes one.
	create.Options.GroupName = "one"
	create.Options.Settings.MaxSubscriberCount = 1
	if _, err := raw.Create(ctxT(t), create); err != nil {
		t.Fatal(err)
	}
	join := func() (persistent.PersistentSubscriptions_ReadClient, error) {
		rs, err := raw.Read(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		err = rs.Send(&persistent.ReadReq{Content: &persistent.ReadReq_Options_{Options: &persistent.ReadReq_Options{
			StreamOption: &persistent.ReadReq_Options_StreamIdentifier{StreamIdentifier: sid(s)}, GroupName: "one", BufferSize: 10,
			UuidOption: &persistent.ReadReq_Options_UUIDOption{Content: &persistent.ReadReq_Options_UUIDOption_Structured{Structured: &shared.Empty{}}}}}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = rs.Recv() // the confirmation, or the refusal
		return rs, err
	}
	if _, err := join(); err != nil {
		t.Fatalf("first consumer: %v", err)
	}
	rs, err := join()
	wantStatus(t, "second consumer", err, rs.Trailer(), codes.FailedPrecondition,
		"Maximum subscriptions reached for subscription group one on stream "+s+".",
		map[string]string{"exception": "maximum-subscribers-reached", "stream-name": s, "group-name": "one"})
}
