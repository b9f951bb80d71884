package esdbserver

import (
	"context"
	"errors"
	"io"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/emptypb"
)

// BatchAppend follows KurrentDB's own server, not only the .proto files
// (checked against kurrent-io/KurrentDB, src/KurrentDB.Core/Services/
// Transport/Grpc/Streams.BatchAppend.cs, Status.cs, BatchAppendResp.cs,
// WrongExpectedVersion.cs and MetadataHelpers.cs; the 24.x/25.x file
// src/EventStore.Core/Services/Transport/Grpc/Streams.BatchAppend.cs of
// EventStore/EventStore behaves the same). What a client can see:
//
//   - A message with options opens its correlation id's batch. Each such
//     message is checked in this order: write access on the stream (else an
//     AccessDenied answer at once), a stream identifier present (else
//     BadRequest), a deadline still ahead (else Timeout). A correlation that
//     is already open keeps its first options. Messages of a correlation that
//     is not open are ignored without an answer.
//   - The deadline is the smaller of the options' deadline and the server's
//     write timeout (2 s). It runs from the options message: a batch still
//     open then is answered Timeout (structured correlation id), and a later
//     is_final for it is ignored.
//   - The size limit is checked after each message: over it, the batch is
//     answered MaximumAppendSizeExceeded at once and forgotten.
//   - is_final writes the batch; the answer echoes the final message's
//     correlation id and names the stream; expected_stream_position is never
//     set in answers.
//   - Errors are google.rpc.Status values whose message is the detail's type
//     name: WrongExpectedVersion is AlreadyExists, StreamDeleted is NotFound,
//     AccessDenied is PermissionDenied, Timeout is DeadlineExceeded,
//     MaximumAppendSizeExceeded and BadRequest are InvalidArgument, anything
//     else is Unknown.
//   - A malformed message (bad correlation or event id, missing type or
//     content-type, bad expected position, invalid stream name at is_final)
//     is answered BadRequest carrying the .NET exception text when the
//     message has options; without options KurrentDB's error path itself
//     fails (it reads the options' stream) and the whole call ends with
//     Unknown "Exception was thrown by handler.". We do the same.
//
// Where we differ on purpose: KurrentDB's end of call after the client
// half-closes is racy (it may end after the first answer that follows the
// half-close, dropping later ones, or never end); we answer every batch
// still in flight or open (open ones time out within 2 s) and then end the
// call with OK. A stream named "$all" is access denied on a secure server
// (authorize, as KurrentDB's legacy policy does) and written like any other
// on an insecure one, as by Append (nothing on KurrentDB's write path
// refuses the name: ClientMessage.WriteEvents, SystemNames.cs 62-64). The stream "" is
// access denied on a secure server (KurrentDB's StreamIdentifier makes it
// null, which the legacy policy denies) and BadRequest at is_final on an
// insecure one.

// batchWriteTimeout is KurrentDB's WriteTimeoutMs default (2000 ms,
// ClusterVNodeOptions.cs), the upper bound of every batch's deadline.
const batchWriteTimeout = 2 * time.Second

// batchMaxRecordSize is TFConsts.EffectiveMaxLogRecordSize (16 MiB less
// 10,000 bytes): KurrentDB's Event constructor refuses a bigger event.
const batchMaxRecordSize = 16<<20 - 10000

// errBatchHandler is what ASP.NET Core's gRPC answers when KurrentDB's
// BatchAppend handler throws (without detailed errors).
var errBatchHandler = status.Error(codes.Unknown, "Exception was thrown by handler.")

// batch is one open correlation: events collected until is_final.
type batch struct {
	name string
	exp  expectation
	evs  []proposed
	size int
}

// batchCall is the state of one BatchAppend call.
type batchCall struct {
	h      *streamsService
	stream streams.Streams_BatchAppendServer
	ctx    context.Context

	mu      sync.Mutex
	pending map[[16]byte]*batch

	// work counts open batches and writes in flight; the call ends when it
	// drops to zero after the client half-closed.
	work sync.WaitGroup

	sendMu  sync.Mutex
	closed  bool // the handler returned: nothing may be sent any more
	sendErr error
}

// BatchAppend serves KurrentDB's bidirectional batch append (see the
// comment above for the behaviours checked against KurrentDB). Finished
// batches are written concurrently through the store's one write path, so
// several batches of one call share fsyncs and may be answered out of order.
func (h *streamsService) BatchAppend(stream streams.Streams_BatchAppendServer) error {
	c := &batchCall{h: h, stream: stream, ctx: stream.Context(), pending: map[[16]byte]*batch{}}
	defer func() {
		c.sendMu.Lock()
		c.closed = true
		c.sendMu.Unlock()
	}()
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if err := c.handle(req); err != nil {
			return err
		}
	}
	done := make(chan struct{})
	go func() {
		c.work.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-c.ctx.Done():
		return status.FromContextError(c.ctx.Err()).Err()
	}
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	return c.sendErr
}

