package esdbserver

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// streamsService implements event_store.client.streams.Streams (BatchAppend
// is in batch.go).
type streamsService struct {
	streams.UnimplementedStreamsServer
	s *Server
}

var empty = &shared.Empty{}

// streamName validates and returns the stream a request names.
func streamName(id *shared.StreamIdentifier) (string, error) {
	name := string(id.GetStreamName())
	if name == "" || name == "$$" {
		return "", status.Error(codes.InvalidArgument, "invalid stream name")
	}
	return name, nil
}

// wireExpectation decodes an append's expected revision (from the
// hand-decoded options) as KurrentDB's Streams.Append does: no case is
// InvalidArgument naming the .NET oneof enum; a revision goes through
// StreamRevision, which refuses values above int64 max except uint64 max
// (its End, which ToInt64 turns into -1, i.e. no stream); int64 max itself
// reaches the store. FuzzWireAppendReq compares it with appendExpectation,
// the same rules over the generated message.
func wireExpectation(w *appendReqWire) (expectation, error) {
	switch w.revKind {
	case revAny:
		return expectation{kind: expAny}, nil
	case revNoStream:
		return expectation{kind: expNoStream}, nil
	case revStreamExists:
		return expectation{kind: expExists}, nil
	case revRevision:
		return revisionExpectation(w.rev)
	}
	return expectation{}, noneNotValid("AppendReq+Types+Options+ExpectedStreamRevisionOneofCase")
}

// revisionExpectation is an exact expected revision as KurrentDB's
// StreamRevision(ulong).ToInt64() reads it (Transport/Common/StreamRevision.cs):
// above int64 max it throws (the handler's Unknown), except uint64 max,
// which means no stream.
func revisionExpectation(rev uint64) (expectation, error) {
	switch {
	case rev == math.MaxUint64:
		return expectation{kind: expNoStream}, nil
	case rev > math.MaxInt64:
		return expectation{}, errHandler
	}
	return expectation{kind: expExact, rev: rev}, nil
}

// errHandler is what ASP.NET Core's gRPC answers when a KurrentDB handler
// throws anything but an RpcException (detailed errors are off outside
// development mode).
var errHandler = errBatchHandler

// noneNotValid is RpcExceptions.InvalidArgument(oneofCase) for an unset
// oneof: the .NET type name of the request's oneof-case enum.
func noneNotValid(enum string) error {
	return status.Error(codes.InvalidArgument, "'None' is not a valid EventStore.Client.Streams."+enum)
}

// eventID decodes a proposed event id.
func eventID(u *shared.UUID) ([16]byte, error) {
	var id [16]byte
	switch v := u.GetValue().(type) {
	case *shared.UUID_Structured_:
		binary.BigEndian.PutUint64(id[0:], uint64(v.Structured.GetMostSignificantBits()))
		binary.BigEndian.PutUint64(id[8:], uint64(v.Structured.GetLeastSignificantBits()))
		return id, nil
	case *shared.UUID_String_:
		if id, ok := parseUUIDString(v.String_); ok {
			return id, nil
		}
	}
	return id, status.Error(codes.InvalidArgument, "invalid event id")
}

func wireUUID(id [16]byte, asString bool) *shared.UUID {
	if asString {
		return &shared.UUID{Value: &shared.UUID_String_{String_: uuidString(id)}}
	}
	return &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{
		MostSignificantBits:  int64(binary.BigEndian.Uint64(id[0:])),
		LeastSignificantBits: int64(binary.BigEndian.Uint64(id[8:])),
	}}}
}

// proposedEvent validates one proposed message. size is what it counts
// against the maximum append size, as KurrentDB counts it.
func proposedEvent(m *streams.AppendReq_ProposedMessage) (proposed, int, error) {
	return proposedFrom(wireOf(m))
}

