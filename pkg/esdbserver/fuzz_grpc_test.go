package esdbserver_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/craftledger/craftledger/pkg/esdbserver"
)

// FuzzGRPCRequests sends arbitrary Read, Delete and Tombstone requests
// (what arrives on the wire, decoded by protobuf) to a running embedded
// store over real gRPC: each answer is either data or a status with a
// client-side code — never Internal, never Unknown other than KurrentDB's
// handler exception ("Exception was thrown by handler.") or its answers to a
// forward stream read from the end and to one of count 0 (forwardsFromEnd,
// zeroCount), never a crash — and the
// server still serves a normal read afterwards. (Append requests are
// covered by FuzzAppendRequest.) Seeds in testdata/fuzz/FuzzGRPCRequests.
func FuzzGRPCRequests(f *testing.F) {
	srv, err := esdbserver.Start(esdbserver.Config{DataDir: f.TempDir(), Addr: "127.0.0.1:0", Insecure: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { srv.Close() })
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { conn.Close() })
	client := streams.NewStreamsClient(conn)

	readAll := &streams.ReadReq{Options: &streams.ReadReq_Options{
		StreamOption:  &streams.ReadReq_Options_All{All: &streams.ReadReq_Options_AllOptions{AllOption: &streams.ReadReq_Options_AllOptions_Start{Start: &shared.Empty{}}}},
		ReadDirection: streams.ReadReq_Options_Forwards,
		CountOption:   &streams.ReadReq_Options_Count{Count: 10},
		FilterOption: &streams.ReadReq_Options_Filter{Filter: &streams.ReadReq_Options_FilterOptions{
			Filter: &streams.ReadReq_Options_FilterOptions_StreamIdentifier{StreamIdentifier: &streams.ReadReq_Options_FilterOptions_Expression{Regex: "^(a+)+$"}},
			Window: &streams.ReadReq_Options_FilterOptions_Max{Max: 1}, CheckpointIntervalMultiplier: 1}},
		UuidOption: &streams.ReadReq_Options_UUIDOption{Content: &streams.ReadReq_Options_UUIDOption_String_{String_: &shared.Empty{}}},
	}}
	readStream := &streams.ReadReq{Options: &streams.ReadReq_Options{
		StreamOption: &streams.ReadReq_Options_Stream{Stream: &streams.ReadReq_Options_StreamOptions{
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte("$all")},
			RevisionOption:   &streams.ReadReq_Options_StreamOptions_End{End: &shared.Empty{}}}},
		ReadDirection: streams.ReadReq_Options_Backwards,
		CountOption:   &streams.ReadReq_Options_Count{Count: 1 << 62},
		UuidOption:    &streams.ReadReq_Options_UUIDOption{Content: &streams.ReadReq_Options_UUIDOption_Structured{Structured: &shared.Empty{}}},
	}}
	del := &streams.DeleteReq{Options: &streams.DeleteReq_Options{StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte("$$")},
		ExpectedStreamRevision: &streams.DeleteReq_Options_Revision{Revision: 1 << 63}}}
	ping := &streams.ReadReq{Options: &streams.ReadReq_Options{
		StreamOption:  &streams.ReadReq_Options_All{All: &streams.ReadReq_Options_AllOptions{AllOption: &streams.ReadReq_Options_AllOptions_Start{Start: &shared.Empty{}}}},
		ReadDirection: streams.ReadReq_Options_Forwards,
		CountOption:   &streams.ReadReq_Options_Count{Count: 1},
		FilterOption:  &streams.ReadReq_Options_NoFilter{NoFilter: &shared.Empty{}},
		UuidOption:    &streams.ReadReq_Options_UUIDOption{Content: &streams.ReadReq_Options_UUIDOption_String_{String_: &shared.Empty{}}},
	}}
	for kind, m := range []proto.Message{readAll, readStream, del} {
		b, _ := proto.Marshal(m)
		f.Add(uint8(kind), b)
	}
	f.Fuzz(func(t *testing.T, kind uint8, b []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var err error
		switch kind % 3 {
		case 0, 1:
			var req streams.ReadReq
			if proto.Unmarshal(b, &req) != nil {
				return
			}
			// A live subscription would wait for events: bound it.
			sctx, scancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer scancel()
			var rs grpc.ServerStreamingClient[streams.ReadResp]
			rs, err = client.Read(sctx, &req)
			for n := 0; err == nil && n < 1000; n++ {
				_, err = rs.Recv()
			}
			if errors.Is(err, io.EOF) || status.Code(err) == codes.DeadlineExceeded || status.Code(err) == codes.Canceled || sctx.Err() != nil {
				err = nil
			}
		case 2:
			var req streams.DeleteReq
			if proto.Unmarshal(b, &req) != nil {
				return
			}
			_, err = client.Delete(ctx, &req)
			var treq streams.TombstoneReq
			if proto.Unmarshal(b, &treq) == nil && err == nil {
				_, err = client.Tombstone(ctx, &treq)
			}
		}
		if st := status.Convert(err); st.Code() == codes.Internal || st.Code() == codes.Unknown && st.Message() != "Exception was thrown by handler." && st.Message() != forwardsFromEnd && st.Message() != zeroCount {
			t.Fatalf("request %x: %v", b, err)
		}
		// The server still serves.
		rs, err := client.Read(ctx, ping)
		if err == nil {
			_, err = rs.Recv()
		}
		if err != nil && !errors.Is(err, io.EOF) {
			t.Fatalf("after request %x the server fails a plain read: %v", b, err)
		}
	})
}
