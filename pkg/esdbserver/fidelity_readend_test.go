package esdbserver_test

// A forward stream read from the end, established from KurrentDB's source
// in the tenth session: StreamRevision.End becomes event number -1
// (StreamRevision.cs 59), which the index reader refuses before it looks
// at the stream (Ensure.Nonnegative, IndexReader.cs 214); the storage
// reader answers ReadStreamResult.Error with the exception's message
// (StorageReaderWorker.Stream.cs 67-69) and the handler
// RpcExceptions.UnknownError (Streams.Read.cs 377-378, RpcExceptions.cs
// 51-55). The revision uint64 max is StreamRevision.End too; any other
// above int64 max makes StreamRevision's constructor throw in the handler.

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// forwardsFromEnd is KurrentDB's status message for a forward stream read
// from the end.
const forwardsFromEnd = "Unexpected ReadStreamResult: Error >> fromEventNumber should be non negative. (Parameter 'fromEventNumber')"

// zeroCount is KurrentDB's status message for a stream read of count 0.
const zeroCount = "Unexpected ReadStreamResult: Error >> maxCount should be positive. (Parameter 'maxCount')"

func streamReadOptions(stream string, rev *streams.ReadReq_Options_StreamOptions, dir streams.ReadReq_Options_ReadDirection, count uint64) *streams.ReadReq_Options {
	o := dollarDollarOptions(true, dir, rev)
	rev.StreamIdentifier = sid(stream)
	o.CountOption = &streams.ReadReq_Options_Count{Count: count}
	return o
}

