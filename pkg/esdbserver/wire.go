package esdbserver

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
)

// Reads and subscriptions send one gRPC message per event, and the generic
// protobuf encoder (reflection, map fields, a size pass) was the largest
// cost of a $all read on the server. Event messages are therefore encoded by
// hand into a reused buffer (wireFrame) and passed through the server's
// codec as bytes; every other message goes through the normal proto codec.
// FuzzWireEvent checks the hand encoding against the generated one.

// wireFrame is a message already in protobuf wire format. owned says that
// b is never written again, so gRPC may keep it instead of a copy.
type wireFrame struct {
	b     []byte
	owned bool
}

// wireCodec is the server's codec: protobuf, plus pre-encoded wireFrames.
type wireCodec struct{ proto encoding.CodecV2 }

func newWireCodec() encoding.CodecV2 {
	return wireCodec{proto: encoding.GetCodecV2(proto.Name)}
}

func (c wireCodec) Marshal(v any) (mem.BufferSlice, error) {
	if f, ok := v.(*wireFrame); ok {
		if f.owned {
			return mem.BufferSlice{mem.SliceBuffer(f.b)}, nil
		}
		// gRPC writes asynchronously: hand it its own copy.
		return mem.BufferSlice{mem.SliceBuffer(append([]byte(nil), f.b...))}, nil
	}
	return c.proto.Marshal(v)
}

func (c wireCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if _, ok := v.(*wireFrame); ok {
		return fmt.Errorf("wire frames are send-only")
	}
	if w, ok := v.(*appendReqWire); ok {
		var err error
		if len(data) == 1 {
			err = w.unmarshal(data[0].ReadOnlyData())
		} else {
			buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
			err = w.unmarshal(buf.ReadOnlyData())
			buf.Free()
		}
		if err != nil {
			// Malformed input (FuzzWireAppendReq: exactly what the
			// generated code refuses): answer with its error text.
			if gerr := c.proto.Unmarshal(data, new(streams.AppendReq)); gerr != nil {
				return gerr
			}
		}
		return err
	}
	return c.proto.Unmarshal(data, v)
}

func (c wireCodec) Name() string { return c.proto.Name() }

// eventEncoder encodes ReadResp event messages for one call.
type eventEncoder struct {
	strUUID    bool
	rec, frame []byte
	out        wireFrame
	chunk      []byte // ownedMessage's current chunk
}

func newEventEncoder(strUUID bool) *eventEncoder { return &eventEncoder{strUUID: strUUID} }

// message is what to send for r: a pre-encoded frame, or (for a link to
// resolve) a generated message.
func (e *eventEncoder) message(ctx context.Context, s *Server, r *record, resolveLinks bool) any {
	if resolveLinks && r.Type == "$>" {
		return &streams.ReadResp{Content: &streams.ReadResp_Event{Event: s.resolve(ctx, r, true, e.strUUID)}}
	}
	e.out = wireFrame{b: e.encode(r)}
	return &e.out
}

// ownedMessage is message, except that an encoded event is copied into a
// chunk of memory that is never reused, so gRPC keeps it without copying
// again: one allocation per chunk (64 KiB) instead of one per event.
func (e *eventEncoder) ownedMessage(ctx context.Context, s *Server, r *record, resolveLinks bool) any {
	if resolveLinks && r.Type == "$>" {
		return e.message(ctx, s, r, true)
	}
	body := e.encodeEvent(r)
	n := frameSize(body, r.Position)
	if n > cap(e.chunk)-len(e.chunk) {
		e.chunk = make([]byte, 0, max(ownedChunk, n))
	}
	start := len(e.chunk)
	e.chunk = appendFrame(e.chunk, body, r.Position)
	// The frame struct itself is reused: gRPC's codec reads it before
	// SendMsg returns.
	e.out = wireFrame{b: e.chunk[start:len(e.chunk):len(e.chunk)], owned: true}
	return &e.out
}

const ownedChunk = 64 << 10

