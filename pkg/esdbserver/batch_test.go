package esdbserver_test

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/craftledger/craftledger/pkg/esdbserver"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
)

func structuredUUID(u uuid.UUID) *shared.UUID {
	return &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{
		MostSignificantBits:  int64(binary.BigEndian.Uint64(u[0:8])),
		LeastSignificantBits: int64(binary.BigEndian.Uint64(u[8:16])),
	}}}
}

func corrKey(u *shared.UUID) uuid.UUID {
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

// batchCall sends reqs on one BatchAppend call, half-closes it and returns
// every answer by correlation id (failing on a duplicate answer).
func batchCall(t *testing.T, ctx context.Context, sc streams.StreamsClient, reqs []*streams.BatchAppendReq) map[uuid.UUID]*streams.BatchAppendResp {
	t.Helper()
	call, err := sc.BatchAppend(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reqs {
		if err := call.Send(r); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	if err := call.CloseSend(); err != nil {
		t.Fatal(err)
	}
	out := map[uuid.UUID]*streams.BatchAppendResp{}
	for {
		r, err := call.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("recv: %v", err)
		}
		k := corrKey(r.GetCorrelationId())
		if _, dup := out[k]; dup {
			t.Fatalf("two answers for correlation %s", k)
		}
		out[k] = r
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
		{CorrelationId: structuredUUID(ca), Options: batchOpts(a, "no_stream"), ProposedMessages: []*streams.BatchAppendReq_ProposedMessage{batchMsg(aIDs[0], `{"n":0}`), batchMsg(aIDs[1], `{"n":1}`)}},
		{CorrelationId: structuredUUID(cb), Options: batchOpts(b, "any"), ProposedMessages: []*streams.BatchAppendReq_ProposedMessage{batchMsg(bIDs[0], `{"n":0}`)}},
		{CorrelationId: structuredUUID(cc), Options: batchOpts(conflict, uint64(5)), ProposedMessages: []*streams.BatchAppendReq_ProposedMessage{batchMsg(uuid.New(), `{}`)}, IsFinal: true},
		{CorrelationId: structuredUUID(cb), ProposedMessages: []*streams.BatchAppendReq_ProposedMessage{batchMsg(bIDs[1], `{"n":1}`)}, IsFinal: true},
		{CorrelationId: structuredUUID(ca), ProposedMessages: []*streams.BatchAppendReq_ProposedMessage{batchMsg(aIDs[2], `{"n":2}`)}, IsFinal: true},
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
		if string(r.GetStreamIdentifier().GetStreamName()) != stream {
			t.Errorf("%s: answer names stream %q", stream, r.GetStreamIdentifier().GetStreamName())
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

	st := got[cc].GetError()
	if st == nil || codes.Code(st.Code) != codes.FailedPrecondition || len(st.Details) != 1 {
		t.Fatalf("wrong expected version: %v", got[cc])
	}
	var wev shared.WrongExpectedVersion
	if err := st.Details[0].UnmarshalTo(&wev); err != nil {
		t.Fatalf("detail %v: %v", st.Details[0], err)
	}
	if wev.GetCurrentStreamRevision() != 0 || wev.GetExpectedStreamPosition() != 5 {
		t.Errorf("wrong expected version detail: %v", &wev)
	}
	if evs, _ := readStream(t, c, conflict, esdb.ReadStreamOptions{}, 100); len(evs) != 1 {
		t.Errorf("conflicting batch wrote: %d events", len(evs))
	}

	// Idempotent re-send of a's batch at the same expectation: the
	// original result, nothing written. A partial overlap is an error.
	ca2, cp := uuid.New(), uuid.New()
	again := batchCall(t, ctx, sc, []*streams.BatchAppendReq{
		{CorrelationId: structuredUUID(ca2), Options: batchOpts(a, "no_stream"), ProposedMessages: []*streams.BatchAppendReq_ProposedMessage{
			batchMsg(aIDs[0], `{"n":0}`), batchMsg(aIDs[1], `{"n":1}`), batchMsg(aIDs[2], `{"n":2}`)}, IsFinal: true},
		{CorrelationId: structuredUUID(cp), Options: batchOpts(b, uint64(0)), ProposedMessages: []*streams.BatchAppendReq_ProposedMessage{
			batchMsg(bIDs[1], `{"n":1}`), batchMsg(uuid.New(), `{}`)}, IsFinal: true},
	})
	if s1, s2 := got[ca].GetSuccess(), again[ca2].GetSuccess(); s2 == nil || s2.GetCurrentRevision() != s1.GetCurrentRevision() ||
		s2.GetPosition().GetCommitPosition() != s1.GetPosition().GetCommitPosition() {
		t.Errorf("idempotent re-send: %v, first answer %v", again[ca2], got[ca])
	}
	if evs, _ := readStream(t, c, a, esdb.ReadStreamOptions{}, 100); len(evs) != 3 {
		t.Errorf("re-send wrote: %d events", len(evs))
	}
	if again[cp].GetError() == nil {
		t.Errorf("partial overlap: %v, want an error", again[cp])
	}
	if evs, _ := readStream(t, c, b, esdb.ReadStreamOptions{}, 100); len(evs) != 2 {
		t.Errorf("partial overlap wrote: %d events", len(evs))
	}
}

func TestBatchAppendErrors(t *testing.T) {
	srv := startServer(t, esdbserver.Config{Insecure: true, MaxAppendSize: 1024})
	sc := insecureStreams(t, srv)
	c := connect(t, srv.URL())
	ctx := ctxT(t)

	dead, big, ok := streamName("batch-dead"), streamName("batch-big"), streamName("batch-ok")
	if _, err := c.AppendToStream(ctx, dead, esdb.AppendToStreamOptions{}, event("T", "{}")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TombstoneStream(ctx, dead, esdb.TombstoneStreamOptions{}); err != nil {
		t.Fatal(err)
	}
	cd, cbig, cok := uuid.New(), uuid.New(), uuid.New()
	half := `"` + strings.Repeat("x", 600) + `"`
	got := batchCall(t, ctx, sc, []*streams.BatchAppendReq{
		{CorrelationId: structuredUUID(cd), Options: batchOpts(dead, "any"), ProposedMessages: []*streams.BatchAppendReq_ProposedMessage{batchMsg(uuid.New(), `{}`)}, IsFinal: true},
		// Two messages each under the limit, together over it.
		{CorrelationId: structuredUUID(cbig), Options: batchOpts(big, "any"), ProposedMessages: []*streams.BatchAppendReq_ProposedMessage{batchMsg(uuid.New(), half)}},
		{CorrelationId: structuredUUID(cok), Options: batchOpts(ok, "no_stream"), ProposedMessages: []*streams.BatchAppendReq_ProposedMessage{batchMsg(uuid.New(), `{}`)}, IsFinal: true},
		{CorrelationId: structuredUUID(cbig), ProposedMessages: []*streams.BatchAppendReq_ProposedMessage{batchMsg(uuid.New(), half)}, IsFinal: true},
	})

	st := got[cd].GetError()
	var sd shared.StreamDeleted
	if st == nil || codes.Code(st.Code) != codes.FailedPrecondition || len(st.Details) != 1 || st.Details[0].UnmarshalTo(&sd) != nil ||
		string(sd.GetStreamIdentifier().GetStreamName()) != dead {
		t.Errorf("tombstoned stream: %v", got[cd])
	}
	st = got[cbig].GetError()
	var mx shared.MaximumAppendSizeExceeded
	if st == nil || codes.Code(st.Code) != codes.InvalidArgument || len(st.Details) != 1 || st.Details[0].UnmarshalTo(&mx) != nil ||
		mx.MaxAppendSize != 1024 {
		t.Errorf("oversize batch: %v", got[cbig])
	}
	if evs, err := readStream(t, c, big, esdb.ReadStreamOptions{}, 10); errCode(err) != esdb.ErrorCodeResourceNotFound || len(evs) != 0 {
		t.Errorf("oversize batch wrote %d events (%v)", len(evs), err)
	}
	if got[cok].GetSuccess().GetCurrentRevision() != 0 || got[cok].GetSuccess() == nil {
		t.Errorf("batch beside the failures: %v", got[cok])
	}
}

func TestBatchAppendSecureMode(t *testing.T) {
	cert, key := selfSignedCert(t)
	srv := startServer(t, esdbserver.Config{TLSCertFile: cert, TLSKeyFile: key})
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{InsecureSkipVerify: true})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	sc := streams.NewStreamsClient(conn)
	s := streamName("batch-secure")
	one := func() []*streams.BatchAppendReq {
		return []*streams.BatchAppendReq{{CorrelationId: structuredUUID(uuid.New()), Options: batchOpts(s, "any"),
			ProposedMessages: []*streams.BatchAppendReq_ProposedMessage{batchMsg(uuid.New(), `{}`)}, IsFinal: true}}
	}
	basic := func(user, pass string) context.Context {
		return metadata.AppendToOutgoingContext(ctxT(t), "authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
	}

	// No credentials: the batch is refused (access denied), nothing written.
	for _, r := range batchCall(t, ctxT(t), sc, one()) {
		var ad shared.AccessDenied
		if st := r.GetError(); st == nil || codes.Code(st.Code) != codes.PermissionDenied || len(st.Details) != 1 || st.Details[0].UnmarshalTo(&ad) != nil {
			t.Errorf("anonymous batch: %v", r)
		}
	}
	// Bad credentials: the call itself fails.
	call, err := sc.BatchAppend(basic("admin", "wrong"))
	if err == nil {
		_ = call.Send(one()[0])
		_ = call.CloseSend()
		_, err = call.Recv()
	}
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("bad credentials: %v, want Unauthenticated", err)
	}
	// Good credentials write.
	got := batchCall(t, basic("admin", "changeit"), sc, one())
	for _, r := range got {
		if r.GetSuccess().GetCurrentRevision() != 0 || r.GetSuccess() == nil {
			t.Errorf("admin batch: %v", r)
		}
	}
	if len(got) != 1 {
		t.Errorf("%d answers, want 1", len(got))
	}
}