// handle processes one request message; an error ends the call.
func (c *batchCall) handle(req *streams.BatchAppendReq) error {
	opts := req.GetOptions()
	key, msg := batchUUID(req.GetCorrelationId())
	if msg != "" {
		return c.badRequest(req, msg)
	}
	if opts != nil {
		sid := opts.GetStreamIdentifier()
		// KurrentDB converts the identifier to a string for the access
		// check (Streams.BatchAppend.cs 147-149): a missing one throws a
		// NullReferenceException there (StreamIdentifier.cs 14), which the
		// request loop answers BadRequest with .NET's message (270-277), so
		// its own "Required field StreamIdentifier not set." (158-166) is
		// never sent, whoever the caller. The stream "" becomes null, which
		// a secure server denies (authorize).
		if sid == nil {
			return c.badRequest(req, "Object reference not set to an instance of an object.")
		}
		if c.h.s.authorize(c.ctx, string(sid.GetStreamName()), aclWrite) != nil {
			c.send(&streams.BatchAppendResp{CorrelationId: req.GetCorrelationId(), StreamIdentifier: sid, Result: batchError(statusAccessDenied())})
			return nil
		}
		timeout := min(batchRequestedTimeout(opts), batchWriteTimeout)
		if timeout <= 0 {
			c.send(&streams.BatchAppendResp{CorrelationId: req.GetCorrelationId(), StreamIdentifier: sid, Result: batchError(statusTimeout())})
			return nil
		}
		c.mu.Lock()
		_, open := c.pending[key]
		c.mu.Unlock()
		if !open {
			exp, msg := batchExpectation(opts)
			if msg != "" {
				return c.badRequest(req, msg)
			}
			c.work.Add(1)
			c.mu.Lock()
			c.pending[key] = &batch{name: string(sid.GetStreamName()), exp: exp}
			c.mu.Unlock()
			// Like KurrentDB's timer, this one times out whatever batch has
			// this correlation id when it fires, even one opened after this
			// one was finished.
			time.AfterFunc(timeout, func() { c.expire(key) })
		}
	}
	c.mu.Lock()
	b := c.pending[key]
	c.mu.Unlock()
	if b == nil {
		return nil
	}
	for _, m := range req.GetProposedMessages() {
		ev, size, msg := batchEvent(m)
		if msg != "" {
			// The events before this one stay in the batch, which stays
			// open, as in KurrentDB.
			return c.badRequest(req, msg)
		}
		b.evs = append(b.evs, ev)
		b.size += size
	}
	if b.size > c.h.s.cfg.MaxAppendSize {
		if c.take(key) != nil {
			c.work.Done()
		}
		n := c.h.s.cfg.MaxAppendSize
		c.send(&streams.BatchAppendResp{CorrelationId: req.GetCorrelationId(), StreamIdentifier: batchStreamID(b.name),
			Result: batchError(batchStatus(codes.InvalidArgument, "MaximumAppendSizeExceeded",
				&shared.MaximumAppendSizeExceeded{MaxAppendSize: uint32(min(n, math.MaxUint32))}))})
		return nil
	}
	if !req.GetIsFinal() || c.take(key) == nil {
		return nil
	}
	// The open batch's share of work passes to its write.
	if b.name == "" || b.name == "$$" {
		c.work.Done()
		return c.badRequest(req, "Invalid stream ID: "+b.name+" (Parameter 'eventStreamIds')")
	}
	corr := req.GetCorrelationId()
	go func() {
		defer c.work.Done()
		c.send(c.commit(corr, b))
	}()
	return nil
}

// badRequest answers a malformed message as KurrentDB's catch-all does:
// BadRequest naming the message's own options' stream. Without options
// KurrentDB's handler fails there, and the call ends.
func (c *batchCall) badRequest(req *streams.BatchAppendReq, msg string) error {
	opts := req.GetOptions()
	if opts == nil {
		return errBatchHandler
	}
	c.send(&streams.BatchAppendResp{CorrelationId: req.GetCorrelationId(), StreamIdentifier: opts.GetStreamIdentifier(),
		Result: batchError(batchStatus(codes.InvalidArgument, "BadRequest", &shared.BadRequest{Message: msg}))})
	return nil
}

// take removes and returns the open batch of a correlation, if any.
func (c *batchCall) take(key [16]byte) *batch {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.pending[key]
	delete(c.pending, key)
	return b
}

