package esdbserver_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/gossip"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/craftledger/craftledger/pkg/esdbserver"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
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
	if _, ok := offered["event_store.client.streams.streams/batchappend"]; ok {
		t.Error("batchappend advertised but not implemented")
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
