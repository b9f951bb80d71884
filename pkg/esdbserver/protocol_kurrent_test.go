package esdbserver_test

// Answers checked against KurrentDB's server source (Streams.Append.cs,
// Streams.Delete.cs, Streams.Read.cs, RpcExceptions.cs, StreamRevision.cs,
// ClientMessage.cs, Event.cs): the exact status code, message and
// trailers, over real gRPC on loopback. The official client is used where
// it can send the request; the generated client where it cannot.

import (
	"errors"
	"math"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/craftledger/craftledger/pkg/esdbserver"
)

const handlerThrew = "Exception was thrown by handler."

// protoTarget is an embedded server with the official and the generated
// client.
type protoTarget struct {
	client *esdb.Client
	raw    streams.StreamsClient
	conn   *grpc.ClientConn // for the other services' generated clients
}

// newProtoStream is newProtoTarget with a stream of one event (named from
// prefix) to read.
func newProtoStream(t *testing.T, prefix string) (*protoTarget, string) {
	t.Helper()
	p := newProtoTarget(t)
	s := streamName(prefix)
	if _, err := p.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(1, "T")...); err != nil {
		t.Fatal(err)
	}
	return p, s
}

// readRaw sends a Read with options o and counts the messages that come
// back before the call ends; it returns that count, the call's trailers
// and its ending error (io.EOF when it ended OK).
func (p *protoTarget) readRaw(t *testing.T, o *streams.ReadReq_Options) (int, metadata.MD, error) {
	t.Helper()
	var md metadata.MD
	rs, err := p.raw.Read(ctxT(t), &streams.ReadReq{Options: o}, grpc.Trailer(&md))
	n := 0
	for err == nil {
		if _, err = rs.Recv(); err == nil {
			n++
		}
	}
	return n, md, err
}

// structuredUUIDs is a Read's uuid_option asking for structured ids.
func structuredUUIDs() *streams.ReadReq_Options_UUIDOption {
	return &streams.ReadReq_Options_UUIDOption{Content: &streams.ReadReq_Options_UUIDOption_Structured{Structured: &shared.Empty{}}}
}

func newProtoTarget(t *testing.T) *protoTarget {
	t.Helper()
	srv := startServer(t, esdbserver.Config{Insecure: true})
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &protoTarget{client: connect(t, srv.URL()), raw: streams.NewStreamsClient(conn), conn: conn}
}

// wantStatus checks an error's code, message and trailers (exactly: every
// key of want and no other).
func wantStatus(t *testing.T, what string, err error, md metadata.MD, code codes.Code, msg string, want map[string]string) {
	t.Helper()
	st, _ := status.FromError(err)
	if err == nil || st.Code() != code || st.Message() != msg {
		t.Errorf("%s: got %v, want %v %q", what, err, code, msg)
	}
	for k, v := range want {
		if got := md.Get(k); len(got) != 1 || got[0] != v {
			t.Errorf("%s: trailer %s = %q, want %q", what, k, got, v)
		}
	}
	for _, k := range []string{"exception", "stream-name", "expected-version", "actual-version", "required-metadata-properties"} {
		if _, ok := want[k]; !ok && len(md.Get(k)) > 0 {
			t.Errorf("%s: unexpected trailer %s = %q", what, k, md.Get(k))
		}
	}
}

func sid(s string) *shared.StreamIdentifier { return &shared.StreamIdentifier{StreamName: []byte(s)} }

func structuredID(msb, lsb int64) *shared.UUID {
	return &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{MostSignificantBits: msb, LeastSignificantBits: lsb}}}
}

// expSet sets an append's expected revision; nil leaves it unset.
type expSet func(*streams.AppendReq_Options)

func optionsMsg(stream string, exp expSet) *streams.AppendReq {
	o := &streams.AppendReq_Options{StreamIdentifier: sid(stream)}
	if exp != nil {
		exp(o)
	}
	return &streams.AppendReq{Content: &streams.AppendReq_Options_{Options: o}}
}

func proposedMsg(id *shared.UUID, md map[string]string) *streams.AppendReq {
	return &streams.AppendReq{Content: &streams.AppendReq_ProposedMessage_{ProposedMessage: &streams.AppendReq_ProposedMessage{
		Id: id, Metadata: md, Data: []byte(`{}`)}}}
}