// expire answers Timeout for a batch still open at its deadline.
func (c *batchCall) expire(key [16]byte) {
	b := c.take(key)
	if b == nil {
		return
	}
	defer c.work.Done()
	c.send(&streams.BatchAppendResp{CorrelationId: wireUUID(key, false), StreamIdentifier: batchStreamID(b.name), Result: batchError(statusTimeout())})
}

func (c *batchCall) send(r *streams.BatchAppendResp) {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if c.closed || c.sendErr != nil {
		return
	}
	c.sendErr = c.stream.Send(r)
}

// commit writes a finished batch through the store's one write path and
// builds its answer.
func (c *batchCall) commit(corr *shared.UUID, b *batch) *streams.BatchAppendResp {
	resp := &streams.BatchAppendResp{CorrelationId: corr, StreamIdentifier: batchStreamID(b.name)}
	res := c.h.s.store.submit(&writeOp{kind: opAppend, stream: b.name, expected: b.exp, events: b.evs})
	var (
		wv *wrongVersionError
		sd *streamDeletedError
	)
	switch {
	case res.err == nil:
		succ := &streams.BatchAppendResp_Success{}
		if res.last < 0 {
			succ.CurrentRevisionOption = &streams.BatchAppendResp_Success_NoStream{NoStream: &emptypb.Empty{}}
		} else {
			succ.CurrentRevisionOption = &streams.BatchAppendResp_Success_CurrentRevision{CurrentRevision: uint64(res.last)}
		}
		if res.pos == 0 {
			succ.PositionOption = &streams.BatchAppendResp_Success_NoPosition{NoPosition: &emptypb.Empty{}}
		} else {
			succ.PositionOption = &streams.BatchAppendResp_Success_Position{Position: &shared.AllStreamPosition{CommitPosition: res.pos, PreparePosition: res.pos}}
		}
		resp.Result = &streams.BatchAppendResp_Success_{Success: succ}
	case errors.As(res.err, &wv):
		resp.Result = batchError(batchStatus(codes.AlreadyExists, "WrongExpectedVersion", batchWrongVersion(wv.current, b.exp)))
	case errors.As(res.err, &sd):
		resp.Result = batchError(batchStatus(codes.NotFound, "StreamDeleted", &shared.StreamDeleted{StreamIdentifier: batchStreamID(b.name)}))
	case errors.Is(res.err, errStoreClosed):
		// KurrentDB's "not ready" answer: code 0 with an Empty detail.
		resp.Result = batchError(batchStatus(codes.OK, "Server Is Not Ready", &emptypb.Empty{}))
	default:
		resp.Result = batchError(batchStatus(codes.Unknown, "Unknown", &shared.Unknown{}))
	}
	return resp
}

func batchStreamID(name string) *shared.StreamIdentifier {
	return &shared.StreamIdentifier{StreamName: []byte(name)}
}

func batchError(st *rpcstatus.Status) *streams.BatchAppendResp_Error {
	return &streams.BatchAppendResp_Error{Error: st}
}

// batchStatus builds a google.rpc.Status. KurrentDB's status.proto has one
// Any in field 3 where Google's has a repeated one; a single element
// encodes the same.
func batchStatus(code codes.Code, msg string, detail proto.Message) *rpcstatus.Status {
	st := &rpcstatus.Status{Code: int32(code), Message: msg}
	if a, err := anypb.New(detail); err == nil {
		st.Details = []*anypb.Any{a}
	}
	return st
}

func statusAccessDenied() *rpcstatus.Status {
	return batchStatus(codes.PermissionDenied, "AccessDenied", &shared.AccessDenied{})
}

func statusTimeout() *rpcstatus.Status {
	return batchStatus(codes.DeadlineExceeded, "Timeout", &shared.Timeout{})
}

// batchWrongVersion is the WrongExpectedVersion detail: the actual revision
// (or no stream) and the batch's expectation.
func batchWrongVersion(current int64, exp expectation) *shared.WrongExpectedVersion {
	w := &shared.WrongExpectedVersion{}
	if current < 0 {
		w.CurrentStreamRevisionOption = &shared.WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &emptypb.Empty{}}
	} else {
		w.CurrentStreamRevisionOption = &shared.WrongExpectedVersion_CurrentStreamRevision{CurrentStreamRevision: uint64(current)}
	}
	switch exp.kind {
	case expAny:
		w.ExpectedStreamPositionOption = &shared.WrongExpectedVersion_ExpectedAny{ExpectedAny: &emptypb.Empty{}}
	case expNoStream:
		w.ExpectedStreamPositionOption = &shared.WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &emptypb.Empty{}}
	case expExists:
		w.ExpectedStreamPositionOption = &shared.WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &emptypb.Empty{}}
	case expExact:
		w.ExpectedStreamPositionOption = &shared.WrongExpectedVersion_ExpectedStreamPosition{ExpectedStreamPosition: exp.rev}
	}
	return w
}