// wireOf is the hand decoder's view (appendReqWire) of a generated
// proposed message.
func wireOf(m *streams.AppendReq_ProposedMessage) *appendReqWire {
	w := &appendReqWire{proposed: true, meta: m.GetCustomMetadata(), data: m.GetData()}
	if u := m.GetId(); u != nil {
		w.idSet = true
		switch v := u.GetValue().(type) {
		case *shared.UUID_Structured_:
			w.idKind, w.msb, w.lsb = 1, v.Structured.GetMostSignificantBits(), v.Structured.GetLeastSignificantBits()
		case *shared.UUID_String_:
			w.idKind, w.idStr = 2, v.String_
		}
	}
	md := m.GetMetadata()
	w.typ, w.hasType = md["type"]
	ct, ok := md["content-type"]
	w.hasCT, w.isJSON = ok, ct == "application/json"
	return w
}

// proposedSize checks a proposed message's required metadata and returns
// its size as KurrentDB's Event.SizeOnDisk counts it (UTF-16 type name).
// KurrentDB checks these (MetadataHelpers.ParseGrpcMetadata, then the
// size limits) before it looks at the event id or the type's value.
func proposedSize(w *appendReqWire) (int, error) {
	for _, k := range []struct {
		name string
		has  bool
	}{{"type", w.hasType}, {"content-type", w.hasCT}} {
		if !k.has {
			return 0, withTrailers(codes.InvalidArgument, "Required Metadata Property '"+k.name+"' is missing",
				"exception", "missing-required-metadata-property", "required-metadata-properties", "type,content-type")
		}
	}
	return len(w.data) + len(w.meta) + 2*utf16Len(w.typ), nil
}

// proposedFrom validates one proposed message (see proposedEvent).
func proposedFrom(w *appendReqWire) (proposed, int, error) {
	size, err := proposedSize(w)
	if err != nil {
		return proposed{}, 0, err
	}
	ev, err := eventFrom(w, size)
	return ev, size, err
}

// eventFrom builds the event of a proposed message whose metadata
// proposedSize accepted. What KurrentDB's Uuid.FromDto and Event
// constructor throw on — no id, an id with neither form, an unparsable
// string id, the all-zero id, an empty type, a record over the log's limit —
// ends the call with the handler's Unknown.
func eventFrom(w *appendReqWire, size int) (proposed, error) {
	var id [16]byte
	switch {
	case w.idKind == 1:
		binary.BigEndian.PutUint64(id[0:], uint64(w.msb))
		binary.BigEndian.PutUint64(id[8:], uint64(w.lsb))
	case w.idKind == 2:
		var ok bool
		if id, ok = parseUUIDString(w.idStr); !ok {
			return proposed{}, errHandler
		}
	default:
		return proposed{}, errHandler
	}
	if id == ([16]byte{}) || w.typ == "" || size > batchMaxRecordSize {
		return proposed{}, errHandler
	}
	return proposed{ID: id, Type: w.typ, IsJSON: w.isJSON, Metadata: w.meta, Data: w.data}, nil
}

func (h *streamsService) Append(stream streams.Streams_AppendServer) error {
	// Decoded by hand (wire.go), as the proposed messages are.
	var first appendReqWire
	err := stream.RecvMsg(&first)
	if errors.Is(err, io.EOF) {
		return errHandler // KurrentDB: no first message is an InvalidOperationException
	}
	if err != nil {
		return err
	}
	complete, err := h.append(stream, &first)
	if err != nil && !complete {
		drain(stream)
	}
	return err
}