var jsonMD = map[string]string{"type": "T", "content-type": "application/json"}

func anyRev() expSet {
	return func(o *streams.AppendReq_Options) {
		o.ExpectedStreamRevision = &streams.AppendReq_Options_Any{Any: &shared.Empty{}}
	}
}

func revision(r uint64) expSet {
	return func(o *streams.AppendReq_Options) {
		o.ExpectedStreamRevision = &streams.AppendReq_Options_Revision{Revision: r}
	}
}

// rawAppend sends msgs on one Append call and returns the answer.
func (p *protoTarget) rawAppend(t *testing.T, msgs ...*streams.AppendReq) (*streams.AppendResp, metadata.MD, error) {
	t.Helper()
	var md metadata.MD
	call, err := p.raw.Append(ctxT(t), grpc.Trailer(&md))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if err := call.Send(m); err != nil {
			break // the server answered early; CloseAndRecv has the status
		}
	}
	resp, err := call.CloseAndRecv()
	return resp, md, err
}

// TestProtocolDeleteWrongExpectedVersion: KurrentDB's Delete and Tombstone
// answer a wrong expected version with FailedPrecondition and the text of
// RpcExceptions.WrongExpectedVersion("Delete", …) — "Delete" for both
// (Streams.Delete.cs DeleteInternal) — with the four trailers; the official
// client's error carries that status.
func TestProtocolDeleteWrongExpectedVersion(t *testing.T) {
	p := newProtoTarget(t)
	s := streamName("del-wev")
	if _, err := p.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(2, "T")...); err != nil {
		t.Fatal(err)
	}
	want := "Delete failed due to WrongExpectedVersion. Stream: " + s + ", Expected version: 5, Actual version: 1"
	officialStatus := func(what string, err error) {
		t.Helper()
		var e *esdb.Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: %v is not an esdb.Error", what, err)
		}
		if st, _ := status.FromError(e.Err()); st.Code() != codes.FailedPrecondition || st.Message() != want {
			t.Errorf("%s: status %v, want FailedPrecondition %q", what, e.Err(), want)
		}
	}
	_, err := p.client.DeleteStream(ctxT(t), s, esdb.DeleteStreamOptions{ExpectedRevision: esdb.Revision(5)})
	officialStatus("official delete", err)
	_, err = p.client.TombstoneStream(ctxT(t), s, esdb.TombstoneStreamOptions{ExpectedRevision: esdb.Revision(5)})
	officialStatus("official tombstone", err)

	trailers := map[string]string{"exception": "wrong-expected-version", "stream-name": s, "expected-version": "5", "actual-version": "1"}
	var md metadata.MD
	_, err = p.raw.Delete(ctxT(t), &streams.DeleteReq{Options: &streams.DeleteReq_Options{StreamIdentifier: sid(s),
		ExpectedStreamRevision: &streams.DeleteReq_Options_Revision{Revision: 5}}}, grpc.Trailer(&md))
	wantStatus(t, "delete at 5", err, md, codes.FailedPrecondition, want, trailers)
	md = nil
	_, err = p.raw.Tombstone(ctxT(t), &streams.TombstoneReq{Options: &streams.TombstoneReq_Options{StreamIdentifier: sid(s),
		ExpectedStreamRevision: &streams.TombstoneReq_Options_Revision{Revision: 5}}}, grpc.Trailer(&md))
	wantStatus(t, "tombstone at 5", err, md, codes.FailedPrecondition, want, trailers)

	// Soft delete of a stream never written: wrong expected version even
	// for any (-2), actual -1.
	never := streamName("del-never")
	md = nil
	_, err = p.raw.Delete(ctxT(t), &streams.DeleteReq{Options: &streams.DeleteReq_Options{StreamIdentifier: sid(never),
		ExpectedStreamRevision: &streams.DeleteReq_Options_Any{Any: &shared.Empty{}}}}, grpc.Trailer(&md))
	wantStatus(t, "delete of a never-written stream", err, md, codes.FailedPrecondition,
		"Delete failed due to WrongExpectedVersion. Stream: "+never+", Expected version: -2, Actual version: -1",
		map[string]string{"exception": "wrong-expected-version", "stream-name": never, "expected-version": "-2", "actual-version": "-1"})

	// uint64 max is StreamRevision.End: no stream (-1).
	md = nil
	_, err = p.raw.Delete(ctxT(t), &streams.DeleteReq{Options: &streams.DeleteReq_Options{StreamIdentifier: sid(s),
		ExpectedStreamRevision: &streams.DeleteReq_Options_Revision{Revision: math.MaxUint64}}}, grpc.Trailer(&md))
	wantStatus(t, "delete at uint64 max", err, md, codes.FailedPrecondition,
		"Delete failed due to WrongExpectedVersion. Stream: "+s+", Expected version: -1, Actual version: 1",
		map[string]string{"exception": "wrong-expected-version", "stream-name": s, "expected-version": "-1", "actual-version": "1"})
	fresh := streamName("tomb-fresh")
	if _, err := p.raw.Tombstone(ctxT(t), &streams.TombstoneReq{Options: &streams.TombstoneReq_Options{StreamIdentifier: sid(fresh),
		ExpectedStreamRevision: &streams.TombstoneReq_Options_Revision{Revision: math.MaxUint64}}}); err != nil {
		t.Errorf("tombstone of a new stream at uint64 max (no stream): %v", err)
	}
}

