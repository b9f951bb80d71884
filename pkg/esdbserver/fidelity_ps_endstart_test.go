package esdbserver_test

import (
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/craftledger/craftledger/pkg/esdbserver"
)

// TestFidelityPSEndStartResolvedAtLoad: a group created from the end keeps
// "-1" as its start (CreatePersistentSubscription saves
// startFrom.ToString(), PersistentSubscriptionService.cs 297-317) and each
// load resolves it again (LoadConfiguration 1291-1295; OnCheckpointLoaded,
// PersistentSubscription.cs 128-136, starts live). Without a checkpoint,
// events appended before a restart are not delivered after it.
func TestFidelityPSEndStartResolvedAtLoad(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, esdbserver.Config{DataDir: dir, Insecure: true})
	c := connect(t, srv.URL())
	if _, err := c.AppendToStream(ctxT(t), "orders", esdb.AppendToStreamOptions{}, events(1, "T")...); err != nil {
		t.Fatal(err)
	}
	settings := esdb.SubscriptionSettingsDefault()
	if err := c.CreatePersistentSubscription(ctxT(t), "orders", "g", esdb.PersistentStreamSubscriptionOptions{StartFrom: esdb.End{}, Settings: &settings}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AppendToStream(ctxT(t), "orders", esdb.AppendToStreamOptions{}, events(2, "T")...); err != nil { // 1 and 2, nobody connected
		t.Fatal(err)
	}
	c.Close()
	srv.Close()
	srv2 := startServer(t, esdbserver.Config{DataDir: dir, Insecure: true})
	c2 := connect(t, srv2.URL())
	info, err := c2.GetPersistentSubscriptionInfo(ctxT(t), "orders", "g", esdb.GetPersistentSubscriptionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Settings.StartFrom != (esdb.End{}) {
		t.Errorf("start after the restart %#v, want the end", info.Settings.StartFrom)
	}
	sub, err := c2.SubscribeToPersistentSubscription(ctxT(t), "orders", "g", esdb.SubscribeToPersistentSubscriptionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	time.Sleep(300 * time.Millisecond)
	if _, err := c2.AppendToStream(ctxT(t), "orders", esdb.AppendToStreamOptions{}, events(1, "T")...); err != nil { // 3
		t.Fatal(err)
	}
	if n := nextPersistent(t, sub).Event.OriginalEvent().EventNumber; n != 3 {
		t.Errorf("first delivery after the restart is %d, want 3 (the group starts live again)", n)
	}
}