// batchRequestedTimeout is how long the options allow: a duration, or a
// point in time (the 21.10 field); none means no limit of its own.
func batchRequestedTimeout(o *streams.BatchAppendReq_Options) time.Duration {
	switch d := o.GetDeadlineOption().(type) {
	case *streams.BatchAppendReq_Options_Deadline:
		return d.Deadline.AsDuration()
	case *streams.BatchAppendReq_Options_Deadline_21_10_0:
		return time.Until(d.Deadline_21_10_0.AsTime())
	}
	return math.MaxInt64
}

// batchExpectation decodes the expected stream position; msg is the .NET
// exception text KurrentDB answers a bad one with.
func batchExpectation(o *streams.BatchAppendReq_Options) (exp expectation, msg string) {
	switch e := o.GetExpectedStreamPosition().(type) {
	case *streams.BatchAppendReq_Options_Any:
		return expectation{kind: expAny}, ""
	case *streams.BatchAppendReq_Options_NoStream:
		return expectation{kind: expNoStream}, ""
	case *streams.BatchAppendReq_Options_StreamExists:
		return expectation{kind: expExists}, ""
	case *streams.BatchAppendReq_Options_StreamPosition:
		switch {
		case e.StreamPosition == math.MaxUint64:
			// StreamRevision.End, which KurrentDB reads as -1: no stream.
			return expectation{kind: expNoStream}, ""
		case e.StreamPosition > math.MaxInt64:
			return expectation{}, "Specified argument was out of the range of valid values. (Parameter 'value')"
		}
		return expectation{kind: expExact, rev: e.StreamPosition}, ""
	}
	return expectation{}, rpcExceptionText("InvalidArgument",
		"'None' is not a valid EventStore.Client.Streams.BatchAppendReq+Types+Options+ExpectedStreamPositionOneofCase")
}

// rpcExceptionText is the Message of a .NET RpcException.
func rpcExceptionText(code, detail string) string {
	return `Status(StatusCode="` + code + `", Detail="` + detail + `")`
}

// batchUUID decodes a correlation or event id as KurrentDB's Uuid.FromDto
// does; msg is the exception text when it cannot.
func batchUUID(u *shared.UUID) (id [16]byte, msg string) {
	switch v := u.GetValue().(type) {
	case *shared.UUID_Structured_:
		id, _ = eventID(u) // cannot fail for the structured form
		return id, ""
	case *shared.UUID_String_:
		if id, ok := parseGUID(v.String_); ok {
			return id, ""
		}
		return id, "Unrecognized Guid format."
	}
	if u == nil {
		return id, "Value cannot be null. (Parameter 'dto')"
	}
	return id, "Invalid argument: None (Parameter 'dto')"
}

// parseGUID accepts the text forms .NET's Guid.Parse reads most often:
// 32 digits, or 8-4-4-4-12 bare, in braces or in parentheses.
func parseGUID(s string) ([16]byte, bool) {
	s = strings.TrimSpace(s)
	if len(s) == 38 && (s[0] == '{' && s[37] == '}' || s[0] == '(' && s[37] == ')') {
		s = s[1:37]
	}
	switch len(s) {
	case 32:
	case 36:
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return [16]byte{}, false
		}
	default:
		return [16]byte{}, false
	}
	return parseUUIDString(s)
}

// batchEvent validates one proposed message in KurrentDB's order (metadata,
// id, then the Event constructor's checks); msg is the exception text.
func batchEvent(m *streams.BatchAppendReq_ProposedMessage) (ev proposed, size int, msg string) {
	md := m.GetMetadata()
	typ, ok := md["type"]
	if !ok {
		return ev, 0, rpcExceptionText("InvalidArgument", "Required Metadata Property 'type' is missing")
	}
	ct, ok := md["content-type"]
	if !ok {
		return ev, 0, rpcExceptionText("InvalidArgument", "Required Metadata Property 'content-type' is missing")
	}
	id, msg := batchUUID(m.GetId())
	if msg != "" {
		return ev, 0, msg
	}
	if id == ([16]byte{}) {
		return ev, 0, "Empty eventId provided. (Parameter 'eventId')"
	}
	if typ == "" {
		return ev, 0, "Empty eventType provided. (Parameter 'eventType')"
	}
	size = len(m.GetData()) + len(m.GetCustomMetadata()) + 2*utf16Len(typ)
	if size > batchMaxRecordSize {
		return ev, 0, "Record is too big. (Parameter 'data')"
	}
	return proposed{ID: id, Type: typ, IsJSON: ct == "application/json", Metadata: m.GetCustomMetadata(), Data: m.GetData()}, size, ""
}

// utf16Len is the length of s in UTF-16 code units (.NET's string.Length).
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}