// TestProtocolDeleteMissingExpectation: an unset expected revision is
// RpcExceptions.InvalidArgument(ExpectedStreamRevisionCase) — not "any" —
// and nothing is deleted.
func TestProtocolDeleteMissingExpectation(t *testing.T) {
	p := newProtoTarget(t)
	s := streamName("del-none")
	if _, err := p.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(1, "T")...); err != nil {
		t.Fatal(err)
	}
	var md metadata.MD
	_, err := p.raw.Delete(ctxT(t), &streams.DeleteReq{Options: &streams.DeleteReq_Options{StreamIdentifier: sid(s)}}, grpc.Trailer(&md))
	wantStatus(t, "delete", err, md, codes.InvalidArgument,
		"'None' is not a valid EventStore.Client.Streams.DeleteReq+Types+Options+ExpectedStreamRevisionOneofCase", nil)
	md = nil
	_, err = p.raw.Tombstone(ctxT(t), &streams.TombstoneReq{Options: &streams.TombstoneReq_Options{StreamIdentifier: sid(s)}}, grpc.Trailer(&md))
	wantStatus(t, "tombstone", err, md, codes.InvalidArgument,
		"'None' is not a valid EventStore.Client.Streams.TombstoneReq+Types+Options+ExpectedStreamRevisionOneofCase", nil)
	if evs, err := readStream(t, p.client, s, esdb.ReadStreamOptions{}, 10); err != nil || len(evs) != 1 {
		t.Errorf("stream after refused deletes: %d events, %v; want 1, nil", len(evs), err)
	}
}

