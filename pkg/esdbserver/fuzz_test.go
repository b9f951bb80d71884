package esdbserver

import (
	"bytes"
	"fmt"
	"math"
	"testing"
	"unicode/utf8"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/protobuf/proto"

	"github.com/craftledger/craftledger/pkg/internal/streammeta"
)

// FuzzDecodeRecord: recovery decodes whatever pebble holds. Decoding must
// never panic, and whatever decodes must re-encode to the same bytes (so no
// two encodings mean the same record).
func FuzzDecodeRecord(f *testing.F) {
	f.Add(encodeRecord(nil, &record{Stream: "s", Revision: 3, Type: "T", IsJSON: true, Created: 1, Data: []byte(`{}`)}))
	f.Add(encodeRecord(nil, &record{Stream: "$$x", Revision: tombstoneRevision, Type: "$streamDeleted"}))
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(7, b, true, nil)
		if err != nil {
			return
		}
		if got := encodeRecord(nil, r); !bytes.Equal(got, b) {
			t.Fatalf("re-encoding differs:\n%x\n%x", got, b)
		}
	})
}

// FuzzRecordRoundTrip: every record survives encoding.
func FuzzRecordRoundTrip(f *testing.F) {
	f.Add("stream-1", uint64(0), "Type.v1", true, int64(638000000000000000), []byte("meta"), []byte(`{"a":1}`))
	f.Add("", uint64(tombstoneRevision), "", false, int64(-1), []byte(nil), []byte(nil))
	f.Fuzz(func(t *testing.T, stream string, rev uint64, typ string, isJSON bool, created int64, meta, data []byte) {
		in := &record{Position: 9, Stream: stream, Revision: rev, Type: typ, IsJSON: isJSON, Created: created, Metadata: meta, Data: data}
		copy(in.ID[:], data)
		out, err := decodeRecord(9, encodeRecord(nil, in), true, nil)
		if err != nil {
			t.Fatal(err)
		}
		if out.Stream != in.Stream || out.Revision != in.Revision || out.Type != in.Type || out.IsJSON != in.IsJSON ||
			out.Created != in.Created || out.ID != in.ID || !bytes.Equal(out.Metadata, in.Metadata) || !bytes.Equal(out.Data, in.Data) {
			t.Fatalf("round trip: %+v != %+v", out, in)
		}
	})
}

// FuzzDecodeStreamState: per-stream state read at recovery.
func FuzzDecodeStreamState(f *testing.F) {
	f.Add(appendStreamState(nil, streamState{Last: 5, LastPos: 99, Tombstoned: true}))
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeStreamState(b)
		if err == nil && !bytes.Equal(appendStreamState(nil, s), b) {
			t.Fatalf("re-encoding differs")
		}
	})
}

// FuzzAppendRequest: decoding and validating what arrives on Append never
// panics, and an accepted event's size is at least its payload.
func FuzzAppendRequest(f *testing.F) {
	opts, _ := proto.Marshal(&streams.AppendReq{Content: &streams.AppendReq_Options_{Options: &streams.AppendReq_Options{
		ExpectedStreamRevision: &streams.AppendReq_Options_Revision{Revision: 4}}}})
	msg, _ := proto.Marshal(&streams.AppendReq{Content: &streams.AppendReq_ProposedMessage_{ProposedMessage: &streams.AppendReq_ProposedMessage{
		Id:       wireUUID(newUUID(), false),
		Metadata: map[string]string{"type": "T", "content-type": "application/json"},
		Data:     []byte(`{"x":1}`),
	}}})
	f.Add(opts)
	f.Add(msg)
	f.Fuzz(func(t *testing.T, b []byte) {
		var req streams.AppendReq
		if proto.Unmarshal(b, &req) != nil {
			return
		}
		if o := req.GetOptions(); o != nil {
			_, _ = streamName(o.GetStreamIdentifier())
		}
		if m := req.GetProposedMessage(); m != nil {
			ev, size, err := proposedEvent(m)
			if err == nil && size < len(ev.Data)+len(ev.Metadata) {
				t.Fatalf("size %d below payload %d", size, len(ev.Data)+len(ev.Metadata))
			}
		}
	})
}

