package esdbserver_test

// A stream Read of "$$", established from KurrentDB's source in the tenth
// session: nothing on the read path refuses the name (the enumerators and
// ClientMessage.ReadStreamEventsForward/Backward check only for an empty
// one), the index reader takes "$$" as the metastream of "" and finds no
// event (IndexReader.cs 217-225, 589-596), so a read answers
// stream_not_found and a subscription is confirmed, caught up and waits.
// The legacy access policy checks it as the metadata read of "", a user
// stream (LegacyStreamPermissionAssertion.cs 63-70): any authenticated
// caller may.

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
)

// readAnswer is what a Read call sent back: the kinds of its messages in
// order and how it ended (nil: OK).
type readAnswer struct {
	kinds    []string
	notFound string // the stream_not_found message's stream
	err      error
}

// readDollarDollar sends a Read of the stream "$$" and collects the
// answer; a subscription is read up to its caught_up message.
func readDollarDollar(t *testing.T, ctx context.Context, raw streams.StreamsClient, o *streams.ReadReq_Options) readAnswer {
	t.Helper()
	var a readAnswer
	rs, err := raw.Read(ctx, &streams.ReadReq{Options: o})
	for err == nil {
		var m *streams.ReadResp
		if m, err = rs.Recv(); err != nil {
			break
		}
		switch c := m.GetContent().(type) {
		case *streams.ReadResp_StreamNotFound_:
			a.kinds = append(a.kinds, "stream_not_found")
			a.notFound = string(c.StreamNotFound.GetStreamIdentifier().GetStreamName())
		case *streams.ReadResp_Confirmation:
			a.kinds = append(a.kinds, "confirmation")
		case *streams.ReadResp_CaughtUp_:
			a.kinds = append(a.kinds, "caught_up")
			return a // a subscription: it would wait from here on
		default:
			a.kinds = append(a.kinds, "other")
		}
	}
	if !errors.Is(err, io.EOF) {
		a.err = err
	}
	return a
}

func dollarDollarOptions(count bool, dir streams.ReadReq_Options_ReadDirection, rev *streams.ReadReq_Options_StreamOptions) *streams.ReadReq_Options {
	o := &streams.ReadReq_Options{UuidOption: structuredUUIDs(), ReadDirection: dir,
		FilterOption: &streams.ReadReq_Options_NoFilter{NoFilter: &shared.Empty{}}}
	rev.StreamIdentifier = sid("$$")
	o.StreamOption = &streams.ReadReq_Options_Stream{Stream: rev}
	if count {
		o.CountOption = &streams.ReadReq_Options_Count{Count: 10}
	} else {
		o.CountOption = &streams.ReadReq_Options_Subscription{Subscription: &streams.ReadReq_Options_SubscriptionOptions{}}
	}
	return o
}

func fromStart() *streams.ReadReq_Options_StreamOptions {
	return &streams.ReadReq_Options_StreamOptions{RevisionOption: &streams.ReadReq_Options_StreamOptions_Start{Start: &shared.Empty{}}}
}

func fromEnd() *streams.ReadReq_Options_StreamOptions {
	return &streams.ReadReq_Options_StreamOptions{RevisionOption: &streams.ReadReq_Options_StreamOptions_End{End: &shared.Empty{}}}
}

func fromRevision(r uint64) *streams.ReadReq_Options_StreamOptions {
	return &streams.ReadReq_Options_StreamOptions{RevisionOption: &streams.ReadReq_Options_StreamOptions_Revision{Revision: r}}
}

