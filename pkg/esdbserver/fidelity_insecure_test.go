package esdbserver_test

// What an insecure KurrentDB (the passthrough authorization provider,
// ClusterVNode.cs 960-962, PassthroughAuthorizationProvider.cs 14-15)
// answers for a stream Read of "" and a write of the stream "$all",
// followed past the access check in the ninth session: a Read of "" throws
// in the stream enumerators' constructors (Ensure.NotNullOrEmpty on the
// null name StreamIdentifier makes of ""), and nothing on the write path
// refuses "$all" (ClientMessage.WriteEvents refuses only "" and "$$").

import (
	"io"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
)

// TestFidelityInsecureEmptyStreamRead: without access checks a stream Read
// of "" is the handler's exception for the three stream combinations
// CreateEnumerator serves (a forward or backward read, a forward
// subscription; also without revision option) and InvalidCombination for
// any other.
func TestFidelityInsecureEmptyStreamRead(t *testing.T) {
	p := newProtoTarget(t)
	opts := func(rev any, dir streams.ReadReq_Options_ReadDirection, sub bool, filter bool) *streams.ReadReq_Options {
		so := &streams.ReadReq_Options_StreamOptions{StreamIdentifier: sid("")}
		switch r := rev.(type) {
		case nil:
		case uint64:
			so.RevisionOption = &streams.ReadReq_Options_StreamOptions_Revision{Revision: r}
		default:
			so.RevisionOption = &streams.ReadReq_Options_StreamOptions_Start{Start: &shared.Empty{}}
		}
		o := &streams.ReadReq_Options{StreamOption: &streams.ReadReq_Options_Stream{Stream: so}, ReadDirection: dir,
			CountOption: &streams.ReadReq_Options_Count{Count: 10}, UuidOption: structuredUUIDs(),
			FilterOption: &streams.ReadReq_Options_NoFilter{NoFilter: &shared.Empty{}}}
		if sub {
			o.CountOption = &streams.ReadReq_Options_Subscription{Subscription: &streams.ReadReq_Options_SubscriptionOptions{}}
		}
		if filter {
			o.FilterOption = &streams.ReadReq_Options_Filter{Filter: &streams.ReadReq_Options_FilterOptions{
				Filter: &streams.ReadReq_Options_FilterOptions_StreamIdentifier{StreamIdentifier: &streams.ReadReq_Options_FilterOptions_Expression{Prefix: []string{"a"}}},
				Window: &streams.ReadReq_Options_FilterOptions_Count{Count: &shared.Empty{}}, CheckpointIntervalMultiplier: 1}}
		}
		return o
	}
	for _, c := range []struct {
		what string
		o    *streams.ReadReq_Options
	}{
		{"forward read", opts("start", streams.ReadReq_Options_Forwards, false, false)},
		{"backward read", opts(uint64(5), streams.ReadReq_Options_Backwards, false, false)},
		{"forward subscription", opts("start", streams.ReadReq_Options_Forwards, true, false)},
		{"forward read without revision option", opts(nil, streams.ReadReq_Options_Forwards, false, false)},
	} {
		n, md, err := p.readRaw(t, c.o)
		if n != 0 {
			t.Errorf("%s of \"\": %d messages before the end", c.what, n)
		}
		wantStatus(t, c.what+" of \"\"", err, md, codes.Unknown, handlerThrew, nil)
	}
	n, md, err := p.readRaw(t, opts("start", streams.ReadReq_Options_Forwards, false, true))
	if n != 0 {
		t.Errorf("filtered read of \"\": %d messages before the end", n)
	}
	wantStatus(t, "filtered read of \"\"", err, md, codes.InvalidArgument, "The combination of (Stream, Count, Forwards, Filter) is invalid.", nil)
	n, md, err = p.readRaw(t, opts("start", streams.ReadReq_Options_Backwards, true, false))
	if n != 0 {
		t.Errorf("backward subscription of \"\": %d messages before the end", n)
	}
	wantStatus(t, "backward subscription of \"\"", err, md, codes.InvalidArgument, "The combination of (Stream, Subscription, Backwards, NoFilter) is invalid.", nil)
	if _, err := readStream(t, p.client, "", esdb.ReadStreamOptions{}, 10); errCode(err) != esdb.ErrorCodeUnknown {
		t.Errorf("official read of \"\": %v, want Unknown", err)
	}
}

// TestFidelityInsecureWriteAll: without access checks the stream "$all" is
// written, read, deleted and tombstoned like any other stream, through
// Append and BatchAppend alike; its events are in $all like any others.
func TestFidelityInsecureWriteAll(t *testing.T) {
	p := newProtoTarget(t)
	c := p.client
	wr, err := c.AppendToStream(ctxT(t), "$all", esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, event("T", `{"n":0}`))
	if err != nil {
		t.Fatalf("append to the stream $all: %v", err)
	}
	if wr.NextExpectedVersion != 0 {
		t.Errorf("append to the stream $all: next revision %d, want 0", wr.NextExpectedVersion)
	}
	if last := lastAllPosition(t, c); last != wr.CommitPosition {
		t.Errorf("last event of $all at %d, the append's at %d", last, wr.CommitPosition)
	}

	id := uuid.New()
	got := batchCall(t, ctxT(t), p.raw, []*streams.BatchAppendReq{{CorrelationId: structuredUUID(id), Options: batchOpts("$all", uint64(0)),
		ProposedMessages: msgs(batchMsg(uuid.New(), `{"n":1}`)), IsFinal: true}})
	r := got[id]
	if r.GetSuccess() == nil {
		t.Fatalf("batch append to the stream $all: %v, want success", r)
	}
	if rev := r.GetSuccess().GetCurrentRevision(); rev != 1 {
		t.Errorf("batch append to the stream $all: revision %d, want 1", rev)
	}

	evs, err := readStream(t, c, "$all", esdb.ReadStreamOptions{}, 10)
	if err != nil {
		t.Fatalf("read the stream $all: %v", err)
	}
	if len(evs) != 2 || evs[0].OriginalEvent().StreamID != "$all" || evs[1].OriginalEvent().EventNumber != 1 {
		t.Errorf("the stream $all holds %d events, want its two", len(evs))
	}
	if _, err := c.DeleteStream(ctxT(t), "$all", esdb.DeleteStreamOptions{ExpectedRevision: esdb.Revision(1)}); err != nil {
		t.Errorf("delete the stream $all: %v", err)
	}
	if _, err := c.TombstoneStream(ctxT(t), "$all", esdb.TombstoneStreamOptions{}); err != nil {
		t.Errorf("tombstone the stream $all: %v", err)
	}
	if _, err := c.AppendToStream(ctxT(t), "$all", esdb.AppendToStreamOptions{}, event("T", "{}")); errCode(err) != esdb.ErrorCodeStreamDeleted {
		t.Errorf("append to the tombstoned stream $all: %v, want stream deleted", err)
	}
	// The log itself is still read as $all.
	rs, err := c.ReadAll(ctxT(t), esdb.ReadAllOptions{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	n := 0
	for {
		ev, err := rs.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.OriginalEvent().StreamID == "$all" {
			n++
		}
	}
	if n < 2 {
		t.Errorf("$all shows %d events of the stream $all, want at least its two", n)
	}
}
