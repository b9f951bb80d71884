package esdbserver_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/gossip"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/craftledger/craftledger/pkg/esdbserver"
)

// TestConnectDiscovery: what the client asks on connect — supported methods
// and gossip — and that esdb+discover:// reaches the node through gossip.
func TestConnectDiscovery(t *testing.T) {
	srv := startServer(t, esdbserver.Config{Insecure: true})
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	feats, err := serverfeatures.NewServerFeaturesClient(conn).GetSupportedMethods(ctxT(t), &shared.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(feats.EventStoreServerVersion, ".")
	if major, err := strconv.Atoi(parts[0]); err != nil || major < 23 || len(parts) != 3 {
		t.Errorf("server version %q: want numeric MAJOR.MINOR.PATCH ≥ 23", feats.EventStoreServerVersion)
	}
	offered := map[string][]string{}
	for _, m := range feats.Methods {
		offered[m.ServiceName+"/"+m.MethodName] = m.Features
	}
	for _, want := range []string{
		"event_store.client.streams.streams/append", "event_store.client.streams.streams/read",
		"event_store.client.streams.streams/delete", "event_store.client.streams.streams/tombstone",
		"event_store.client.streams.streams/batchappend",
		"event_store.client.persistent_subscriptions.persistentsubscriptions/getinfo",
		"event_store.client.persistent_subscriptions.persistentsubscriptions/replayparked",
	} {
		if _, ok := offered[want]; !ok {
			t.Errorf("%s not advertised", want)
		}
	}
	if f := offered["event_store.client.persistent_subscriptions.persistentsubscriptions/create"]; !strings.Contains(strings.Join(f, ","), "all") {
		t.Errorf("persistent create features %v lack \"all\"", f)
	}

	info, err := gossip.NewGossipClient(conn).Read(ctxT(t), &shared.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Members) != 1 || info.Members[0].State != gossip.MemberInfo_Leader || !info.Members[0].IsAlive ||
		info.Members[0].HttpEndPoint.Address != "127.0.0.1" {
		t.Errorf("gossip: %v", info.Members)
	}

	c := connect(t, "esdb+discover://"+srv.Addr()+"?tls=false")
	if _, err := c.AppendToStream(ctxT(t), streamName("discover"), esdb.AppendToStreamOptions{}, event("T", "{}")); err != nil {
		t.Errorf("append through esdb+discover://: %v", err)
	}
}

// TestErrorTrailers: the exact status and trailers KurrentDB sends, which
// the client (and other clients) classify by.
func TestErrorTrailers(t *testing.T) {
	srv := startServer(t, esdbserver.Config{Insecure: true, MaxAppendSize: 1000})
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := connect(t, srv.URL())
	sc := streams.NewStreamsClient(conn)
	ctx := ctxT(t)
	s := streamName("trailers")
	if _, err := c.AppendToStream(ctx, s, esdb.AppendToStreamOptions{}, event("T", "{}")); err != nil {
		t.Fatal(err)
	}
	id := func(name string) *shared.StreamIdentifier { return &shared.StreamIdentifier{StreamName: []byte(name)} }
	check := func(name string, err error, md metadata.MD, code codes.Code, want map[string]string) {
		t.Helper()
		if status.Code(err) != code {
			t.Errorf("%s: status %v, want %v", name, err, code)
		}
		for k, v := range want {
			if got := md.Get(k); len(got) != 1 || got[0] != v {
				t.Errorf("%s: trailer %s = %v, want %q", name, k, got, v)
			}
		}
	}

	var md metadata.MD
	_, err = sc.Delete(ctx, &streams.DeleteReq{Options: &streams.DeleteReq_Options{StreamIdentifier: id(s),
		ExpectedStreamRevision: &streams.DeleteReq_Options_Revision{Revision: 5}}}, grpc.Trailer(&md))
	check("delete at a wrong revision", err, md, codes.FailedPrecondition, map[string]string{
		"exception": "wrong-expected-version", "stream-name": s, "expected-version": "5", "actual-version": "0"})

	if _, err := c.TombstoneStream(ctx, s, esdb.TombstoneStreamOptions{}); err != nil {
		t.Fatal(err)
	}
	md = nil
	rs, err := sc.Read(ctx, &streams.ReadReq{Options: &streams.ReadReq_Options{
		StreamOption: &streams.ReadReq_Options_Stream{Stream: &streams.ReadReq_Options_StreamOptions{StreamIdentifier: id(s),
			RevisionOption: &streams.ReadReq_Options_StreamOptions_Start{Start: &shared.Empty{}}}},
		CountOption:  &streams.ReadReq_Options_Count{Count: 10},
		FilterOption: &streams.ReadReq_Options_NoFilter{NoFilter: &shared.Empty{}},
		UuidOption:   &streams.ReadReq_Options_UUIDOption{Content: &streams.ReadReq_Options_UUIDOption_Structured{Structured: &shared.Empty{}}},
	}}, grpc.Trailer(&md))
	if err == nil {
		_, err = rs.Recv()
	}
	check("read of a tombstoned stream", err, md, codes.FailedPrecondition, map[string]string{"exception": "stream-deleted", "stream-name": s})

	md = nil
	ap, err := sc.Append(ctx, grpc.Trailer(&md))
	if err != nil {
		t.Fatal(err)
	}
	_ = ap.Send(&streams.AppendReq{Content: &streams.AppendReq_Options_{Options: &streams.AppendReq_Options{StreamIdentifier: id(streamName("big")),
		ExpectedStreamRevision: &streams.AppendReq_Options_Any{Any: &shared.Empty{}}}}})
	_ = ap.Send(&streams.AppendReq{Content: &streams.AppendReq_ProposedMessage_{ProposedMessage: &streams.AppendReq_ProposedMessage{
		Id:       &shared.UUID{Value: &shared.UUID_String_{String_: "0b8a2e4c-1f1d-4c57-9d1e-0a6f3b0a1c11"}},
		Metadata: map[string]string{"type": "Big", "content-type": "application/octet-stream"},
		Data:     make([]byte, 2000),
	}}})
	_, err = ap.CloseAndRecv()
	check("append over the size limit", err, md, codes.InvalidArgument, map[string]string{
		"exception": "maximum-append-size-exceeded", "maximum-append-size": "1000"})
}