// Field numbers of the messages encoded here (streams.proto, shared.proto).
const (
	fReadRespEvent        = 1 // ReadResp.event
	fReadEventEvent       = 1 // ReadEvent.event
	fReadEventCommit      = 3 // ReadEvent.commit_position
	fRecID                = 1
	fRecStream            = 2
	fRecRevision          = 3
	fRecPrepare           = 4
	fRecCommit            = 5
	fRecMetadata          = 6
	fRecCustomMetadata    = 7
	fRecData              = 8
	fUUIDStructured       = 1
	fUUIDString           = 2
	fStructuredMost       = 1
	fStructuredLeast      = 2
	fStreamIdentifierName = 3
	fMapKey               = 1
	fMapValue             = 2
)

// encode returns the wire form of ReadResp{event: {event: r, commit_position}};
// the slice is reused by the next call.
func (e *eventEncoder) encode(r *record) []byte {
	e.frame = appendFrame(e.frame[:0], e.encodeEvent(r), r.Position)
	return e.frame
}

// appendEncoded appends encode(r) to dst without encode's copy.
func (e *eventEncoder) appendEncoded(dst []byte, r *record) []byte {
	return appendFrame(dst, e.encodeEvent(r), r.Position)
}

// encodeEvent returns the wire form of the RecordedEvent r; the slice is
// reused by the next call.
func (e *eventEncoder) encodeEvent(r *record) []byte {
	b := e.rec[:0]
	// id
	var id [40]byte
	u := id[:0]
	if e.strUUID {
		u = protowire.AppendTag(u, fUUIDString, protowire.BytesType)
		u = protowire.AppendString(u, uuidString(r.ID))
	} else {
		var st [22]byte
		in := st[:0]
		if msb := binary.BigEndian.Uint64(r.ID[0:]); msb != 0 {
			in = protowire.AppendTag(in, fStructuredMost, protowire.VarintType)
			in = protowire.AppendVarint(in, msb)
		}
		if lsb := binary.BigEndian.Uint64(r.ID[8:]); lsb != 0 {
			in = protowire.AppendTag(in, fStructuredLeast, protowire.VarintType)
			in = protowire.AppendVarint(in, lsb)
		}
		u = protowire.AppendTag(u, fUUIDStructured, protowire.BytesType)
		u = protowire.AppendBytes(u, in)
	}
	b = protowire.AppendTag(b, fRecID, protowire.BytesType)
	b = protowire.AppendBytes(b, u)
	// stream_identifier{stream_name}
	b = protowire.AppendTag(b, fRecStream, protowire.BytesType)
	if r.Stream == "" {
		b = protowire.AppendVarint(b, 0)
	} else {
		b = protowire.AppendVarint(b, uint64(protowire.SizeTag(fStreamIdentifierName)+protowire.SizeBytes(len(r.Stream))))
		b = protowire.AppendTag(b, fStreamIdentifierName, protowire.BytesType)
		b = protowire.AppendString(b, r.Stream)
	}
	b = appendUint(b, fRecRevision, r.Revision)
	b = appendUint(b, fRecPrepare, r.Position)
	b = appendUint(b, fRecCommit, r.Position)
	ct := "application/octet-stream"
	if r.IsJSON {
		ct = "application/json"
	}
	var created [20]byte
	b = appendMapEntry(b, "type", r.Type)
	b = appendMapEntry(b, "content-type", ct)
	b = appendMapEntry(b, "created", string(strconv.AppendInt(created[:0], r.Created, 10)))
	if len(r.Metadata) > 0 {
		b = protowire.AppendTag(b, fRecCustomMetadata, protowire.BytesType)
		b = protowire.AppendBytes(b, r.Metadata)
	}
	if len(r.Data) > 0 {
		b = protowire.AppendTag(b, fRecData, protowire.BytesType)
		b = protowire.AppendBytes(b, r.Data)
	}
	e.rec = b
	return b
}

// readEventLen is the size of ReadEvent{event: body, commit_position: pos}.
func readEventLen(body []byte, pos uint64) int {
	return protowire.SizeTag(fReadEventEvent) + protowire.SizeBytes(len(body)) +
		protowire.SizeTag(fReadEventCommit) + protowire.SizeVarint(pos)
}

// frameSize is the size appendFrame adds.
func frameSize(body []byte, pos uint64) int {
	return protowire.SizeTag(fReadRespEvent) + protowire.SizeBytes(readEventLen(body, pos))
}