// checkDollarDollarReads runs the reads and subscriptions of "$$" that
// KurrentDB serves, and one combination it does not, as the caller of ctx.
func checkDollarDollarReads(t *testing.T, who string, ctx func() context.Context, raw streams.StreamsClient) {
	t.Helper()
	notFound := []string{"stream_not_found"}
	subscribed := []string{"confirmation", "caught_up"}
	for _, tc := range []struct {
		name string
		o    *streams.ReadReq_Options
		want []string
	}{
		{"forwards from the start", dollarDollarOptions(true, streams.ReadReq_Options_Forwards, fromStart()), notFound},
		{"forwards from revision 3", dollarDollarOptions(true, streams.ReadReq_Options_Forwards, fromRevision(3)), notFound},
		{"backwards from the end", dollarDollarOptions(true, streams.ReadReq_Options_Backwards, fromEnd()), notFound},
		{"backwards from revision 3", dollarDollarOptions(true, streams.ReadReq_Options_Backwards, fromRevision(3)), notFound},
		{"subscription from the start", dollarDollarOptions(false, streams.ReadReq_Options_Forwards, fromStart()), subscribed},
		{"subscription from the end", dollarDollarOptions(false, streams.ReadReq_Options_Forwards, fromEnd()), subscribed},
		{"subscription after revision 3", dollarDollarOptions(false, streams.ReadReq_Options_Forwards, fromRevision(3)), subscribed},
	} {
		c, cancel := context.WithCancel(ctx())
		a := readDollarDollar(t, c, raw, tc.o)
		cancel()
		if a.err != nil || strings.Join(a.kinds, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: read of $$ %s: %v then %v, want %v and OK", who, tc.name, a.kinds, a.err, tc.want)
		}
		if a.notFound != "" && a.notFound != "$$" {
			t.Errorf("%s: read of $$ %s: stream_not_found names %q", who, tc.name, a.notFound)
		}
	}
	// What CreateEnumerator has no case for is still refused so.
	var md metadata.MD
	rs, err := raw.Read(ctx(), &streams.ReadReq{Options: dollarDollarOptions(false, streams.ReadReq_Options_Backwards, fromEnd())}, grpc.Trailer(&md))
	if err == nil {
		_, err = rs.Recv()
	}
	wantStatus(t, who+": backwards subscription to $$", err, md, codes.InvalidArgument, "The combination of (Stream, Subscription, Backwards, NoFilter) is invalid.", nil)
}

// TestFidelityReadEmptyMetastream: a Read of the stream "$$" answers as a
// stream that does not exist — stream_not_found for reads in either
// direction, confirmation and caught_up for a subscription — on an
// insecure server, and on a secure one to admins and to any other
// authenticated user; the official client sees a missing stream.
func TestFidelityReadEmptyMetastream(t *testing.T) {
	t.Run("insecure", func(t *testing.T) {
		p := newProtoTarget(t)
		// Events elsewhere, and metadata for "$$" itself ("$$$$"), change nothing.
		if _, err := p.client.AppendToStream(ctxT(t), streamName("dd"), esdb.AppendToStreamOptions{}, events(2, "T")...); err != nil {
			t.Fatal(err)
		}
		if _, err := p.client.SetStreamMetadata(ctxT(t), "$$", esdb.AppendToStreamOptions{}, esdb.StreamMetadata{}); err != nil {
			t.Fatal(err)
		}
		checkDollarDollarReads(t, "insecure", func() context.Context { return ctxT(t) }, p.raw)

		_, err := readStream(t, p.client, "$$", esdb.ReadStreamOptions{}, 10)
		if errCode(err) != esdb.ErrorCodeResourceNotFound {
			t.Errorf("official read of $$: %v, want stream not found", err)
		}
		_, err = readStream(t, p.client, "$$", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 10)
		if errCode(err) != esdb.ErrorCodeResourceNotFound {
			t.Errorf("official backwards read of $$: %v, want stream not found", err)
		}
		sub, err := p.client.SubscribeToStream(ctxT(t), "$$", esdb.SubscribeToStreamOptions{})
		if err != nil {
			t.Fatalf("official subscription to $$: %v", err)
		}
		defer sub.Close()
		if ev := sub.Recv(); ev.CaughtUp == nil {
			t.Errorf("official subscription to $$: first event %+v, want caught up", ev)
		}
	})

	t.Run("secure", func(t *testing.T) {
		srv := startSecureServer(t)
		conn := dialTLS(t, srv)
		raw := streams.NewStreamsClient(conn)
		for _, user := range []string{"admin", "ops"} {
			auth := basicAuth(user, "changeit")
			checkDollarDollarReads(t, user, func() context.Context {
				return metadata.AppendToOutgoingContext(ctxT(t), "authorization", auth)
			}, raw)
			c := connectAs(t, srv, user+":changeit@")
			if _, err := readStream(t, c, "$$", esdb.ReadStreamOptions{}, 10); errCode(err) != esdb.ErrorCodeResourceNotFound {
				t.Errorf("official read of $$ as %s: %v, want stream not found", user, err)
			}
		}
		// Anonymous callers are refused as for every stream.
		var md metadata.MD
		rs, err := raw.Read(ctxT(t), &streams.ReadReq{Options: dollarDollarOptions(true, streams.ReadReq_Options_Forwards, fromStart())}, grpc.Trailer(&md))
		if err == nil {
			_, err = rs.Recv()
		}
		wantStatus(t, "anonymous read of $$", err, md, codes.PermissionDenied, "Access Denied", map[string]string{"exception": "access-denied"})
	})
}
