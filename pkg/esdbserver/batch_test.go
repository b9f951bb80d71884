package esdbserver_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/craftledger/craftledger/pkg/esdbserver"
)

// The expectations below are KurrentDB's (kurrent-io/KurrentDB,
// src/KurrentDB.Core/Services/Transport/Grpc/Streams.BatchAppend.cs and
// Status.cs); batch.go lists them.

func structuredUUID(u uuid.UUID) *shared.UUID {
	return &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{
		MostSignificantBits:  int64(binary.BigEndian.Uint64(u[0:8])),
		LeastSignificantBits: int64(binary.BigEndian.Uint64(u[8:16])),
	}}}
}

func corrKey(u *shared.UUID) uuid.UUID {
	if s, ok := u.GetValue().(*shared.UUID_String_); ok {
		return uuid.MustParse(s.String_)
	}
	var id uuid.UUID
	s := u.GetStructured()
	binary.BigEndian.PutUint64(id[0:], uint64(s.GetMostSignificantBits()))
	binary.BigEndian.PutUint64(id[8:], uint64(s.GetLeastSignificantBits()))
	return id
}

func batchMsg(id uuid.UUID, data string) *streams.BatchAppendReq_ProposedMessage {
	return &streams.BatchAppendReq_ProposedMessage{
		Id:       structuredUUID(id),
		Metadata: map[string]string{"type": "BatchT", "content-type": "application/json"},
		Data:     []byte(data),
	}
}

func msgs(ms ...*streams.BatchAppendReq_ProposedMessage) []*streams.BatchAppendReq_ProposedMessage {
	return ms
}

func batchOpts(stream string, exp any) *streams.BatchAppendReq_Options {
	o := &streams.BatchAppendReq_Options{
		StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(stream)},
		DeadlineOption:   &streams.BatchAppendReq_Options_Deadline{Deadline: durationpb.New(60e9)},
	}
	switch e := exp.(type) {
	case uint64:
		o.ExpectedStreamPosition = &streams.BatchAppendReq_Options_StreamPosition{StreamPosition: e}
	case string:
		switch e {
		case "any":
			o.ExpectedStreamPosition = &streams.BatchAppendReq_Options_Any{Any: &emptypb.Empty{}}
		case "no_stream":
			o.ExpectedStreamPosition = &streams.BatchAppendReq_Options_NoStream{NoStream: &emptypb.Empty{}}
		case "exists":
			o.ExpectedStreamPosition = &streams.BatchAppendReq_Options_StreamExists{StreamExists: &emptypb.Empty{}}
		}
	}
	return o
}