// TestProtocolAppendMalformed: what Streams.Append.cs throws. Anything but
// an RpcException becomes ASP.NET Core's Unknown "Exception was thrown by
// handler." with no trailers; the checks run in KurrentDB's order, and a
// refused append writes nothing.
func TestProtocolAppendMalformed(t *testing.T) {
	p := newProtoTarget(t)
	good := func() *streams.AppendReq { return proposedMsg(structuredID(1, 2), jsonMD) }
	noneText := "'None' is not a valid EventStore.Client.Streams.AppendReq+Types+Options+ExpectedStreamRevisionOneofCase"
	missingType := map[string]string{"exception": "missing-required-metadata-property", "required-metadata-properties": "type,content-type"}
	for _, c := range []struct {
		name     string
		stream   string // "" with named=false: no stream check afterwards
		named    bool
		msgs     func(s string) []*streams.AppendReq
		code     codes.Code
		msg      string
		trailers map[string]string
	}{
		{"no message", "", false, func(string) []*streams.AppendReq { return nil }, codes.Unknown, handlerThrew, nil},
		{"first message not options", "", false, func(string) []*streams.AppendReq { return []*streams.AppendReq{good()} }, codes.Unknown, handlerThrew, nil},
		{"options twice", "twice", true, func(s string) []*streams.AppendReq {
			return []*streams.AppendReq{optionsMsg(s, anyRev()), optionsMsg(s, anyRev())}
		}, codes.Unknown, handlerThrew, nil},
		{"no expected revision", "noexp", true, func(s string) []*streams.AppendReq {
			return []*streams.AppendReq{optionsMsg(s, nil), good()}
		}, codes.InvalidArgument, noneText, nil},
		{"revision above int64 max", "rev63", true, func(s string) []*streams.AppendReq {
			return []*streams.AppendReq{optionsMsg(s, revision(1<<63)), good()}
		}, codes.Unknown, handlerThrew, nil},
		{"no event id", "noid", true, func(s string) []*streams.AppendReq {
			return []*streams.AppendReq{optionsMsg(s, anyRev()), proposedMsg(nil, jsonMD)}
		}, codes.Unknown, handlerThrew, nil},
		{"event id of neither form", "emptyid", true, func(s string) []*streams.AppendReq {
			return []*streams.AppendReq{optionsMsg(s, anyRev()), proposedMsg(&shared.UUID{}, jsonMD)}
		}, codes.Unknown, handlerThrew, nil},
		{"zero structured id", "zeroid", true, func(s string) []*streams.AppendReq {
			return []*streams.AppendReq{optionsMsg(s, anyRev()), good(), proposedMsg(structuredID(0, 0), jsonMD)}
		}, codes.Unknown, handlerThrew, nil},
		{"zero string id", "zerostr", true, func(s string) []*streams.AppendReq {
			return []*streams.AppendReq{optionsMsg(s, anyRev()), proposedMsg(&shared.UUID{Value: &shared.UUID_String_{String_: "00000000-0000-0000-0000-000000000000"}}, jsonMD)}
		}, codes.Unknown, handlerThrew, nil},
		{"empty type", "emptytype", true, func(s string) []*streams.AppendReq {
			return []*streams.AppendReq{optionsMsg(s, anyRev()), proposedMsg(structuredID(1, 3), map[string]string{"type": "", "content-type": "application/json"})}
		}, codes.Unknown, handlerThrew, nil},
		{"missing type is checked before the id", "typefirst", true, func(s string) []*streams.AppendReq {
			return []*streams.AppendReq{optionsMsg(s, anyRev()), proposedMsg(nil, map[string]string{"content-type": "application/json"})}
		}, codes.InvalidArgument, "Required Metadata Property 'type' is missing", missingType},
		{"stream \"\"", "", false, func(string) []*streams.AppendReq {
			return []*streams.AppendReq{optionsMsg("", anyRev()), good()}
		}, codes.Unknown, handlerThrew, nil},
		{"stream $$", "", false, func(string) []*streams.AppendReq {
			return []*streams.AppendReq{optionsMsg("$$", anyRev()), good()}
		}, codes.Unknown, handlerThrew, nil},
		{"stream \"\" without expectation", "", false, func(string) []*streams.AppendReq {
			return []*streams.AppendReq{optionsMsg("", nil), good()}
		}, codes.InvalidArgument, noneText, nil},
		{"stream \"\" with an event missing its type", "", false, func(string) []*streams.AppendReq {
			return []*streams.AppendReq{optionsMsg("", anyRev()), proposedMsg(structuredID(1, 4), map[string]string{"content-type": "application/json"})}
		}, codes.InvalidArgument, "Required Metadata Property 'type' is missing", missingType},
	} {
		s := c.stream
		if c.named {
			s = streamName(c.stream)
		}
		_, md, err := p.rawAppend(t, c.msgs(s)...)
		wantStatus(t, c.name, err, md, c.code, c.msg, c.trailers)
		if c.named {
			if _, err := readStream(t, p.client, s, esdb.ReadStreamOptions{}, 10); errCode(err) != esdb.ErrorCodeResourceNotFound {
				t.Errorf("%s: stream after the refused append: %v, want not found", c.name, err)
			}
		}
	}
}

