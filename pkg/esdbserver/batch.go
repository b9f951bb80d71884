package esdbserver

import (
	"errors"
	"io"
	"math"
	"strconv"
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

// batchDefaultTimeout is how long a batch may take when its options carry
// no deadline (KurrentDB's default for BatchAppend is two minutes).
const batchDefaultTimeout = 2 * time.Minute

// batch is one correlation id's append being assembled from BatchAppendReq
// messages until is_final.
type batch struct {
	corr     *shared.UUID
	id       *shared.StreamIdentifier
	name     string
	exp      expectation
	deadline time.Time
	evs      []proposed
	size     int
	err      error // first failure (validation, size, access); answered at is_final
}

// BatchAppend serves KurrentDB's bidirectional batch append: messages carry
// a correlation id; the first message of a correlation carries the options
// (stream, expected position, deadline); proposed messages accumulate until
// is_final, then the batch goes through the same write path as Append (the
// single writer's group commit, expected-revision checks, idempotence) and
// one BatchAppendResp answers it with the same correlation id. Batches are
// submitted concurrently, so several correlations in flight on one call
// share fsyncs and may be answered out of order. Failures of one batch are
// in-band google.rpc.Status results (with the shared.proto details KurrentDB
// attaches) and do not end the call.
func (h *streamsService) BatchAppend(stream streams.Streams_BatchAppendServer) error {
	var (
		sendMu  sync.Mutex
		sendErr error
		wg      sync.WaitGroup
	)
	send := func(r *streams.BatchAppendResp) {
		sendMu.Lock()
		defer sendMu.Unlock()
		if sendErr == nil {
			sendErr = stream.Send(r)
		}
	}
	open := map[string]*batch{}
	var recvErr error
	for {
		req, err := stream.Recv()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				recvErr = err
			}
			break
		}
		key, err := correlationKey(req.GetCorrelationId())
		if err != nil {
			// Without a usable correlation id there is nobody to answer.
			recvErr = err
			break
		}
		b := open[key]
		if b == nil {
			b = h.newBatch(stream, req)
			open[key] = b
		}
		if b.err == nil {
			b.err = h.addProposed(b, req.GetProposedMessages())
		}
		if !req.GetIsFinal() {
			continue
		}
		delete(open, key)
		wg.Add(1)
		go func() {
			defer wg.Done()
			send(h.commitBatch(b))
		}()
	}
	wg.Wait()
	// Batches never finalised are dropped, as KurrentDB drops them.
	if recvErr != nil {
		return recvErr
	}
	sendMu.Lock()
	defer sendMu.Unlock()
	return sendErr
}

// correlationKey is a map key for a correlation id in either UUID form.
func correlationKey(u *shared.UUID) (string, error) {
	if u == nil {
		return "", status.Error(codes.InvalidArgument, "correlation id is required")
	}
	id, err := eventID(u)
	if err != nil {
		return "", status.Error(codes.InvalidArgument, "invalid correlation id")
	}
	return string(id[:]), nil
}

// newBatch starts a correlation from its first message, which must carry
// the options; what is wrong with them is recorded in the batch's err.
func (h *streamsService) newBatch(stream streams.Streams_BatchAppendServer, req *streams.BatchAppendReq) *batch {
	b := &batch{corr: req.GetCorrelationId(), deadline: time.Now().Add(batchDefaultTimeout)}
	opts := req.GetOptions()
	if opts == nil {
		b.err = status.Error(codes.InvalidArgument, "the first message of a batch must carry options")
		return b
	}
	b.id = opts.GetStreamIdentifier()
	switch d := opts.GetDeadlineOption().(type) {
	case *streams.BatchAppendReq_Options_Deadline:
		b.deadline = time.Now().Add(d.Deadline.AsDuration())
	case *streams.BatchAppendReq_Options_Deadline_21_10_0:
		b.deadline = d.Deadline_21_10_0.AsTime()
	}
	name, err := streamName(b.id)
	if err != nil {
		b.err = err
		return b
	}
	b.name = name
	switch e := opts.GetExpectedStreamPosition().(type) {
	case *streams.BatchAppendReq_Options_Any:
		b.exp = expectation{kind: expAny}
	case *streams.BatchAppendReq_Options_NoStream:
		b.exp = expectation{kind: expNoStream}
	case *streams.BatchAppendReq_Options_StreamExists:
		b.exp = expectation{kind: expExists}
	case *streams.BatchAppendReq_Options_StreamPosition:
		if e.StreamPosition > math.MaxInt64-1 {
			b.err = status.Error(codes.InvalidArgument, "expected revision out of range")
			return b
		}
		b.exp = expectation{kind: expExact, rev: e.StreamPosition}
	default:
		b.err = status.Error(codes.InvalidArgument, "expected stream position is required")
		return b
	}
	if name == "$all" {
		b.err = status.Error(codes.InvalidArgument, "cannot append to $all")
		return b
	}
	b.err = h.s.authorize(stream.Context(), name, aclWrite)
	return b
}