// openBatch starts a BatchAppend call.
func openBatch(t *testing.T, ctx context.Context, sc streams.StreamsClient) streams.Streams_BatchAppendClient {
	t.Helper()
	call, err := sc.BatchAppend(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return call
}

func sendAll(t *testing.T, call streams.Streams_BatchAppendClient, reqs ...*streams.BatchAppendReq) {
	t.Helper()
	for _, r := range reqs {
		if err := call.Send(r); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
}

func recvOne(t *testing.T, call streams.Streams_BatchAppendClient) *streams.BatchAppendResp {
	t.Helper()
	r, err := call.Recv()
	if err != nil {
		t.Fatalf("recv: %v", err)
	}
	return r
}

// closeAndDrain half-closes the call and returns every answer until the
// call ends with OK.
func closeAndDrain(t *testing.T, call streams.Streams_BatchAppendClient) []*streams.BatchAppendResp {
	t.Helper()
	if err := call.CloseSend(); err != nil {
		t.Fatal(err)
	}
	var out []*streams.BatchAppendResp
	for {
		r, err := call.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("recv: %v", err)
		}
		out = append(out, r)
	}
}

// batchCall sends reqs on one BatchAppend call, half-closes it and returns
// every answer by correlation id (failing on a duplicate answer).
func batchCall(t *testing.T, ctx context.Context, sc streams.StreamsClient, reqs []*streams.BatchAppendReq) map[uuid.UUID]*streams.BatchAppendResp {
	t.Helper()
	call := openBatch(t, ctx, sc)
	sendAll(t, call, reqs...)
	out := map[uuid.UUID]*streams.BatchAppendResp{}
	for _, r := range closeAndDrain(t, call) {
		k := corrKey(r.GetCorrelationId())
		if _, dup := out[k]; dup {
			t.Fatalf("two answers for correlation %s", k)
		}
		out[k] = r
	}
	return out
}

// wantError checks that r is an error answer with exactly KurrentDB's
// code, message and one detail of detail's type (decoded into detail).
func wantError(t *testing.T, what string, r *streams.BatchAppendResp, code codes.Code, msg string, detail proto.Message) {
	t.Helper()
	st := r.GetError()
	if st == nil {
		t.Fatalf("%s: %v, want an error", what, r)
	}
	if codes.Code(st.Code) != code || st.Message != msg {
		t.Errorf("%s: code %v message %q, want %v %q", what, codes.Code(st.Code), st.Message, code, msg)
	}
	if len(st.Details) != 1 {
		t.Fatalf("%s: %d details, want 1", what, len(st.Details))
	}
	if err := st.Details[0].UnmarshalTo(detail); err != nil {
		t.Fatalf("%s: detail %s, want %T: %v", what, st.Details[0].GetTypeUrl(), detail, err)
	}
	if r.GetExpectedStreamPosition() != nil {
		t.Errorf("%s: expected_stream_position set (%v); KurrentDB never sets it", what, r.GetExpectedStreamPosition())
	}
}

func wantStream(t *testing.T, what string, r *streams.BatchAppendResp, stream string) {
	t.Helper()
	if got := string(r.GetStreamIdentifier().GetStreamName()); got != stream {
		t.Errorf("%s: answer names stream %q, want %q", what, got, stream)
	}
}

func wantBadRequest(t *testing.T, what string, r *streams.BatchAppendResp, msg string) {
	t.Helper()
	var br shared.BadRequest
	wantError(t, what, r, codes.InvalidArgument, "BadRequest", &br)
	if br.GetMessage() != msg {
		t.Errorf("%s: BadRequest message %q, want %q", what, br.GetMessage(), msg)
	}
}

func insecureStreams(t *testing.T, srv *esdbserver.Server) streams.StreamsClient {
	t.Helper()
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return streams.NewStreamsClient(conn)
}

func TestBatchAppendCorrelations(t *testing.T) {
	srv := startServer(t, esdbserver.Config{Insecure: true})
	sc := insecureStreams(t, srv)
	c := connect(t, srv.URL())
	ctx := ctxT(t)

	a, b, conflict := streamName("batch-a"), streamName("batch-b"), streamName("batch-c")
	if _, err := c.AppendToStream(ctx, conflict, esdb.AppendToStreamOptions{}, event("T", "{}")); err != nil {
		t.Fatal(err)
	}
	ca, cb, cc := uuid.New(), uuid.New(), uuid.New()
	aIDs := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	bIDs := []uuid.UUID{uuid.New(), uuid.New()}
	// Interleaved: a and b each span two messages; c (wrong expectation:
	// the stream is at revision 0) is final in its first.
	reqs := []*streams.BatchAppendReq{
		{CorrelationId: structuredUUID(ca), Options: batchOpts(a, "no_stream"), ProposedMessages: msgs(batchMsg(aIDs[0], `{"n":0}`), batchMsg(aIDs[1], `{"n":1}`))},
		{CorrelationId: structuredUUID(cb), Options: batchOpts(b, "any"), ProposedMessages: msgs(batchMsg(bIDs[0], `{"n":0}`))},
		{CorrelationId: structuredUUID(cc), Options: batchOpts(conflict, uint64(5)), ProposedMessages: msgs(batchMsg(uuid.New(), `{}`)), IsFinal: true},
		{CorrelationId: structuredUUID(cb), ProposedMessages: msgs(batchMsg(bIDs[1], `{"n":1}`)), IsFinal: true},
		{CorrelationId: structuredUUID(ca), ProposedMessages: msgs(batchMsg(aIDs[2], `{"n":2}`)), IsFinal: true},
	}
	got := batchCall(t, ctx, sc, reqs)
	if len(got) != 3 {
		t.Fatalf("%d answers, want 3: %v", len(got), got)
	}

	check := func(corr uuid.UUID, stream string, ids []uuid.UUID) {
		t.Helper()
		r := got[corr]
		succ := r.GetSuccess()
		if succ == nil {
			t.Fatalf("%s: %v, want success", stream, r)
		}
		wantStream(t, stream, r, stream)
		if r.GetExpectedStreamPosition() != nil {
			t.Errorf("%s: expected_stream_position set; KurrentDB never sets it", stream)
		}
		evs, err := readStream(t, c, stream, esdb.ReadStreamOptions{}, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != len(ids) {
			t.Fatalf("%s: read %d events, want %d", stream, len(evs), len(ids))
		}
		for i, ev := range evs {
			if ev.Event.EventID != ids[i] || ev.Event.EventNumber != uint64(i) {
				t.Errorf("%s[%d]: id %s rev %d, want %s rev %d", stream, i, ev.Event.EventID, ev.Event.EventNumber, ids[i], i)
			}
		}
		last := evs[len(evs)-1].Event
		if succ.GetCurrentRevision() != last.EventNumber || succ.GetPosition().GetCommitPosition() != last.Position.Commit ||
			succ.GetPosition().GetPreparePosition() != last.Position.Prepare {
			t.Errorf("%s: success %v, read says revision %d position %v", stream, succ, last.EventNumber, last.Position)
		}
	}
	check(ca, a, aIDs)
	check(cb, b, bIDs)

	var wev shared.WrongExpectedVersion
	wantError(t, "wrong expected version", got[cc], codes.AlreadyExists, "WrongExpectedVersion", &wev)
	wantStream(t, "wrong expected version", got[cc], conflict)
	if wev.GetCurrentStreamRevision() != 0 || wev.GetExpectedStreamPosition() != 5 {
		t.Errorf("wrong expected version detail: %v", &wev)
	}
	if evs, _ := readStream(t, c, conflict, esdb.ReadStreamOptions{}, 100); len(evs) != 1 {
		t.Errorf("conflicting batch wrote: %d events", len(evs))
	}

	// Idempotent re-send of a's batch at the same expectation: the
	// original result, nothing written. A partial overlap is a wrong
	// expected version.
	ca2, cp := uuid.New(), uuid.New()
	again := batchCall(t, ctx, sc, []*streams.BatchAppendReq{
		{CorrelationId: structuredUUID(ca2), Options: batchOpts(a, "no_stream"), ProposedMessages: msgs(
			batchMsg(aIDs[0], `{"n":0}`), batchMsg(aIDs[1], `{"n":1}`), batchMsg(aIDs[2], `{"n":2}`)), IsFinal: true},
		{CorrelationId: structuredUUID(cp), Options: batchOpts(b, uint64(0)), ProposedMessages: msgs(
			batchMsg(bIDs[1], `{"n":1}`), batchMsg(uuid.New(), `{}`)), IsFinal: true},
	})
	if s1, s2 := got[ca].GetSuccess(), again[ca2].GetSuccess(); s2 == nil || s2.GetCurrentRevision() != s1.GetCurrentRevision() ||
		s2.GetPosition().GetCommitPosition() != s1.GetPosition().GetCommitPosition() {
		t.Errorf("idempotent re-send: %v, first answer %v", again[ca2], got[ca])
	}
	if evs, _ := readStream(t, c, a, esdb.ReadStreamOptions{}, 100); len(evs) != 3 {
		t.Errorf("re-send wrote: %d events", len(evs))
	}
	wantError(t, "partial overlap", again[cp], codes.AlreadyExists, "WrongExpectedVersion", &wev)
	if evs, _ := readStream(t, c, b, esdb.ReadStreamOptions{}, 100); len(evs) != 2 {
		t.Errorf("partial overlap wrote: %d events", len(evs))
	}
}

func TestBatchAppendWrongExpectedVersionDetail(t *testing.T) {
	srv := startServer(t, esdbserver.Config{Insecure: true})
	sc := insecureStreams(t, srv)
	c := connect(t, srv.URL())
	ctx := ctxT(t)

	existing, missing, fresh := streamName("batch-wev"), streamName("batch-missing"), streamName("batch-fresh")
	if _, err := c.AppendToStream(ctx, existing, esdb.AppendToStreamOptions{}, event("T", "{}"), event("T", "{}")); err != nil {
		t.Fatal(err)
	}
	type tc struct {
		name, stream string
		exp          any
		check        func(*shared.WrongExpectedVersion) bool
	}
	cases := []tc{
		{"no_stream on an existing stream", existing, "no_stream", func(w *shared.WrongExpectedVersion) bool {
			return w.GetCurrentStreamRevision() == 1 && w.GetExpectedNoStream() != nil
		}},
		{"stream_exists on a missing stream", missing, "exists", func(w *shared.WrongExpectedVersion) bool {
			return w.GetCurrentNoStream() != nil && w.GetExpectedStreamExists() != nil
		}},
		// uint64 max is StreamRevision.End, which KurrentDB reads as no stream.
		{"stream_position uint64 max", existing, uint64(math.MaxUint64), func(w *shared.WrongExpectedVersion) bool {
			return w.GetCurrentStreamRevision() == 1 && w.GetExpectedNoStream() != nil
		}},
		{"stream_position int64 max", existing, uint64(math.MaxInt64), func(w *shared.WrongExpectedVersion) bool {
			return w.GetCurrentStreamRevision() == 1 && w.GetExpectedStreamPosition() == math.MaxInt64
		}},
		{"stream_position behind", existing, uint64(0), func(w *shared.WrongExpectedVersion) bool {
			return w.GetCurrentStreamRevision() == 1 && w.GetExpectedStreamPosition() == 0
		}},
	}
	var reqs []*streams.BatchAppendReq
	ids := map[uuid.UUID]tc{}
	for _, k := range cases {
		id := uuid.New()
		ids[id] = k
		reqs = append(reqs, &streams.BatchAppendReq{CorrelationId: structuredUUID(id), Options: batchOpts(k.stream, k.exp),
			ProposedMessages: msgs(batchMsg(uuid.New(), `{}`)), IsFinal: true})
	}
	okID := uuid.New()
	reqs = append(reqs, &streams.BatchAppendReq{CorrelationId: structuredUUID(okID), Options: batchOpts(fresh, uint64(math.MaxUint64)),
		ProposedMessages: msgs(batchMsg(uuid.New(), `{}`)), IsFinal: true})
	got := batchCall(t, ctx, sc, reqs)
	for id, k := range ids {
		var w shared.WrongExpectedVersion
		wantError(t, k.name, got[id], codes.AlreadyExists, "WrongExpectedVersion", &w)
		wantStream(t, k.name, got[id], k.stream)
		if !k.check(&w) {
			t.Errorf("%s: detail %v", k.name, &w)
		}
	}
	if s := got[okID].GetSuccess(); s == nil || s.GetCurrentRevision() != 0 {
		t.Errorf("stream_position uint64 max on a new stream (no stream): %v", got[okID])
	}
}

func TestBatchAppendErrors(t *testing.T) {
	srv := startServer(t, esdbserver.Config{Insecure: true, MaxAppendSize: 1024})
	sc := insecureStreams(t, srv)
	c := connect(t, srv.URL())
	ctx := ctxT(t)

	dead, ok := streamName("batch-dead"), streamName("batch-ok")
	if _, err := c.AppendToStream(ctx, dead, esdb.AppendToStreamOptions{}, event("T", "{}")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TombstoneStream(ctx, dead, esdb.TombstoneStreamOptions{}); err != nil {
		t.Fatal(err)
	}
	cd, cok := uuid.New(), uuid.New()
	got := batchCall(t, ctx, sc, []*streams.BatchAppendReq{
		{CorrelationId: structuredUUID(cd), Options: batchOpts(dead, "any"), ProposedMessages: msgs(batchMsg(uuid.New(), `{}`)), IsFinal: true},
		{CorrelationId: structuredUUID(cok), Options: batchOpts(ok, "no_stream"), ProposedMessages: msgs(batchMsg(uuid.New(), `{}`)), IsFinal: true},
	})
	var sd shared.StreamDeleted
	wantError(t, "tombstoned stream", got[cd], codes.NotFound, "StreamDeleted", &sd)
	wantStream(t, "tombstoned stream", got[cd], dead)
	if string(sd.GetStreamIdentifier().GetStreamName()) != dead {
		t.Errorf("tombstoned stream detail names %q", sd.GetStreamIdentifier().GetStreamName())
	}
	if got[cok].GetSuccess() == nil || got[cok].GetSuccess().GetCurrentRevision() != 0 {
		t.Errorf("batch beside the failure: %v", got[cok])
	}
}

func TestBatchAppendOversizeAnsweredAtOnce(t *testing.T) {
	srv := startServer(t, esdbserver.Config{Insecure: true, MaxAppendSize: 1024})
	sc := insecureStreams(t, srv)
	c := connect(t, srv.URL())
	big := streamName("batch-big")
	corr := structuredUUID(uuid.New())
	half := `"` + strings.Repeat("x", 600) + `"`

	call := openBatch(t, ctxT(t), sc)
	// Two messages each under the limit, together over it, neither final:
	// KurrentDB answers as soon as the second arrives.
	sendAll(t, call,
		&streams.BatchAppendReq{CorrelationId: corr, Options: batchOpts(big, "any"), ProposedMessages: msgs(batchMsg(uuid.New(), half))},
		&streams.BatchAppendReq{CorrelationId: corr, ProposedMessages: msgs(batchMsg(uuid.New(), half))})
	r := recvOne(t, call)
	var mx shared.MaximumAppendSizeExceeded
	wantError(t, "oversize batch", r, codes.InvalidArgument, "MaximumAppendSizeExceeded", &mx)
	wantStream(t, "oversize batch", r, big)
	if mx.MaxAppendSize != 1024 || corrKey(r.GetCorrelationId()) != corrKey(corr) {
		t.Errorf("oversize batch: %v", r)
	}
	// The batch is forgotten: its final message gets no answer.
	sendAll(t, call, &streams.BatchAppendReq{CorrelationId: corr, ProposedMessages: msgs(batchMsg(uuid.New(), `{}`)), IsFinal: true})
	if rest := closeAndDrain(t, call); len(rest) != 0 {
		t.Errorf("answers after the oversize answer: %v", rest)
	}
	if evs, err := readStream(t, c, big, esdb.ReadStreamOptions{}, 10); errCode(err) != esdb.ErrorCodeResourceNotFound || len(evs) != 0 {
		t.Errorf("oversize batch wrote %d events (%v)", len(evs), err)
	}
}

func TestBatchAppendDeadlines(t *testing.T) {
	srv := startServer(t, esdbserver.Config{Insecure: true})
	sc := insecureStreams(t, srv)
	c := connect(t, srv.URL())
	s := streamName("batch-deadline")

	withDeadline := func(o *streams.BatchAppendReq_Options, d any) *streams.BatchAppendReq_Options {
		switch v := d.(type) {
		case time.Duration:
			o.DeadlineOption = &streams.BatchAppendReq_Options_Deadline{Deadline: durationpb.New(v)}
		case time.Time:
			o.DeadlineOption = &streams.BatchAppendReq_Options_Deadline_21_10_0{Deadline_21_10_0: timestamppb.New(v)}
		case nil:
			o.DeadlineOption = nil
		}
		return o
	}
	wantTimeout := func(what string, r *streams.BatchAppendResp, corr uuid.UUID) {
		t.Helper()
		var to shared.Timeout
		wantError(t, what, r, codes.DeadlineExceeded, "Timeout", &to)
		wantStream(t, what, r, s)
		if corrKey(r.GetCorrelationId()) != corr {
			t.Errorf("%s: correlation %v, want %s", what, r.GetCorrelationId(), corr)
		}
	}

	// A deadline already passed: Timeout at once, even for a final batch.
	call := openBatch(t, ctxT(t), sc)
	c0, c1 := uuid.New(), uuid.New()
	sendAll(t, call, &streams.BatchAppendReq{CorrelationId: structuredUUID(c0), Options: withDeadline(batchOpts(s, "any"), time.Duration(0)),
		ProposedMessages: msgs(batchMsg(uuid.New(), `{}`)), IsFinal: true})
	wantTimeout("zero deadline", recvOne(t, call), c0)
	sendAll(t, call, &streams.BatchAppendReq{CorrelationId: structuredUUID(c1), Options: withDeadline(batchOpts(s, "any"), time.Now().Add(-time.Second)),
		ProposedMessages: msgs(batchMsg(uuid.New(), `{}`)), IsFinal: true})
	wantTimeout("past deadline timestamp", recvOne(t, call), c1)

	// A batch still open at its deadline is answered Timeout without any
	// further message; the answer's correlation id is structured even
	// when the request's was a string; a later final message is ignored.
	c2 := uuid.New()
	sendAll(t, call, &streams.BatchAppendReq{CorrelationId: &shared.UUID{Value: &shared.UUID_String_{String_: c2.String()}},
		Options: withDeadline(batchOpts(s, "any"), 50*time.Millisecond), ProposedMessages: msgs(batchMsg(uuid.New(), `{}`))})
	r := recvOne(t, call)
	wantTimeout("open batch at its deadline", r, c2)
	if r.GetCorrelationId().GetStructured() == nil {
		t.Errorf("timeout answer correlation %v, want the structured form", r.GetCorrelationId())
	}
	sendAll(t, call, &streams.BatchAppendReq{CorrelationId: structuredUUID(c2), ProposedMessages: msgs(batchMsg(uuid.New(), `{}`)), IsFinal: true})

	// Without a deadline, or with a long one, the server's 2 s write
	// timeout applies: the open batches are answered Timeout after the
	// client half-closes, then the call ends.
	c3, c4 := uuid.New(), uuid.New()
	sendAll(t, call,
		&streams.BatchAppendReq{CorrelationId: structuredUUID(c3), Options: withDeadline(batchOpts(s, "any"), nil), ProposedMessages: msgs(batchMsg(uuid.New(), `{}`))},
		&streams.BatchAppendReq{CorrelationId: structuredUUID(c4), Options: withDeadline(batchOpts(s, "any"), 10*time.Minute), ProposedMessages: msgs(batchMsg(uuid.New(), `{}`))})
	rest := closeAndDrain(t, call)
	if len(rest) != 2 {
		t.Fatalf("%d answers after half-close, want the 2 timeouts: %v", len(rest), rest)
	}
	for _, r := range rest {
		k := corrKey(r.GetCorrelationId())
		if k != c3 && k != c4 {
			t.Errorf("answer for correlation %s", k)
		}
		wantTimeout("open batch at the write timeout", r, k)
	}
	if evs, err := readStream(t, c, s, esdb.ReadStreamOptions{}, 10); errCode(err) != esdb.ErrorCodeResourceNotFound || len(evs) != 0 {
		t.Errorf("timed-out batches wrote %d events (%v)", len(evs), err)
	}
}

func TestBatchAppendCorrelationRules(t *testing.T) {
	srv := startServer(t, esdbserver.Config{Insecure: true})
	sc := insecureStreams(t, srv)
	c := connect(t, srv.URL())
	s, other := streamName("batch-rules"), streamName("batch-other")
	stray, x, e := uuid.New(), uuid.New(), uuid.New()
	strCorr := &shared.UUID{Value: &shared.UUID_String_{String_: e.String()}}
	call := openBatch(t, ctxT(t), sc)
	sendAll(t, call,
		// A correlation whose first message has no options is ignored.
		&streams.BatchAppendReq{CorrelationId: structuredUUID(stray), ProposedMessages: msgs(batchMsg(uuid.New(), `{}`))},
		&streams.BatchAppendReq{CorrelationId: structuredUUID(stray), ProposedMessages: msgs(batchMsg(uuid.New(), `{}`)), IsFinal: true},
		// Options on an open correlation are ignored: x writes to s.
		&streams.BatchAppendReq{CorrelationId: structuredUUID(x), Options: batchOpts(s, "no_stream"), ProposedMessages: msgs(batchMsg(uuid.New(), `{}`))},
		&streams.BatchAppendReq{CorrelationId: structuredUUID(x), Options: batchOpts(other, uint64(7)), ProposedMessages: msgs(batchMsg(uuid.New(), `{}`)), IsFinal: true},
	)
	r := recvOne(t, call)
	if r.GetSuccess().GetCurrentRevision() != 1 || corrKey(r.GetCorrelationId()) != x {
		t.Fatalf("batch with two options messages: %v", r)
	}
	wantStream(t, "first batch of x", r, s)
	// The same correlation id after its batch finished opens a new one;
	// an empty batch succeeds with the current revision; a string
	// correlation id is echoed as a string.
	sendAll(t, call,
		&streams.BatchAppendReq{CorrelationId: structuredUUID(x), Options: batchOpts(s, uint64(1)), ProposedMessages: msgs(batchMsg(uuid.New(), `{}`)), IsFinal: true})
	r = recvOne(t, call)
	if r.GetSuccess().GetCurrentRevision() != 2 || corrKey(r.GetCorrelationId()) != x {
		t.Fatalf("reused correlation: %v", r)
	}
	sendAll(t, call, &streams.BatchAppendReq{CorrelationId: strCorr, Options: batchOpts(s, uint64(2)), IsFinal: true})
	r = recvOne(t, call)
	if r.GetSuccess().GetCurrentRevision() != 2 || r.GetCorrelationId().GetString_() != e.String() {
		t.Fatalf("empty batch with a string correlation id: %v", r)
	}
	empty := streamName("batch-empty")
	sendAll(t, call, &streams.BatchAppendReq{CorrelationId: structuredUUID(e), Options: batchOpts(empty, "any"), IsFinal: true})
	r = recvOne(t, call)
	if r.GetSuccess().GetNoStream() == nil {
		t.Fatalf("empty batch on a new stream: %v, want no_stream", r)
	}
	if rest := closeAndDrain(t, call); len(rest) != 0 {
		t.Errorf("unexpected answers: %v", rest)
	}
	if evs, err := readStream(t, c, s, esdb.ReadStreamOptions{}, 10); err != nil || len(evs) != 3 {
		t.Errorf("stream has %d events (%v), want 3", len(evs), err)
	}
	if _, err := readStream(t, c, other, esdb.ReadStreamOptions{}, 10); errCode(err) != esdb.ErrorCodeResourceNotFound {
		t.Errorf("ignored options wrote to their stream: %v", err)
	}
}

func TestBatchAppendBadRequests(t *testing.T) {
	srv := startServer(t, esdbserver.Config{Insecure: true})
	sc := insecureStreams(t, srv)
	s := streamName("batch-bad")
	short := func(o *streams.BatchAppendReq_Options) *streams.BatchAppendReq_Options {
		o.DeadlineOption = &streams.BatchAppendReq_Options_Deadline{Deadline: durationpb.New(100 * time.Millisecond)}
		return o
	}
	noType := batchMsg(uuid.New(), `{}`)
	delete(noType.Metadata, "type")
	noCT := batchMsg(uuid.New(), `{}`)
	delete(noCT.Metadata, "content-type")
	noID := batchMsg(uuid.New(), `{}`)
	noID.Id = nil
	zeroID := batchMsg(uuid.Nil, `{}`)
	emptyType := batchMsg(uuid.New(), `{}`)
	emptyType.Metadata["type"] = ""
	noExp := batchOpts(s, nil)
	noSID := batchOpts(s, "any")
	noSID.StreamIdentifier = nil

	type tc struct {
		name    string
		opts    *streams.BatchAppendReq_Options
		ev      *streams.BatchAppendReq_ProposedMessage
		msg     string
		stream  string
		timeout bool // the batch stays open and times out too (as in KurrentDB)
	}
	cases := []tc{
		{"missing type", short(batchOpts(s, "any")), noType, `Status(StatusCode="InvalidArgument", Detail="Required Metadata Property 'type' is missing")`, s, true},
		{"missing content-type", short(batchOpts(s, "any")), noCT, `Status(StatusCode="InvalidArgument", Detail="Required Metadata Property 'content-type' is missing")`, s, true},
		{"missing event id", short(batchOpts(s, "any")), noID, "Value cannot be null. (Parameter 'dto')", s, true},
		{"zero event id", short(batchOpts(s, "any")), zeroID, "Empty eventId provided. (Parameter 'eventId')", s, true},
		{"empty event type", short(batchOpts(s, "any")), emptyType, "Empty eventType provided. (Parameter 'eventType')", s, true},
		{"no expected position", noExp, batchMsg(uuid.New(), `{}`),
			`Status(StatusCode="InvalidArgument", Detail="'None' is not a valid EventStore.Client.Streams.BatchAppendReq+Types+Options+ExpectedStreamPositionOneofCase")`, s, false},
		{"expected position out of range", batchOpts(s, uint64(1<<63)), batchMsg(uuid.New(), `{}`),
			"Specified argument was out of the range of valid values. (Parameter 'value')", s, false},
		// Converting the missing identifier for the access check throws a
		// NullReferenceException (StreamIdentifier.cs 14) before the
		// handler's own "Required field StreamIdentifier not set." check.
		{"no stream identifier", noSID, batchMsg(uuid.New(), `{}`), "Object reference not set to an instance of an object.", "", false},
		{"stream $$", batchOpts("$$", "any"), batchMsg(uuid.New(), `{}`), "Invalid stream ID: $$ (Parameter 'eventStreamIds')", "$$", false},
	}
	var reqs []*streams.BatchAppendReq
	byID := map[uuid.UUID]tc{}
	for _, k := range cases {
		id := uuid.New()
		byID[id] = k
		reqs = append(reqs, &streams.BatchAppendReq{CorrelationId: structuredUUID(id), Options: k.opts, ProposedMessages: msgs(k.ev), IsFinal: true})
	}
	// A message with options but no correlation id: BadRequest without one.
	reqs = append(reqs, &streams.BatchAppendReq{Options: batchOpts(s, "any"), ProposedMessages: msgs(batchMsg(uuid.New(), `{}`)), IsFinal: true})

	call := openBatch(t, ctxT(t), sc)
	sendAll(t, call, reqs...)
	answers := closeAndDrain(t, call)
	seen := map[uuid.UUID][]*streams.BatchAppendResp{}
	noCorr := 0
	for _, r := range answers {
		if r.GetCorrelationId() == nil {
			noCorr++
			wantBadRequest(t, "no correlation id", r, "Value cannot be null. (Parameter 'dto')")
			wantStream(t, "no correlation id", r, s)
			continue
		}
		k := corrKey(r.GetCorrelationId())
		seen[k] = append(seen[k], r)
	}
	if noCorr != 1 {
		t.Errorf("%d answers without a correlation id, want 1", noCorr)
	}
	for id, k := range byID {
		rs := seen[id]
		want := 1
		if k.timeout {
			want = 2
		}
		if len(rs) != want {
			t.Errorf("%s: %d answers, want %d: %v", k.name, len(rs), want, rs)
			continue
		}
		wantBadRequest(t, k.name, rs[0], k.msg)
		wantStream(t, k.name, rs[0], k.stream)
		if k.timeout {
			var to shared.Timeout
			wantError(t, k.name+" (then)", rs[1], codes.DeadlineExceeded, "Timeout", &to)
		}
	}
}

func TestBatchAppendMalformedContinuationEndsCall(t *testing.T) {
	srv := startServer(t, esdbserver.Config{Insecure: true})
	sc := insecureStreams(t, srv)
	s := streamName("batch-cont")
	noType := batchMsg(uuid.New(), `{}`)
	delete(noType.Metadata, "type")
	for _, k := range []struct {
		name string
		reqs func(corr *shared.UUID) []*streams.BatchAppendReq
	}{
		{"no correlation id", func(*shared.UUID) []*streams.BatchAppendReq {
			return []*streams.BatchAppendReq{{ProposedMessages: msgs(batchMsg(uuid.New(), `{}`)), IsFinal: true}}
		}},
		{"bad event in a continuation", func(corr *shared.UUID) []*streams.BatchAppendReq {
			return []*streams.BatchAppendReq{
				{CorrelationId: corr, Options: batchOpts(s, "any"), ProposedMessages: msgs(batchMsg(uuid.New(), `{}`))},
				{CorrelationId: corr, ProposedMessages: msgs(noType), IsFinal: true},
			}
		}},
		{"invalid stream at a final continuation", func(corr *shared.UUID) []*streams.BatchAppendReq {
			return []*streams.BatchAppendReq{
				{CorrelationId: corr, Options: batchOpts("", "any"), ProposedMessages: msgs(batchMsg(uuid.New(), `{}`))},
				{CorrelationId: corr, IsFinal: true},
			}
		}},
	} {
		call := openBatch(t, ctxT(t), sc)
		sendAll(t, call, k.reqs(structuredUUID(uuid.New()))...)
		_ = call.CloseSend()
		_, err := call.Recv()
		if st, _ := status.FromError(err); st.Code() != codes.Unknown || st.Message() != "Exception was thrown by handler." {
			t.Errorf("%s: call ended with %v, want Unknown \"Exception was thrown by handler.\"", k.name, err)
		}
	}
}

func TestBatchAppendSecureMode(t *testing.T) {
	srv := startSecureServer(t)
	conn := dialTLS(t, srv)
	sc := streams.NewStreamsClient(conn)
	s := streamName("batch-secure")
	basic := func(user, pass string) context.Context {
		return metadata.AppendToOutgoingContext(ctxT(t), "authorization", basicAuth(user, pass))
	}

	// Access is checked on the options message and answered at once; the
	// refused correlation's later messages are ignored.
	for _, k := range []struct {
		name   string
		ctx    context.Context
		stream string
	}{{"anonymous", ctxT(t), s}, {"ops on a system stream", basic("ops", "changeit"), "$" + s},
		// The stream "": StreamIdentifier's conversion hands the access
		// check null, which the legacy policy denies to everyone
		// (Streams.BatchAppend.cs 147-156, StreamIdentifier.cs 13-20,
		// LegacyStreamPermissionAssertion.cs 47-51).
		{"admin on the stream \"\"", basic("admin", "changeit"), ""}} {
		corr := structuredUUID(uuid.New())
		call := openBatch(t, k.ctx, sc)
		sendAll(t, call, &streams.BatchAppendReq{CorrelationId: corr, Options: batchOpts(k.stream, "any"), ProposedMessages: msgs(batchMsg(uuid.New(), `{}`))})
		r := recvOne(t, call)
		var ad shared.AccessDenied
		wantError(t, k.name, r, codes.PermissionDenied, "AccessDenied", &ad)
		wantStream(t, k.name, r, k.stream)
		sendAll(t, call, &streams.BatchAppendReq{CorrelationId: corr, ProposedMessages: msgs(batchMsg(uuid.New(), `{}`)), IsFinal: true})
		if rest := closeAndDrain(t, call); len(rest) != 0 {
			t.Errorf("%s: answers after access denied: %v", k.name, rest)
		}
	}
	// No stream identifier: converting null throws before the access
	// check decides, so even an anonymous caller gets the BadRequest.
	noSID := batchOpts(s, "any")
	noSID.StreamIdentifier = nil
	call := openBatch(t, ctxT(t), sc)
	sendAll(t, call, &streams.BatchAppendReq{CorrelationId: structuredUUID(uuid.New()), Options: noSID, ProposedMessages: msgs(batchMsg(uuid.New(), `{}`)), IsFinal: true})
	wantBadRequest(t, "anonymous without stream identifier", recvOne(t, call), "Object reference not set to an instance of an object.")
	closeAndDrain(t, call)
	// Bad credentials: the call itself fails.
	call, err := sc.BatchAppend(basic("admin", "wrong"))
	if err == nil {
		_ = call.Send(&streams.BatchAppendReq{CorrelationId: structuredUUID(uuid.New()), Options: batchOpts(s, "any"), IsFinal: true})
		_ = call.CloseSend()
		_, err = call.Recv()
	}
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("bad credentials: %v, want Unauthenticated", err)
	}
	// Good credentials write.
	got := batchCall(t, basic("admin", "changeit"), sc, []*streams.BatchAppendReq{{CorrelationId: structuredUUID(uuid.New()),
		Options: batchOpts(s, "any"), ProposedMessages: msgs(batchMsg(uuid.New(), `{}`)), IsFinal: true}})
	if len(got) != 1 {
		t.Errorf("%d answers, want 1", len(got))
	}
	for _, r := range got {
		if r.GetSuccess() == nil || r.GetSuccess().GetCurrentRevision() != 0 {
			t.Errorf("admin batch: %v", r)
		}
	}
}