// append serves one Append call; complete tells whether the client's
// stream was read to its end. Its checks come in the order of KurrentDB's
// Streams.Append.cs: the first message must be options (else the handler's
// Unknown), the expected revision, access, then each proposed message
// (anything else is Unknown): required metadata, size, id and type; the
// stream name last (ClientMessage.WriteEvents refuses "" and "$$" with an
// exception, so Unknown too).
func (h *streamsService) append(stream streams.Streams_AppendServer, first *appendReqWire) (complete bool, err error) {
	ctx := stream.Context()
	if !first.options {
		return false, errHandler
	}
	name := first.stream
	exp, err := wireExpectation(first)
	if err != nil {
		return false, err
	}
	// A revision of uint64 max is KurrentDB's "no stream", but a wrong
	// expected version still echoes it as that revision.
	echoMaxRevision := first.revKind == revRevision && first.rev == math.MaxUint64
	// KurrentDB converts the stream identifier to a string for the access
	// check (Streams.Append.cs 44), which throws when there is none, with
	// or without access checks.
	if !first.hasStream {
		return false, errHandler
	}
	// A secure server denies writing $all and "" at the access check, as
	// KurrentDB does. An insecure one (the passthrough provider) appends to
	// a stream named "$all" as to any other: nothing between the handler
	// and the log refuses the name (ClientMessage.WriteEvents refuses only
	// "" and "$$", SystemNames.cs 62-64; RequestManager's WriteEvents and
	// StorageWriterService.WritePrepares do not look at it).
	if err := h.s.authorize(ctx, name, aclWrite); err != nil {
		return false, err
	}
	var evs []proposed
	total := 0
	// Decoded by hand: no generated message, no metadata map per event.
	// The first message's struct is reused: each decode starts afresh and
	// an event keeps only the slices and strings it was given.
	msg := first
	for {
		err := stream.RecvMsg(msg)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return false, err
		}
		if !msg.proposed {
			return false, errHandler
		}
		size, err := proposedSize(msg)
		if err != nil {
			return false, err
		}
		total += size
		if total > h.s.cfg.MaxAppendSize {
			n := strconv.Itoa(h.s.cfg.MaxAppendSize)
			return false, withTrailers(codes.InvalidArgument, "Maximum Append Size of "+n+" Exceeded.",
				"exception", "maximum-append-size-exceeded", "maximum-append-size", n)
		}
		ev, err := eventFrom(msg, size)
		if err != nil {
			return false, err
		}
		evs = append(evs, ev)
	}
	if name == "" || name == "$$" {
		return true, errHandler
	}
	res := h.s.store.submit(&writeOp{kind: opAppend, stream: name, expected: exp, events: evs})
	if res.err == nil {
		f := new(successFrame) // one allocation: gRPC keeps the frame
		f.b, f.owned = appendSuccess(f.buf[:0], res.last, res.pos), true
		return true, stream.SendMsg(&f.wireFrame)
	}
	var wv *wrongVersionError
	if errors.As(res.err, &wv) {
		w := wrongVersionResp(wv)
		if echoMaxRevision {
			w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: math.MaxUint64}
		}
		return true, stream.SendAndClose(&streams.AppendResp{Result: &streams.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: w}})
	}
	return true, storeError(res.err)
}

// successFrame is an append's answer and the memory it is encoded in.
type successFrame struct {
	wireFrame
	buf [48]byte
}

// appendSuccessResp is the generated form of what appendSuccess encodes
// (FuzzWireAppendSuccess compares the two).
func appendSuccessResp(last int64, pos uint64) *streams.AppendResp {
	succ := &streams.AppendResp_Success{}
	if last < 0 {
		succ.CurrentRevisionOption = &streams.AppendResp_Success_NoStream{NoStream: empty}
	} else {
		succ.CurrentRevisionOption = &streams.AppendResp_Success_CurrentRevision{CurrentRevision: uint64(last)}
	}
	if pos == 0 {
		succ.PositionOption = &streams.AppendResp_Success_NoPosition{NoPosition: empty}
	} else {
		succ.PositionOption = &streams.AppendResp_Success_Position{Position: &streams.AppendResp_Position{CommitPosition: pos, PreparePosition: pos}}
	}
	return &streams.AppendResp{Result: &streams.AppendResp_Success_{Success: succ}}
}

// wrongVersionResp fills both the current and the 20.6.0 fields.
func wrongVersionResp(e *wrongVersionError) *streams.AppendResp_WrongExpectedVersion {
	w := &streams.AppendResp_WrongExpectedVersion{}
	if e.current < 0 {
		w.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: empty}
		w.CurrentRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_NoStream_20_6_0{NoStream_20_6_0: empty}
	} else {
		w.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: uint64(e.current)}
		w.CurrentRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_CurrentRevision_20_6_0{CurrentRevision_20_6_0: uint64(e.current)}
	}
	switch e.expected.kind {
	case expAny:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: empty}
		w.ExpectedRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_Any_20_6_0{Any_20_6_0: empty}
	case expExists:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: empty}
		w.ExpectedRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_StreamExists_20_6_0{StreamExists_20_6_0: empty}
	case expNoStream:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: empty}
		w.ExpectedRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_ExpectedRevision_20_6_0{ExpectedRevision_20_6_0: math.MaxUint64}
	case expExact:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: e.expected.rev}
		w.ExpectedRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_ExpectedRevision_20_6_0{ExpectedRevision_20_6_0: e.expected.rev}
	}
	return w
}