// addProposed validates and collects a message's proposed events, counting
// them against the maximum append size exactly as Append does.
func (h *streamsService) addProposed(b *batch, msgs []*streams.BatchAppendReq_ProposedMessage) error {
	for _, m := range msgs {
		ev, size, err := proposedFrom(batchWireOf(m))
		if err != nil {
			return err
		}
		b.size += size
		if b.size > h.s.cfg.MaxAppendSize {
			b.evs = nil
			return errAppendTooLarge
		}
		b.evs = append(b.evs, ev)
	}
	return nil
}

// errAppendTooLarge marks a batch over the maximum append size.
var errAppendTooLarge = errors.New("maximum append size exceeded")

// batchWireOf is the validator's view of a batch's proposed message (the
// same fields as Append's).
func batchWireOf(m *streams.BatchAppendReq_ProposedMessage) *appendReqWire {
	return wireOf(&streams.AppendReq_ProposedMessage{Id: m.GetId(), Metadata: m.GetMetadata(), CustomMetadata: m.GetCustomMetadata(), Data: m.GetData()})
}

// commitBatch writes a finished batch through the store's one write path
// and builds its answer.
func (h *streamsService) commitBatch(b *batch) *streams.BatchAppendResp {
	resp := &streams.BatchAppendResp{CorrelationId: b.corr, StreamIdentifier: b.id}
	switch b.exp.kind {
	case expAny:
		resp.ExpectedStreamPosition = &streams.BatchAppendResp_Any{Any: &emptypb.Empty{}}
	case expNoStream:
		resp.ExpectedStreamPosition = &streams.BatchAppendResp_NoStream{NoStream: &emptypb.Empty{}}
	case expExists:
		resp.ExpectedStreamPosition = &streams.BatchAppendResp_StreamExists{StreamExists: &emptypb.Empty{}}
	case expExact:
		resp.ExpectedStreamPosition = &streams.BatchAppendResp_StreamPosition{StreamPosition: b.exp.rev}
	}
	err := b.err
	if err == nil && time.Now().After(b.deadline) {
		err = errBatchTimeout
	}
	if err == nil {
		res := h.s.store.submit(&writeOp{kind: opAppend, stream: b.name, expected: b.exp, events: b.evs})
		if res.err == nil {
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
			return resp
		}
		err = res.err
	}
	resp.Result = &streams.BatchAppendResp_Error{Error: h.batchStatus(b, err)}
	return resp
}

// errBatchTimeout: the batch's deadline passed before it was complete.
var errBatchTimeout = errors.New("batch deadline exceeded")

// batchStatus is the google.rpc.Status KurrentDB answers a failed batch
// with: the code the unary error would have, and the shared.proto detail.
func (h *streamsService) batchStatus(b *batch, err error) *rpcstatus.Status {
	var (
		wv     *wrongVersionError
		sd     *streamDeletedError
		detail proto.Message
		code   codes.Code
		msg    string
	)
	switch {
	case errors.As(err, &wv):
		w := &shared.WrongExpectedVersion{}
		if wv.current < 0 {
			w.CurrentStreamRevisionOption = &shared.WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &emptypb.Empty{}}
		} else {
			w.CurrentStreamRevisionOption = &shared.WrongExpectedVersion_CurrentStreamRevision{CurrentStreamRevision: uint64(wv.current)}
		}
		switch wv.expected.kind {
		case expAny:
			w.ExpectedStreamPositionOption = &shared.WrongExpectedVersion_ExpectedAny{ExpectedAny: &emptypb.Empty{}}
		case expNoStream:
			w.ExpectedStreamPositionOption = &shared.WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &emptypb.Empty{}}
		case expExists:
			w.ExpectedStreamPositionOption = &shared.WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &emptypb.Empty{}}
		case expExact:
			w.ExpectedStreamPositionOption = &shared.WrongExpectedVersion_ExpectedStreamPosition{ExpectedStreamPosition: wv.expected.rev}
		}
		code, msg, detail = codes.FailedPrecondition, "Append failed due to WrongExpectedVersion.", w
	case errors.As(err, &sd):
		code, msg = codes.FailedPrecondition, "Event stream '"+sd.stream+"' is deleted."
		detail = &shared.StreamDeleted{StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(sd.stream)}}
	case errors.Is(err, errAppendTooLarge):
		n := h.s.cfg.MaxAppendSize
		code, msg = codes.InvalidArgument, "Maximum Append Size of "+strconv.Itoa(n)+" Exceeded."
		detail = &shared.MaximumAppendSizeExceeded{MaxAppendSize: uint32(min(n, math.MaxUint32))}
	case errors.Is(err, errBatchTimeout):
		code, msg, detail = codes.DeadlineExceeded, "Timeout", &shared.Timeout{}
	default:
		st := status.Convert(storeError(err))
		code, msg = st.Code(), st.Message()
		switch code {
		case codes.PermissionDenied:
			detail = &shared.AccessDenied{}
		case codes.InvalidArgument:
			detail = &shared.BadRequest{Message: msg}
		default:
			detail = &shared.Unknown{}
		}
	}
	out := &rpcstatus.Status{Code: int32(code), Message: msg}
	if a, err := anypb.New(detail); err == nil {
		out.Details = []*anypb.Any{a}
	}
	return out
}