// TestProtocolAppendRevisionLimits: StreamRevision takes uint64 max as End,
// i.e. no stream (a wrong expected version still echoes that revision);
// int64 max reaches the store and is an ordinary wrong expected version.
func TestProtocolAppendRevisionLimits(t *testing.T) {
	p := newProtoTarget(t)
	fresh := streamName("rev-max-new")
	resp, _, err := p.rawAppend(t, optionsMsg(fresh, revision(math.MaxUint64)), proposedMsg(structuredID(7, 1), jsonMD))
	if err != nil || resp.GetSuccess() == nil || resp.GetSuccess().GetCurrentRevision() != 0 {
		t.Fatalf("append at uint64 max to a new stream: %v, %v; want success at 0", resp, err)
	}
	resp, _, err = p.rawAppend(t, optionsMsg(fresh, revision(math.MaxUint64)), proposedMsg(structuredID(7, 2), jsonMD))
	w := resp.GetWrongExpectedVersion()
	if err != nil || w == nil || w.GetExpectedRevision() != math.MaxUint64 || w.GetExpectedRevision_20_6_0() != math.MaxUint64 ||
		w.GetCurrentRevision() != 0 || w.GetCurrentRevision_20_6_0() != 0 {
		t.Errorf("append at uint64 max to an existing stream: %v, %v; want wrong expected version echoing uint64 max, current 0", resp, err)
	}
	resp, _, err = p.rawAppend(t, optionsMsg(fresh, revision(math.MaxInt64)), proposedMsg(structuredID(7, 3), jsonMD))
	w = resp.GetWrongExpectedVersion()
	if err != nil || w == nil || w.GetExpectedRevision() != math.MaxInt64 || w.GetCurrentRevision() != 0 {
		t.Errorf("append at int64 max: %v, %v; want wrong expected version, expected int64 max, current 0", resp, err)
	}
}