// deleteExpectation decodes a Delete's or Tombstone's expected revision as
// KurrentDB's Streams.Delete.cs does (the same rules as wireExpectation;
// enum names the request's .NET oneof-case type for the unset case; a
// revision above int64 max other than uint64 max is the handler's
// exception).
func deleteExpectation(e any, enum string) (expectation, error) {
	switch v := e.(type) {
	case *streams.DeleteReq_Options_Revision:
		return revisionExpectation(v.Revision)
	case *streams.TombstoneReq_Options_Revision:
		return revisionExpectation(v.Revision)
	case *streams.DeleteReq_Options_NoStream, *streams.TombstoneReq_Options_NoStream:
		return expectation{kind: expNoStream}, nil
	case *streams.DeleteReq_Options_StreamExists, *streams.TombstoneReq_Options_StreamExists:
		return expectation{kind: expExists}, nil
	case *streams.DeleteReq_Options_Any, *streams.TombstoneReq_Options_Any:
		return expectation{kind: expAny}, nil
	}
	return expectation{}, noneNotValid(enum)
}

// deleteRequest checks a Delete's or Tombstone's options in KurrentDB's
// order: expected revision, stream identifier (none: the handler's
// exception, converting it to a string), access, then the name: "" is
// refused by ClientMessage.DeleteStream (Ensure.NotNullOrEmpty,
// ClientMessage.cs 530), the handler's exception. Nothing refuses "$$" or
// any other metadata stream on that path (Managers/DeleteStream.cs 44-51,
// StorageWriterService.cs 518-598): without access checks they are deleted
// like any stream, so "$$", never written, is a wrong expected version to a
// soft delete (570-579) and is tombstoned by a tombstone.
func (h *streamsService) deleteRequest(ctx context.Context, id *shared.StreamIdentifier, e any, enum string) (string, expectation, error) {
	exp, err := deleteExpectation(e, enum)
	if err != nil {
		return "", exp, err
	}
	if id == nil {
		return "", exp, errHandler
	}
	name := string(id.GetStreamName())
	if err := h.s.authorize(ctx, name, aclDelete); err != nil {
		return "", exp, err
	}
	if name == "" {
		return "", exp, errHandler
	}
	return name, exp, nil
}

func (h *streamsService) Delete(ctx context.Context, req *streams.DeleteReq) (*streams.DeleteResp, error) {
	o := req.GetOptions()
	if o == nil {
		return nil, errHandler // KurrentDB: options.StreamIdentifier on null
	}
	name, exp, err := h.deleteRequest(ctx, o.GetStreamIdentifier(), o.GetExpectedStreamRevision(), "DeleteReq+Types+Options+ExpectedStreamRevisionOneofCase")
	if err != nil {
		return nil, err
	}
	res := h.s.store.submit(&writeOp{kind: opDelete, stream: name, expected: exp})
	if res.err != nil {
		return nil, storeError(res.err)
	}
	return &streams.DeleteResp{PositionOption: &streams.DeleteResp_Position_{Position: &streams.DeleteResp_Position{CommitPosition: res.pos, PreparePosition: res.pos}}}, nil
}

func (h *streamsService) Tombstone(ctx context.Context, req *streams.TombstoneReq) (*streams.TombstoneResp, error) {
	o := req.GetOptions()
	if o == nil {
		return nil, errHandler // KurrentDB: options.StreamIdentifier on null
	}
	name, exp, err := h.deleteRequest(ctx, o.GetStreamIdentifier(), o.GetExpectedStreamRevision(), "TombstoneReq+Types+Options+ExpectedStreamRevisionOneofCase")
	if err != nil {
		return nil, err
	}
	res := h.s.store.submit(&writeOp{kind: opTombstone, stream: name, expected: exp})
	if res.err != nil {
		return nil, storeError(res.err)
	}
	return &streams.TombstoneResp{PositionOption: &streams.TombstoneResp_Position_{Position: &streams.TombstoneResp_Position{CommitPosition: res.pos, PreparePosition: res.pos}}}, nil
}