// appendFrame appends ReadResp{event: ReadEvent{event: body,
// commit_position: pos}}. The position is a oneof member, so it is written
// even when zero.
func appendFrame(f, body []byte, pos uint64) []byte {
	f = protowire.AppendTag(f, fReadRespEvent, protowire.BytesType)
	f = protowire.AppendVarint(f, uint64(readEventLen(body, pos)))
	f = protowire.AppendTag(f, fReadEventEvent, protowire.BytesType)
	f = protowire.AppendBytes(f, body)
	f = protowire.AppendTag(f, fReadEventCommit, protowire.VarintType)
	return protowire.AppendVarint(f, pos)
}

func appendUint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func appendMapEntry(b []byte, k, v string) []byte {
	n := protowire.SizeTag(fMapKey) + protowire.SizeBytes(len(k)) + protowire.SizeTag(fMapValue) + protowire.SizeBytes(len(v))
	b = protowire.AppendTag(b, fRecMetadata, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(n))
	b = protowire.AppendTag(b, fMapKey, protowire.BytesType)
	b = protowire.AppendString(b, k)
	b = protowire.AppendTag(b, fMapValue, protowire.BytesType)
	return protowire.AppendString(b, v)
}

// Field numbers of AppendResp (streams.proto).
const (
	fAppendRespSuccess      = 1 // AppendResp.success
	fSuccessCurrentRevision = 1
	fSuccessNoStream        = 2
	fSuccessPosition        = 3
	fSuccessNoPosition      = 4
	fPositionCommit         = 1
	fPositionPrepare        = 2
)

// appendSuccess appends the wire form of AppendResp{success: ...} with the
// current revision (-1: no_stream) and position (0: no_position): every
// successful append answers with it, and the generic encoder cost more than
// building it.
func appendSuccess(b []byte, last int64, pos uint64) []byte {
	var in [48]byte
	s := in[:0]
	if last < 0 {
		s = protowire.AppendTag(s, fSuccessNoStream, protowire.BytesType)
		s = protowire.AppendVarint(s, 0)
	} else {
		// A oneof member: written even when zero.
		s = protowire.AppendTag(s, fSuccessCurrentRevision, protowire.VarintType)
		s = protowire.AppendVarint(s, uint64(last))
	}
	if pos == 0 {
		s = protowire.AppendTag(s, fSuccessNoPosition, protowire.BytesType)
		s = protowire.AppendVarint(s, 0)
	} else {
		var p [22]byte
		pb := appendUint(p[:0], fPositionCommit, pos)
		pb = appendUint(pb, fPositionPrepare, pos)
		s = protowire.AppendTag(s, fSuccessPosition, protowire.BytesType)
		s = protowire.AppendBytes(s, pb)
	}
	b = protowire.AppendTag(b, fAppendRespSuccess, protowire.BytesType)
	return protowire.AppendBytes(b, s)
}

// appendReqWire is an AppendReq after the first (options) message, decoded
// by hand (wireCodec.Unmarshal) instead of into the generated types: no
// message structs, no metadata map, one string. It follows protobuf's
// rules exactly — later fields win, repeated messages merge, a oneof takes
// its last member, unknown fields and known fields of the wrong wire type
// are skipped, proto3 strings must be UTF-8 — and FuzzWireAppendReq checks
// it against the generated code.
type appendReqWire struct {
	proposed bool // content is proposed_message
	options  bool // content is options (the first message of a call)
	// Options: the stream name and the expected_stream_revision oneof
	// (revNone when unset; rev for revRevision).
	stream    string
	hasStream bool // stream_identifier was present (possibly empty)
	revKind   revKind
	rev       uint64
	// UUID id: set when the field was present; kind 1 structured, 2 string.
	idSet      bool
	idKind     int
	msb, lsb   int64
	idStr      string
	hasType    bool
	typ        string
	hasCT      bool
	isJSON     bool
	meta, data []byte
}

// revKind is the member of AppendReq.Options' expected_stream_revision.
type revKind uint8

const (
	revNone revKind = iota
	revRevision
	revNoStream
	revAny
	revStreamExists
)

// Field numbers of AppendReq (streams.proto) and UUID (shared.proto).
const (
	fAppendReqOptions  = 1
	fAppendReqProposed = 2
	fOptionsStream     = 1 // AppendReq.Options.stream_identifier
	fOptionsRevision   = 2
	fOptionsNoStream   = 3
	fOptionsAny        = 4
	fOptionsExists     = 5
	fProposedID        = 1
	fProposedMetadata  = 2
	fProposedCustom    = 3
	fProposedData      = 4
)