// TestProtocolReadOptions: Streams.Read.cs's checks: uuid_option required
// (RpcExceptions.RequiredArgument), a stream option required, and only the
// option combinations CreateEnumerator serves
// (RpcExceptions.InvalidCombination).
func TestProtocolReadOptions(t *testing.T) {
	p, s := newProtoStream(t, "read-opts")
	structured := structuredUUIDs()
	stream := &streams.ReadReq_Options_Stream{Stream: &streams.ReadReq_Options_StreamOptions{StreamIdentifier: sid(s),
		RevisionOption: &streams.ReadReq_Options_StreamOptions_Start{Start: &shared.Empty{}}}}
	all := &streams.ReadReq_Options_All{All: &streams.ReadReq_Options_AllOptions{AllOption: &streams.ReadReq_Options_AllOptions_Start{Start: &shared.Empty{}}}}
	allEnd := &streams.ReadReq_Options_All{All: &streams.ReadReq_Options_AllOptions{AllOption: &streams.ReadReq_Options_AllOptions_End{End: &shared.Empty{}}}}
	count := &streams.ReadReq_Options_Count{Count: 10}
	sub := &streams.ReadReq_Options_Subscription{Subscription: &streams.ReadReq_Options_SubscriptionOptions{}}
	noFilter := &streams.ReadReq_Options_NoFilter{NoFilter: &shared.Empty{}}
	filter := &streams.ReadReq_Options_Filter{Filter: &streams.ReadReq_Options_FilterOptions{
		Filter: &streams.ReadReq_Options_FilterOptions_EventType{EventType: &streams.ReadReq_Options_FilterOptions_Expression{Prefix: []string{"T"}}},
		Window: &streams.ReadReq_Options_FilterOptions_Max{Max: 32}, CheckpointIntervalMultiplier: 1}}
	noWindow := &streams.ReadReq_Options_Filter{Filter: &streams.ReadReq_Options_FilterOptions{
		Filter: &streams.ReadReq_Options_FilterOptions_EventType{EventType: &streams.ReadReq_Options_FilterOptions_Expression{Prefix: []string{"T"}}}}}
	noExpression := &streams.ReadReq_Options_Filter{Filter: &streams.ReadReq_Options_FilterOptions{
		Window: &streams.ReadReq_Options_FilterOptions_Max{Max: 32}}}
	const windowNone = "'None' is not a valid EventStore.Client.Streams.ReadReq+Types+Options+Types+FilterOptions+WindowOneofCase"
	fwd, back := streams.ReadReq_Options_Forwards, streams.ReadReq_Options_Backwards
	combination := func(tuple string) string { return "The combination of " + tuple + " is invalid." }
	for _, c := range []struct {
		name string
		o    *streams.ReadReq_Options
		msg  string // "" = served
	}{
		{"no uuid option", &streams.ReadReq_Options{StreamOption: stream, CountOption: count, FilterOption: noFilter},
			"'uuidOption' is a required argument of type EventStore.Client.Streams.ReadReq+Types+Options+Types+UUIDOption"},
		{"no stream option", &streams.ReadReq_Options{CountOption: count, FilterOption: noFilter, UuidOption: structured},
			"'None' is not a valid EventStore.Client.Streams.ReadReq+Types+Options+StreamOptionOneofCase"},
		{"filtered stream read", &streams.ReadReq_Options{StreamOption: stream, CountOption: count, FilterOption: filter, UuidOption: structured},
			combination("(Stream, Count, Forwards, Filter)")},
		{"no filter option", &streams.ReadReq_Options{StreamOption: all, CountOption: count, UuidOption: structured},
			combination("(All, Count, Forwards, None)")},
		{"no count option", &streams.ReadReq_Options{StreamOption: stream, FilterOption: noFilter, UuidOption: structured},
			combination("(Stream, None, Forwards, NoFilter)")},
		{"unknown direction", &streams.ReadReq_Options{StreamOption: all, ReadDirection: 7, CountOption: count, FilterOption: noFilter, UuidOption: structured},
			combination("(All, Count, 7, NoFilter)")},
		{"backwards stream subscription", &streams.ReadReq_Options{StreamOption: stream, ReadDirection: back, CountOption: sub, FilterOption: noFilter, UuidOption: structured},
			combination("(Stream, Subscription, Backwards, NoFilter)")},
		{"filtered stream subscription", &streams.ReadReq_Options{StreamOption: stream, ReadDirection: fwd, CountOption: sub, FilterOption: filter, UuidOption: structured},
			combination("(Stream, Subscription, Forwards, Filter)")},
		{"backwards filtered $all subscription", &streams.ReadReq_Options{StreamOption: all, ReadDirection: back, CountOption: sub, FilterOption: filter, UuidOption: structured},
			combination("(All, Subscription, Backwards, Filter)")},
		// ConvertToWindow: checked before anything is read, so also for a
		// read that would find nothing (forwards from the end).
		{"filter without window", &streams.ReadReq_Options{StreamOption: all, CountOption: count, FilterOption: noWindow, UuidOption: structured}, windowNone},
		{"filter without window from the end", &streams.ReadReq_Options{StreamOption: allEnd, CountOption: count, FilterOption: noWindow, UuidOption: structured}, windowNone},
		{"filtered subscription without window", &streams.ReadReq_Options{StreamOption: allEnd, CountOption: sub, FilterOption: noWindow, UuidOption: structured}, windowNone},
		// RpcExceptions.InvalidArgument(filter): the FilterOptions as
		// Google.Protobuf's diagnostic JSON (more shapes in
		// TestFidelityFilterWithoutExpression).
		{"filter without expression", &streams.ReadReq_Options{StreamOption: allEnd, CountOption: count, FilterOption: noExpression, UuidOption: structured},
			`'{ "max": 32 }' is not a valid EventStore.Client.Streams.ReadReq+Types+Options+Types+FilterOptions`},
		{"filtered $all read backwards", &streams.ReadReq_Options{StreamOption: allEnd, ReadDirection: back, CountOption: count, FilterOption: filter, UuidOption: structured}, ""},
		{"stream read", &streams.ReadReq_Options{StreamOption: stream, CountOption: count, FilterOption: noFilter, UuidOption: structured}, ""},
	} {
		n, md, err := p.readRaw(t, c.o)
		if c.msg == "" {
			if status.Code(err) != codes.OK && err.Error() != "EOF" || n == 0 {
				t.Errorf("%s: %d messages, %v; want events", c.name, n, err)
			}
			continue
		}
		if n != 0 {
			t.Errorf("%s: %d messages before the error", c.name, n)
		}
		wantStatus(t, c.name, err, md, codes.InvalidArgument, c.msg, nil)
	}
}