// recorded converts a stored record to the wire form.
func recorded(r *record, strUUID bool) *streams.ReadResp_ReadEvent_RecordedEvent {
	ct := "application/octet-stream"
	if r.IsJSON {
		ct = "application/json"
	}
	return &streams.ReadResp_ReadEvent_RecordedEvent{
		Id:               wireUUID(r.ID, strUUID),
		StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(r.Stream)},
		StreamRevision:   r.Revision,
		PreparePosition:  r.Position,
		CommitPosition:   r.Position,
		Metadata:         map[string]string{"type": r.Type, "content-type": ct, "created": strconv.FormatInt(r.Created, 10)},
		CustomMetadata:   r.Metadata,
		Data:             r.Data,
	}
}

// visibility is what a stream's metadata lets a reader see.
type visibility struct {
	lower     uint64 // lowest visible revision
	minTicks  int64  // events created before this are expired; 0 = no max age
	notFound  bool   // soft-deleted or never written
	tombstone bool
}

// streamVisibility applies $tb, $maxCount and $maxAge (and a metadata
// stream's implicit $maxCount of 1) to stream's current state.
func (s *Server) streamVisibility(stream string) (visibility, streamInfo) {
	info := s.store.info(stream)
	var v visibility
	meta := info.Meta
	if base, ok := metaStreamOf(stream); ok {
		meta = noMeta
		meta.MaxCount = 1
		v.tombstone = s.store.info(base).Tombstoned
	}
	v.tombstone = v.tombstone || info.Tombstoned
	if info.Last < 0 || meta.SoftDeleted() {
		v.notFound = true
		v.lower = math.MaxUint64 // nothing is visible
		return v, info
	}
	if meta.TB > 0 {
		v.lower = uint64(meta.TB)
	}
	if meta.MaxCount >= 0 {
		if lo := info.Last - meta.MaxCount + 1; lo > 0 && uint64(lo) > v.lower {
			v.lower = uint64(lo)
		}
	}
	if meta.MaxAge >= 0 {
		v.minTicks = s.store.now().UnixNano()/100 - meta.MaxAge*10_000_000
	}
	return v, info
}

func (v visibility) visible(r *record) bool {
	return r.Revision >= v.lower && r.Created >= v.minTicks && r.Revision != tombstoneRevision
}

// excludedFromAll is KurrentDB's default $all filter.
func excludedFromAll(stream string) bool {
	if stream == "$epoch-information" {
		return true
	}
	if strings.HasPrefix(stream, "$persistentsubscription-$all::") && (strings.HasSuffix(stream, "-checkpoint") || strings.HasSuffix(stream, "-parked")) {
		return true
	}
	return false
}

// resolveRecords follows a link when asked to: it returns the event to
// deliver (nil when the link's target is gone or the caller in ctx may not
// read it, see linkacl.go) and the link itself.
func (s *Server) resolveRecords(ctx context.Context, r *record, resolveLinks bool) (ev, link *record) {
	if !resolveLinks || r.Type != "$>" {
		return r, nil
	}
	revText, target, ok := strings.Cut(string(r.Data), "@")
	rev, err := strconv.ParseUint(revText, 10, 64)
	if !ok || err != nil {
		return r, nil
	}
	if !s.mayResolve(ctx, target) {
		return nil, r
	}
	vis, _ := s.streamVisibility(target)
	if vis.notFound || vis.tombstone {
		return nil, r
	}
	t, err := s.store.readDurable(target, rev)
	if err != nil {
		// As KurrentDB: logged, and the link goes out unresolved.
		s.log.Error("resolve link", "link", string(r.Data), "stream", r.Stream, "err", err)
	}
	if err != nil || t == nil || !vis.visible(t) {
		return nil, r
	}
	return t, r
}

// resolve turns a record into the ReadEvent to send.
func (s *Server) resolve(ctx context.Context, r *record, resolveLinks, strUUID bool) *streams.ReadResp_ReadEvent {
	ev := &streams.ReadResp_ReadEvent{Position: &streams.ReadResp_ReadEvent_CommitPosition{CommitPosition: r.Position}}
	e, l := s.resolveRecords(ctx, r, resolveLinks)
	if e != nil {
		ev.Event = recorded(e, strUUID)
	}
	if l != nil {
		ev.Link = recorded(l, strUUID)
	}
	return ev
}