// FuzzStreamMetadata: any $metadata payload parses (possibly to nothing).
func FuzzStreamMetadata(f *testing.F) {
	f.Add([]byte(`{"$maxCount":3,"$maxAge":60,"$tb":9223372036854775807,"$acl":{"$r":["$admins"],"$w":"ops"},"owner":"x"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, valid := streammeta.Strict(b)
		if !valid && m.MaxCount != -1 || parseStreamMeta(false, b).MaxCount != -1 {
			t.Fatalf("invalid or binary metadata applied: %+v", m)
		}
		if valid && (m.MaxCount == 0 || m.MaxAge == 0 || m.TB < -1) {
			t.Fatalf("a value KurrentDB drops was kept: %+v", m)
		}
		raw, ok := withTB(b, 42)
		if !ok {
			return
		}
		tb, tbValid := streammeta.Strict(raw)
		if valid && (!tbValid || tb.TB != 42 || tb.MaxCount != m.MaxCount || tb.MaxAge != m.MaxAge) {
			t.Fatalf("withTB changed valid metadata %s into %s: %+v", b, raw, tb)
		}
	})
}

// FuzzWireEvent: the hand-encoded event message decodes to exactly what the
// generated code builds for the same record.
func FuzzWireEvent(f *testing.F) {
	f.Add("stream-1", uint64(0), uint64(1), "Type.v1", true, int64(638000000000000000), []byte("meta"), []byte(`{"a":1}`), []byte("0123456789abcdef"), false)
	f.Add("", uint64(tombstoneRevision), uint64(1<<40), "$streamDeleted", false, int64(-1), []byte(nil), []byte(nil), []byte(nil), true)
	f.Fuzz(func(t *testing.T, stream string, rev, pos uint64, typ string, isJSON bool, created int64, meta, data, id []byte, strUUID bool) {
		if !utf8.ValidString(typ) {
			t.Skip("event types arrive as proto3 strings: always valid UTF-8")
		}
		r := &record{Position: pos, Stream: stream, Revision: rev, Type: typ, IsJSON: isJSON, Created: created, Metadata: meta, Data: data}
		copy(r.ID[:], id)
		enc := newEventEncoder(strUUID)
		enc.encode(&record{Stream: "warm-up", Data: make([]byte, 100)}) // the buffers are reused
		var got streams.ReadResp
		if err := proto.Unmarshal(enc.encode(r), &got); err != nil {
			t.Fatal(err)
		}
		want := &streams.ReadResp{Content: &streams.ReadResp_Event{Event: &streams.ReadResp_ReadEvent{
			Event:    recorded(r, strUUID),
			Position: &streams.ReadResp_ReadEvent_CommitPosition{CommitPosition: pos},
		}}}
		if !proto.Equal(&got, want) {
			t.Fatalf("hand encoding differs:\n got %v\nwant %v", &got, want)
		}
	})
}

// FuzzWireAppendSuccess: the hand-encoded append answer decodes to exactly
// what the generated code builds.
func FuzzWireAppendSuccess(f *testing.F) {
	f.Add(int64(-1), uint64(0))
	f.Add(int64(0), uint64(1))
	f.Add(int64(41), uint64(1<<40))
	f.Add(int64(math.MaxInt64), uint64(math.MaxUint64))
	f.Fuzz(func(t *testing.T, last int64, pos uint64) {
		if last < -1 {
			last = -1
		}
		var got streams.AppendResp
		if err := proto.Unmarshal(appendSuccess(nil, last, pos), &got); err != nil {
			t.Fatal(err)
		}
		if want := appendSuccessResp(last, pos); !proto.Equal(&got, want) {
			t.Fatalf("hand encoding differs:\n got %v\nwant %v", &got, want)
		}
		opts := proto.MarshalOptions{Deterministic: true}
		if b, err := opts.Marshal(appendSuccessResp(last, pos)); err != nil || !bytes.Equal(b, appendSuccess(nil, last, pos)) {
			t.Fatalf("bytes differ from the generated encoding: %x vs %x (%v)", appendSuccess(nil, last, pos), b, err)
		}
	})
}

// FuzzWireAppendReq: the hand decoder of Append's proposed messages accepts
// and rejects exactly what the generated code does and yields the same
// event (or the same validation error).
func FuzzWireAppendReq(f *testing.F) {
	id := &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{MostSignificantBits: -5, LeastSignificantBits: 7}}}
	for _, m := range []*streams.AppendReq{
		{Content: &streams.AppendReq_ProposedMessage_{ProposedMessage: &streams.AppendReq_ProposedMessage{Id: id,
			Metadata: map[string]string{"type": "T.v1", "content-type": "application/json"}, Data: []byte(`{"a":1}`), CustomMetadata: []byte("m")}}},
		{Content: &streams.AppendReq_ProposedMessage_{ProposedMessage: &streams.AppendReq_ProposedMessage{
			Id:       &shared.UUID{Value: &shared.UUID_String_{String_: "5f3c1a2b-0000-4000-8000-00000000abcd"}},
			Metadata: map[string]string{"type": "", "content-type": "application/octet-stream", "x": "y"}}}},
		{Content: &streams.AppendReq_ProposedMessage_{ProposedMessage: &streams.AppendReq_ProposedMessage{Id: id, Metadata: map[string]string{"type": "T"}}}},
		{Content: &streams.AppendReq_Options_{Options: &streams.AppendReq_Options{StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte("s")}}}},
		{Content: &streams.AppendReq_Options_{Options: &streams.AppendReq_Options{StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte("s")},
			ExpectedStreamRevision: &streams.AppendReq_Options_Revision{Revision: math.MaxUint64}}}},
		{Content: &streams.AppendReq_Options_{Options: &streams.AppendReq_Options{StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte("a-1")},
			ExpectedStreamRevision: &streams.AppendReq_Options_Revision{Revision: 7}}}},
		{Content: &streams.AppendReq_Options_{Options: &streams.AppendReq_Options{ExpectedStreamRevision: &streams.AppendReq_Options_NoStream{NoStream: &shared.Empty{}}}}},
		{Content: &streams.AppendReq_Options_{Options: &streams.AppendReq_Options{StreamIdentifier: &shared.StreamIdentifier{},
			ExpectedStreamRevision: &streams.AppendReq_Options_Any{Any: &shared.Empty{}}}}},
		{Content: &streams.AppendReq_Options_{Options: &streams.AppendReq_Options{StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte("$$x")},
			ExpectedStreamRevision: &streams.AppendReq_Options_StreamExists{StreamExists: &shared.Empty{}}}}},
	} {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(append(b, b...)) // repeated: merged
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var gen streams.AppendReq
		genErr := proto.Unmarshal(b, &gen)
		var w appendReqWire
		wErr := w.unmarshal(b)
		if (genErr == nil) != (wErr == nil) {
			t.Fatalf("generated error %v, hand decoder error %v", genErr, wErr)
		}
		if genErr != nil {
			return
		}
		if o := gen.GetOptions(); (o != nil) != w.options {
			t.Fatalf("options: generated %v, hand decoder %v", o != nil, w.options)
		} else if o != nil {
			e1, err1 := appendExpectation(o)
			e2, err2 := wireExpectation(&w)
			if name := string(o.GetStreamIdentifier().GetStreamName()); name != w.stream || (o.GetStreamIdentifier() != nil) != w.hasStream ||
				e1 != e2 || fmt.Sprint(err1) != fmt.Sprint(err2) ||
				(o.GetRevision() == math.MaxUint64) != (w.revKind == revRevision && w.rev == math.MaxUint64) {
				t.Fatalf("options: generated %q %+v %v (revision %d), hand decoder %q %+v %v (%d %d)", name, e1, err1, o.GetRevision(), w.stream, e2, err2, w.revKind, w.rev)
			}
		}
		pm := gen.GetProposedMessage()
		if (pm != nil) != w.proposed {
			t.Fatalf("proposed: generated %v, hand decoder %v", pm != nil, w.proposed)
		}
		if pm == nil {
			return
		}
		ev1, size1, err1 := proposedEvent(pm)
		ev2, size2, err2 := proposedFrom(&w)
		if fmt.Sprint(err1) != fmt.Sprint(err2) || size1 != size2 || ev1.ID != ev2.ID || ev1.Type != ev2.Type || ev1.IsJSON != ev2.IsJSON ||
			!bytes.Equal(ev1.Metadata, ev2.Metadata) || !bytes.Equal(ev1.Data, ev2.Data) {
			t.Fatalf("generated %+v %d %v\nhand      %+v %d %v", ev1, size1, err1, ev2, size2, err2)
		}
	})
}

// appendExpectation is wireExpectation over the generated options message:
// the oracle FuzzWireAppendReq checks the hand decoder against.
func appendExpectation(o *streams.AppendReq_Options) (expectation, error) {
	switch e := o.GetExpectedStreamRevision().(type) {
	case *streams.AppendReq_Options_Any:
		return expectation{kind: expAny}, nil
	case *streams.AppendReq_Options_NoStream:
		return expectation{kind: expNoStream}, nil
	case *streams.AppendReq_Options_StreamExists:
		return expectation{kind: expExists}, nil
	case *streams.AppendReq_Options_Revision:
		return revisionExpectation(e.Revision)
	}
	return expectation{}, noneNotValid("AppendReq+Types+Options+ExpectedStreamRevisionOneofCase")
}