// TestProtocolEmptyAppend: an Append of zero events through the official
// client. KurrentDB (StorageWriterService WritePrepares, IndexWriter
// CheckCommit) checks the expected revision as for any write and, when it
// passes, writes an empty prepare: the answer is the current revision (no
// stream when there is none) and that prepare's position, a fresh one past
// every event. A tombstoned stream passes for any or no stream (answering
// int64 max), a soft-deleted one for no stream, and the write undeletes it.
// empty_append_test.go checks the position's durability and invisibility.
func TestProtocolEmptyAppend(t *testing.T) {
	p := newProtoTarget(t)
	ctx := ctxT(t)
	s := streamName("empty")
	wr, err := p.client.AppendToStream(ctx, s, esdb.AppendToStreamOptions{}, events(2, "T")...)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.client.AppendToStream(ctx, s, esdb.AppendToStreamOptions{ExpectedRevision: esdb.Revision(1)})
	if err != nil || got.NextExpectedVersion != 1 {
		t.Errorf("empty append at the current revision: %+v, %v; want next expected version 1", got, err)
	}
	if _, err := p.client.AppendToStream(ctx, s, esdb.AppendToStreamOptions{ExpectedRevision: esdb.Revision(0)}); errCode(err) != esdb.ErrorCodeWrongExpectedVersion {
		t.Errorf("empty append below the current revision: %v; want wrong expected version", err)
	}
	if _, err := p.client.AppendToStream(ctx, s, esdb.AppendToStreamOptions{ExpectedRevision: esdb.Revision(2)}); errCode(err) != esdb.ErrorCodeWrongExpectedVersion {
		t.Errorf("empty append above the current revision: %v; want wrong expected version", err)
	}
	if _, err := p.client.AppendToStream(ctx, streamName("empty-new"), esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}); err != nil {
		t.Errorf("empty append to a new stream expecting no stream: %v", err)
	}
	if _, err := p.client.AppendToStream(ctx, streamName("empty-new"), esdb.AppendToStreamOptions{ExpectedRevision: esdb.StreamExists{}}); errCode(err) != esdb.ErrorCodeWrongExpectedVersion {
		t.Errorf("empty append to a new stream expecting it to exist: %v; want wrong expected version", err)
	}

	t.Run("fresh position", func(t *testing.T) {
		got, err := p.client.AppendToStream(ctx, s, esdb.AppendToStreamOptions{})
		if err != nil || got.CommitPosition <= wr.CommitPosition || got.PreparePosition != got.CommitPosition {
			t.Errorf("empty append: %+v, %v; want a position past %d", got, err, wr.CommitPosition)
		}
	})
	t.Run("soft-deleted stream is undeleted", func(t *testing.T) {
		d := streamName("empty-deleted")
		if _, err := p.client.AppendToStream(ctx, d, esdb.AppendToStreamOptions{}, events(2, "T")...); err != nil {
			t.Fatal(err)
		}
		if _, err := p.client.DeleteStream(ctx, d, esdb.DeleteStreamOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := p.client.AppendToStream(ctx, d, esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}); err != nil {
			t.Fatalf("empty append expecting no stream to a soft-deleted stream: %v", err)
		}
		if evs, err := readStream(t, p.client, d, esdb.ReadStreamOptions{}, 10); err != nil || len(evs) != 0 {
			t.Errorf("read after the undelete: %d events, %v; want none and no error", len(evs), err)
		}
	})
	t.Run("tombstoned stream", func(t *testing.T) {
		d := streamName("empty-tomb")
		if _, err := p.client.TombstoneStream(ctx, d, esdb.TombstoneStreamOptions{}); err != nil {
			t.Fatal(err)
		}
		got, err := p.client.AppendToStream(ctx, d, esdb.AppendToStreamOptions{})
		if err != nil || got.NextExpectedVersion != math.MaxInt64 {
			t.Errorf("empty append to a tombstoned stream: %+v, %v; want revision int64 max", got, err)
		}
	})
}