// Read checks its request in the order of KurrentDB's Streams.Read.cs:
// uuid_option, stream option, access, then the combination of stream,
// count, direction and filter options, of which only the six its
// CreateEnumerator serves are valid (a missing filter_option is invalid
// too; the clients always send no_filter), then a filter's expression and
// window (readFilter), before any event is sent. A request without
// options, or with a stream option without stream identifier, is the
// handler's exception (request.Options / StreamIdentifier on null).
func (h *streamsService) Read(req *streams.ReadReq, stream streams.Streams_ReadServer) error {
	ctx := stream.Context()
	o := req.GetOptions()
	if o == nil {
		return errHandler
	}
	if o.GetUuidOption() == nil {
		return status.Error(codes.InvalidArgument, "'uuidOption' is a required argument of type EventStore.Client.Streams.ReadReq+Types+Options+Types+UUIDOption")
	}
	strUUID := o.GetUuidOption().GetString_() != nil
	target := "$all"
	so := o.GetStream()
	if so != nil {
		if so.GetStreamIdentifier() == nil {
			return errHandler
		}
		// "" reaches KurrentDB's access check as null, which a secure
		// server denies (authorize). An insecure one lets it through to
		// CreateEnumerator (Streams.Read.cs 67-82): a combination it has
		// no case for is InvalidCombination (193-194); the three stream
		// enumerators' constructors throw on the null name
		// (Ensure.NotNullOrEmpty: Enumerator.ReadStreamForwards.cs 51,
		// ReadStreamBackwards.cs 51, StreamSubscription.cs 66), the
		// handler's exception.
		if len(so.GetStreamIdentifier().GetStreamName()) == 0 {
			if err := h.s.authorize(ctx, "", aclRead); err != nil {
				return err
			}
			if err := readCombination(o); err != nil {
				return err
			}
			return errHandler
		}
		// "$$" is read like any stream: the enumerators and
		// ClientMessage.ReadStreamEventsForward/Backward check only for an
		// empty name (ClientMessage.cs 635, 721), and KurrentDB's index
		// reader, taking "$$" as the metastream of "" (SystemNames.cs
		// 70-74), finds neither "" deleted nor "$$" written (writes refuse
		// the name, 62-64): NoStream (IndexReader.cs 217-225, 589-596), so
		// a read answers stream_not_found (Enumerator.ReadStreamForwards.cs
		// 131-134, ReadStreamBackwards.cs 120-123) and a subscription,
		// confirmed with last event -1 (SubscriptionsService.cs 157-181),
		// is caught up and waits for events that never come.
		target = string(so.GetStreamIdentifier().GetStreamName())
	} else if o.GetAll() == nil {
		return noneNotValid("ReadReq+Types+Options+StreamOptionOneofCase")
	}
	if err := h.s.authorize(ctx, target, aclRead); err != nil {
		return err
	}
	if err := readCombination(o); err != nil {
		return err
	}
	match, err := readFilter(o.GetFilter())
	if err != nil {
		return err
	}
	backwards := o.GetReadDirection() == streams.ReadReq_Options_Backwards
	if so != nil {
		if so, err = streamStart(so); err != nil {
			return err
		}
	}
	if o.GetSubscription() != nil {
		if so != nil {
			return h.s.subscribeStream(ctx, stream, target, so, o.GetResolveLinks(), strUUID)
		}
		return h.s.subscribeAll(ctx, stream, o, match, strUUID)
	}
	count := o.GetCount()
	if so != nil {
		return h.readStream(stream, target, so, backwards, count, o.GetResolveLinks(), strUUID)
	}
	return h.readAll(stream, o.GetAll(), backwards, count, o.GetResolveLinks(), strUUID, match)
}