var errWireUTF8 = errors.New("string field contains invalid UTF-8")

func (w *appendReqWire) unmarshal(b []byte) error {
	*w = appendReqWire{}
	return walkFields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case fAppendReqOptions:
			if !w.options {
				*w = appendReqWire{options: true}
			}
			return w.mergeOptions(v)
		case fAppendReqProposed:
			if !w.proposed {
				*w = appendReqWire{proposed: true}
			}
			return w.mergeProposed(v)
		}
		return nil
	})
}

// mergeOptions reads an AppendReq.Options message into w: the stream name
// (bytes, the last one wins) and the expected revision (a oneof: the last
// member wins; its Empty messages are only checked to be well-formed).
func (w *appendReqWire) mergeOptions(b []byte) error {
	return walkFields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == fOptionsRevision && typ == protowire.VarintType:
			w.revKind, w.rev = revRevision, x
		case typ != protowire.BytesType:
		case num == fOptionsStream:
			w.hasStream = true
			return walkFields(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
				if num == fStreamIdentifierName && typ == protowire.BytesType {
					w.stream = string(v) // v is the transport's buffer
				}
				return nil
			})
		case num == fOptionsNoStream, num == fOptionsAny, num == fOptionsExists:
			if err := walkFields(v, ignoreField); err != nil {
				return err
			}
			w.revKind = [...]revKind{fOptionsNoStream: revNoStream, fOptionsAny: revAny, fOptionsExists: revStreamExists}[num]
		}
		return nil
	})
}

func ignoreField(protowire.Number, protowire.Type, []byte, uint64) error { return nil }

func (w *appendReqWire) mergeProposed(b []byte) error {
	return walkFields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case fProposedID:
			w.idSet = true
			return w.mergeUUID(v)
		case fProposedMetadata:
			return w.mapEntry(v)
		case fProposedCustom:
			w.meta = append([]byte{}, v...)
		case fProposedData:
			w.data = append([]byte{}, v...)
		}
		return nil
	})
}

func (w *appendReqWire) mergeUUID(b []byte) error {
	return walkFields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case fUUIDString:
			if !utf8.Valid(v) {
				return errWireUTF8
			}
			w.idKind, w.idStr = 2, string(v)
		case fUUIDStructured:
			if w.idKind != 1 {
				w.idKind, w.msb, w.lsb = 1, 0, 0
			}
			return w.mergeStructured(v)
		}
		return nil
	})
}

func (w *appendReqWire) mergeStructured(b []byte) error {
	return walkFields(b, func(num protowire.Number, typ protowire.Type, _ []byte, x uint64) error {
		if typ != protowire.VarintType {
			return nil
		}
		switch num {
		case fStructuredMost:
			w.msb = int64(x)
		case fStructuredLeast:
			w.lsb = int64(x)
		}
		return nil
	})
}

// mapEntry reads one metadata entry; only "type" and "content-type" are
// kept, every key and value is checked.
func (w *appendReqWire) mapEntry(b []byte) error {
	var key, val []byte
	err := walkFields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ == protowire.BytesType {
			switch num {
			case fMapKey:
				key = v
			case fMapValue:
				val = v
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !utf8.Valid(key) || !utf8.Valid(val) {
		return errWireUTF8
	}
	switch string(key) {
	case "type":
		w.hasType, w.typ = true, string(val)
	case "content-type":
		w.hasCT, w.isJSON = true, string(val) == "application/json"
	}
	return nil
}

// walkFields reads the fields of message b in order and calls field with
// each one's number, wire type and value: v for a length-delimited field,
// x for a varint, neither for the other types (which are only skipped).
// The first error, malformed input or field's, stops the walk.
func walkFields(b []byte, field func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if err := field(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

// consumeTag is protowire.ConsumeTag refusing field numbers above the
// maximum, as the generated code does.
func consumeTag(b []byte) (protowire.Number, protowire.Type, int) {
	num, typ, n := protowire.ConsumeTag(b)
	if n >= 0 && num > protowire.MaxValidNumber {
		return 0, 0, -1
	}
	return num, typ, n
}
