package esdbserver

import (
	"context"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/craftledger/craftledger/pkg/internal/esdbtest"
)

// TestPSRestartDuringClose: a RestartSubsystem that arrives while Close is
// shutting the groups down (Close shuts them before it stops gRPC, so the
// RPC is still served) is answered Unavailable and starts no group; it
// used to make new groups whose run loops nothing stopped, outliving Close
// and the store.
func TestPSRestartDuringClose(t *testing.T) {
	s, err := Start(Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	c := esdbtest.Connect(t, s.URL())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := c.AppendToStream(ctx, "close-s", esdb.AppendToStreamOptions{}, esdb.EventData{EventID: uuid.New(), EventType: "T", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if err := c.CreatePersistentSubscription(ctx, "close-s", "g", esdb.PersistentStreamSubscriptionOptions{StartFrom: esdb.Start{}}); err != nil {
		t.Fatal(err)
	}
	s.psubs.mu.Lock()
	old := s.psubs.groups[string(psKey("close-s", "g"))]
	s.psubs.mu.Unlock()
	// Hold the group's lock so that Close's psubs.close() (which has
	// already taken its list of groups) waits on the group's shutdown;
	// a RestartSubsystem arrives meanwhile, as gRPC still serves.
	old.mu.Lock()
	time.Sleep(300 * time.Millisecond) // its run loop's next tick now waits for the lock
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	time.Sleep(300 * time.Millisecond)
	restarted := make(chan error, 1)
	go func() {
		restarted <- c.RestartPersistentSubscriptionSubsystem(ctx, esdb.RestartPersistentSubscriptionSubsystemOptions{})
	}()
	time.Sleep(300 * time.Millisecond)
	old.mu.Unlock()
	if err := <-restarted; err == nil {
		t.Error("RestartSubsystem during Close succeeded; want Unavailable")
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	s.psubs.mu.Lock()
	groups := make([]*psGroup, 0, len(s.psubs.groups))
	for _, g := range s.psubs.groups {
		groups = append(groups, g)
	}
	s.psubs.mu.Unlock()
	for _, g := range groups {
		select {
		case <-g.stopped:
		case <-time.After(2 * time.Second):
			t.Errorf("group %s/%s still runs 2 s after Close returned (store closed)", g.cfg.Source, g.cfg.Group)
		}
	}
}