// TestFidelityReadForwardsFromEnd: a forward Read of a stream from the end
// (or from revision uint64 max) answers Unknown "Unexpected
// ReadStreamResult: Error >> fromEventNumber should be non negative.
// (Parameter 'fromEventNumber')" with no trailers and no message, for a
// stream with events, one never written, a soft-deleted and a tombstoned
// one, whatever the count (a count of 0 from elsewhere is refused with
// "maxCount should be positive."); the official client's ReadStream(From: End,
// Direction: Forwards) fails with that status. Backward reads from the
// end and subscriptions from the end are served as before; a revision
// above int64 max other than uint64 max, or none at all, is the handler's
// exception.
func TestFidelityReadForwardsFromEnd(t *testing.T) {
	p := newProtoTarget(t)
	full, never, soft, tomb := streamName("end-full"), streamName("end-never"), streamName("end-soft"), streamName("end-tomb")
	for _, s := range []string{full, soft, tomb} {
		if _, err := p.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(3, "T")...); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.client.DeleteStream(ctxT(t), soft, esdb.DeleteStreamOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.client.TombstoneStream(ctxT(t), tomb, esdb.TombstoneStreamOptions{}); err != nil {
		t.Fatal(err)
	}
	fwd, bwd := streams.ReadReq_Options_Forwards, streams.ReadReq_Options_Backwards
	for _, s := range []string{full, never, soft, tomb, "$$"} {
		for _, count := range []uint64{10, 0} {
			for what, rev := range map[string]*streams.ReadReq_Options_StreamOptions{"the end": fromEnd(), "uint64 max": fromRevision(1<<64 - 1)} {
				n, md, err := p.readRaw(t, streamReadOptions(s, rev, fwd, count))
				if n != 0 {
					t.Errorf("%s forwards from %s, count %d: %d messages before the error", s, what, count, n)
				}
				wantStatus(t, s+" forwards from "+what, err, md, codes.Unknown, forwardsFromEnd, nil)
			}
		}
	}
	// A count of 0 is a page of 0 events, which the index reader refuses
	// after the start (forwards) or at once (backwards).
	for _, s := range []string{full, never, tomb} {
		for what, o := range map[string]*streams.ReadReq_Options{
			"forwards from the start": streamReadOptions(s, fromStart(), fwd, 0),
			"forwards from 1":         streamReadOptions(s, fromRevision(1), fwd, 0),
			"backwards from the end":  streamReadOptions(s, fromEnd(), bwd, 0),
		} {
			_, md, err := p.readRaw(t, o)
			wantStatus(t, s+" "+what+" count 0", err, md, codes.Unknown, zeroCount, nil)
		}
	}
	// Above int64 max but not uint64 max: StreamRevision throws; so does a
	// missing revision option (ToStreamRevision's default arm).
	for _, dir := range []streams.ReadReq_Options_ReadDirection{fwd, bwd} {
		_, md, err := p.readRaw(t, streamReadOptions(full, fromRevision(1<<63), dir, 10))
		wantStatus(t, "read from revision 2^63", err, md, codes.Unknown, handlerThrew, nil)
		_, md, err = p.readRaw(t, streamReadOptions(full, &streams.ReadReq_Options_StreamOptions{}, dir, 10))
		wantStatus(t, "read without revision option", err, md, codes.Unknown, handlerThrew, nil)
	}
	sub := dollarDollarOptions(false, fwd, fromRevision(1<<63))
	sub.GetStream().StreamIdentifier = sid(full)
	_, md, err := p.readRaw(t, sub)
	wantStatus(t, "subscription from revision 2^63", err, md, codes.Unknown, handlerThrew, nil)

	// Backwards from the end, and from uint64 max, read the stream's last events.
	for what, rev := range map[string]*streams.ReadReq_Options_StreamOptions{"the end": fromEnd(), "uint64 max": fromRevision(1<<64 - 1)} {
		n, _, err := p.readRaw(t, streamReadOptions(full, rev, bwd, 2))
		if n != 2 || !errors.Is(err, io.EOF) {
			t.Errorf("backwards from %s: %d messages, %v; want 2 and OK", what, n, err)
		}
	}

	// The official client.
	for _, s := range []string{full, never} {
		_, err := readStream(t, p.client, s, esdb.ReadStreamOptions{From: esdb.End{}, Direction: esdb.Forwards}, 10)
		var se interface{ GRPCStatus() *status.Status }
		if !errors.As(err, &se) || se.GRPCStatus().Code() != codes.Unknown || se.GRPCStatus().Message() != forwardsFromEnd || errCode(err) != esdb.ErrorCodeUnknown {
			t.Errorf("official forward read of %s from the end: %v, want Unknown %q", s, err, forwardsFromEnd)
		}
	}
	if evs, err := readStream(t, p.client, full, esdb.ReadStreamOptions{From: esdb.End{}, Direction: esdb.Backwards}, 1); err != nil || len(evs) != 1 || evs[0].OriginalEvent().EventNumber != 2 {
		t.Errorf("official backward read from the end: %v, %v", evs, err)
	}
	// A subscription from the end (and from uint64 max) waits for the next event.
	for what, rev := range map[string]*streams.ReadReq_Options_StreamOptions{"the end": fromEnd(), "uint64 max": fromRevision(1<<64 - 1)} {
		o := dollarDollarOptions(false, fwd, rev)
		rev.StreamIdentifier = sid(full)
		ctx, cancel := context.WithCancel(ctxT(t))
		rs, err := p.raw.Read(ctx, &streams.ReadReq{Options: o})
		var kinds []string
		for err == nil && len(kinds) < 3 {
			var m *streams.ReadResp
			if m, err = rs.Recv(); err != nil {
				break
			}
			switch c := m.GetContent().(type) {
			case *streams.ReadResp_Confirmation:
				kinds = append(kinds, "confirmation")
			case *streams.ReadResp_CaughtUp_:
				kinds = append(kinds, "caught_up")
				if _, err := p.client.AppendToStream(ctxT(t), full, esdb.AppendToStreamOptions{}, events(1, "T")...); err != nil {
					t.Fatal(err)
				}
			case *streams.ReadResp_Event:
				kinds = append(kinds, "event "+itoa(int(c.Event.GetEvent().GetStreamRevision())))
			}
		}
		cancel()
		if len(kinds) != 3 || kinds[0] != "confirmation" || kinds[1] != "caught_up" || kinds[2][:6] != "event " || kinds[2] == "event 0" {
			t.Errorf("subscription from %s: %v, %v; want confirmation, caught_up and the next event", what, kinds, err)
		}
	}
}