// readCombination refuses what KurrentDB's CreateEnumerator has no case
// for, with its InvalidCombination text: the .NET names of the four
// options' cases as a tuple.
func readCombination(o *streams.ReadReq_Options) error {
	stream := "All"
	if o.GetStream() != nil {
		stream = "Stream"
	}
	count := "None"
	switch o.GetCountOption().(type) {
	case *streams.ReadReq_Options_Count:
		count = "Count"
	case *streams.ReadReq_Options_Subscription:
		count = "Subscription"
	}
	dir := strconv.Itoa(int(o.GetReadDirection()))
	switch o.GetReadDirection() {
	case streams.ReadReq_Options_Forwards:
		dir = "Forwards"
	case streams.ReadReq_Options_Backwards:
		dir = "Backwards"
	}
	filter := "None"
	switch o.GetFilterOption().(type) {
	case *streams.ReadReq_Options_Filter:
		filter = "Filter"
	case *streams.ReadReq_Options_NoFilter:
		filter = "NoFilter"
	}
	valid := false
	switch {
	case count == "Count" && dir != "Forwards" && dir != "Backwards":
	case count == "Count":
		valid = filter == "NoFilter" || (filter == "Filter" && stream == "All")
	case count == "Subscription":
		valid = dir == "Forwards" && (filter == "NoFilter" || (filter == "Filter" && stream == "All"))
	}
	if valid {
		return nil
	}
	return status.Error(codes.InvalidArgument, "The combination of ("+stream+", "+count+", "+dir+", "+filter+") is invalid.")
}

// streamStart converts a stream option's start as KurrentDB's
// CreateEnumerator does, once the combination is known to be served
// (Streams.Read.cs 117, 132, 175): ToStreamRevision and
// ToSubscriptionStreamRevision (ReadReq.cs 17-29) throw for a missing
// revision option, and StreamRevision's constructor for a revision above
// int64 max other than uint64 max (StreamRevision.cs 16-19): the handler's
// exception. uint64 max is StreamRevision.End (12), which the returned
// option then says.
func streamStart(so *streams.ReadReq_Options_StreamOptions) (*streams.ReadReq_Options_StreamOptions, error) {
	switch r := so.GetRevisionOption().(type) {
	case nil:
		return nil, errHandler
	case *streams.ReadReq_Options_StreamOptions_Revision:
		if r.Revision == math.MaxUint64 {
			return &streams.ReadReq_Options_StreamOptions{StreamIdentifier: so.GetStreamIdentifier(),
				RevisionOption: &streams.ReadReq_Options_StreamOptions_End{End: empty}}, nil
		}
		if r.Revision > math.MaxInt64 {
			return nil, errHandler
		}
	}
	return so, nil
}

// errForwardsFromEnd is KurrentDB's answer to a forward stream read from
// the end. The enumerator asks the storage reader for event number -1
// (StreamRevision.End.ToInt64(), StreamRevision.cs 59;
// Enumerator.ReadStreamForwards.cs 82-86), which
// ClientMessage.ReadStreamEventsForward accepts (ClientMessage.cs 634) and
// the index reader refuses before it looks at the stream
// (Ensure.Nonnegative(fromEventNumber, "fromEventNumber"), IndexReader.cs
// 214; Ensure.cs 35-37; .NET appends " (Parameter 'fromEventNumber')" to
// an ArgumentOutOfRangeException's message). The reader answers that as
// ReadStreamResult.Error with the exception's message
// (StorageReaderWorker.Stream.cs 67-69), the enumerator as UnknownError
// (Enumerator.ReadStreamForwards.cs 144-146) and the handler as
// RpcExceptions.UnknownError (Streams.Read.cs 377-378, RpcExceptions.cs
// 51-55): Unknown, no trailers, whether the stream exists, is deleted or
// was never written.
var errForwardsFromEnd = status.Error(codes.Unknown, "Unexpected ReadStreamResult: Error >> fromEventNumber should be non negative. (Parameter 'fromEventNumber')")

// errZeroCount is KurrentDB's answer to a stream read of count 0, which
// reaches the storage reader as a page of 0 events (the enumerators ask
// for min(32, count), Enumerator.ReadStreamForwards.cs 84,
// ReadStreamBackwards.cs 84) and is refused by the index reader in the
// same way (Ensure.Positive(maxCount, "maxCount"), IndexReader.cs 215,
// after the start; Ensure.Positive(maxCount), 587, backwards; Ensure.cs
// 23-27).
var errZeroCount = status.Error(codes.Unknown, "Unexpected ReadStreamResult: Error >> maxCount should be positive. (Parameter 'maxCount')")

