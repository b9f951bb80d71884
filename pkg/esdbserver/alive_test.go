package esdbserver_test

import (
	"context"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/craftledger/craftledger/pkg/esdbserver"
)

// TestKeepaliveIdleClient (first file in order, so its quiet overlaps the
// other tests): the v4 client pings every 10 s of quiet.
// grpc-go's default server policy (pings no more often than every 5 min)
// answers the third such ping with GOAWAY too_many_pings, which drops every
// open subscription after about 30 s of quiet. A client idle for 33 s with
// a live subscription open must keep it, and the subscription must still
// deliver. The server's own pings (also every 10 s of quiet) would count as
// activity and spare the client its pings, hiding a wrong policy, so here
// the server pings only after 5 min. Not in -short (33 s of waiting); it
// waits in parallel with the rest of the package.
func TestKeepaliveIdleClient(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 33 s for the client's keepalive pings")
	}
	srv := startServer(t, esdbserver.WithServerPingInterval(esdbserver.Config{Insecure: true}, 5*time.Minute))
	c := connect(t, srv.URL())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sub, err := c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: esdb.End{}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if ev := sub.Recv(); ev.CaughtUp == nil {
		t.Fatalf("want caught-up first, got %+v", ev)
	}
	// The quiet starts now; the rest of the package's tests run meanwhile.
	quietUntil := time.Now().Add(33 * time.Second) // three client pings and then some
	t.Parallel()
	time.Sleep(time.Until(quietUntil))
	ev := event("Ping.v1", "{}")
	if _, err := c.AppendToStream(ctx, "keepalive", esdb.AppendToStreamOptions{}, ev); err != nil {
		t.Fatalf("append after idling: %v", err)
	}
	for {
		got := sub.Recv()
		if got.SubscriptionDropped != nil {
			t.Fatalf("subscription dropped while idle: %v", got.SubscriptionDropped.Error)
		}
		if got.EventAppeared != nil && got.EventAppeared.Event.EventID == ev.EventID {
			return
		}
	}
}