const readPage = 512

func (h *streamsService) readStream(out streams.Streams_ReadServer, name string, so *streams.ReadReq_Options_StreamOptions, backwards bool, count uint64, resolveLinks, strUUID bool) error {
	if _, end := so.GetRevisionOption().(*streams.ReadReq_Options_StreamOptions_End); end && !backwards {
		return errForwardsFromEnd
	}
	if count == 0 {
		return errZeroCount
	}
	vis, info := h.s.streamVisibility(name)
	if vis.tombstone {
		return streamDeleted(name)
	}
	if vis.notFound {
		return out.Send(&streams.ReadResp{Content: &streams.ReadResp_StreamNotFound_{StreamNotFound: &streams.ReadResp_StreamNotFound{
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(name)}}}})
	}
	var from uint64
	switch r := so.GetRevisionOption().(type) {
	case *streams.ReadReq_Options_StreamOptions_Revision:
		from = r.Revision
	case *streams.ReadReq_Options_StreamOptions_End:
		from = math.MaxInt64 - 1
	}
	// From the start: forwards from revision 0 up; backwards from revision
	// 0 down, i.e. event 0 alone when it is visible (KurrentDB turns Start
	// into revision 0 in either direction).
	if from >= math.MaxInt64 {
		from = math.MaxInt64 - 1
	}
	if !backwards && from < vis.lower {
		from = vis.lower
	}
	if !backwards && from > uint64(info.Last) {
		// Past the last event the stream table holds (info.Last >= 0 here:
		// the stream was found): nothing to read, and no iterator to build.
		// This is a command handler's usual read of a stream it holds
		// cached (the events after its copy). The table is updated before
		// a write is acknowledged, so an acknowledged event is never missed.
		return nil
	}
	enc := newEventEncoder(strUUID)
	sent := uint64(0)
	for sent < count {
		var page []*record
		err := h.s.store.scanStream(name, from, backwards, func(r *record) bool {
			if r.Revision < vis.lower {
				return false // backwards past the visible range
			}
			if r.Revision == tombstoneRevision {
				return true
			}
			page = append(page, r)
			return len(page) < readPage
		})
		if err != nil {
			return storeError(err)
		}
		if len(page) == 0 {
			return nil
		}
		for _, r := range page {
			if !vis.visible(r) {
				continue
			}
			if err := out.SendMsg(enc.message(out.Context(), h.s, r, resolveLinks)); err != nil {
				return err
			}
			if sent++; sent >= count {
				return nil
			}
		}
		last := page[len(page)-1].Revision
		if len(page) < readPage {
			return nil
		}
		if backwards {
			if last == 0 {
				return nil
			}
			from = last - 1
		} else {
			from = last + 1
		}
	}
	return nil
}

func (h *streamsService) readAll(out streams.Streams_ReadServer, ao *streams.ReadReq_Options_AllOptions, backwards bool, count uint64, resolveLinks, strUUID bool, match recordMatch) error {
	var from uint64
	switch p := ao.GetAllOption().(type) {
	case *streams.ReadReq_Options_AllOptions_Position:
		from = p.Position.GetCommitPosition()
	case *streams.ReadReq_Options_AllOptions_End:
		if !backwards {
			return nil
		}
		from = math.MaxUint64
	default:
		if backwards {
			return nil
		}
	}
	if count == 0 {
		return nil
	}
	// Events are encoded straight from pebble's memory; gRPC keeps the
	// encoded frames (ownedMessage).
	enc := newEventEncoder(strUUID)
	sent := uint64(0)
	var sendErr, matchErr error
	err := h.s.store.scanAllRecords(from, backwards, false, func(r *record) bool {
		selected := !excludedFromAll(r.Stream)
		if selected && match != nil {
			if selected, matchErr = match(r); matchErr != nil {
				return false
			}
		}
		if !selected {
			return true
		}
		if sendErr = out.SendMsg(enc.ownedMessage(out.Context(), h.s, r, resolveLinks)); sendErr != nil {
			return false
		}
		sent++
		return sent < count
	})
	if sendErr != nil {
		return sendErr
	}
	if matchErr != nil {
		return matchErr
	}
	return storeError(err)
}
