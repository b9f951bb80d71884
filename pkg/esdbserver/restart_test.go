package esdbserver_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/craftledger/craftledger/pkg/esdbserver"
)

// TestStateSurvivesRestart: what the store rebuilds at open — stream
// states, metadata, deletions, the head position and the recent ids for
// idempotence — is the same after a clean restart.
func TestStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, esdbserver.Config{DataDir: dir, Insecure: true})
	c := connect(t, srv.URL())
	ctx := ctxT(t)
	batch := events(3, "T")
	first, err := c.AppendToStream(ctx, "kept", esdb.AppendToStreamOptions{}, batch...)
	if err != nil {
		t.Fatal(err)
	}
	var m esdb.StreamMetadata
	m.SetMaxCount(2)
	if _, err := c.SetStreamMetadata(ctx, "kept", esdb.AppendToStreamOptions{}, m); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"soft", "hard"} {
		if _, err := c.AppendToStream(ctx, s, esdb.AppendToStreamOptions{}, events(2, "T")...); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.DeleteStream(ctx, "soft", esdb.DeleteStreamOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TombstoneStream(ctx, "hard", esdb.TombstoneStreamOptions{}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	srv2 := startServer(t, esdbserver.Config{DataDir: dir, Insecure: true})
	c2 := connect(t, srv2.URL())
	again, err := c2.AppendToStream(ctx, "kept", esdb.AppendToStreamOptions{}, batch...)
	if err != nil || again.NextExpectedVersion != first.NextExpectedVersion || again.CommitPosition != first.CommitPosition {
		t.Errorf("idempotent re-append after restart: %+v %v, want %+v", again, err, first)
	}
	got, err := readStream(t, c2, "kept", esdb.ReadStreamOptions{}, 10)
	if err != nil || len(got) != 2 || got[0].Event.EventNumber != 1 {
		t.Errorf("maxCount 2 after restart: %d events, %v", len(got), err)
	}
	if _, err := readStream(t, c2, "soft", esdb.ReadStreamOptions{}, 10); errCode(err) != esdb.ErrorCodeResourceNotFound {
		t.Errorf("soft-deleted stream after restart: %v", err)
	}
	if _, err := readStream(t, c2, "hard", esdb.ReadStreamOptions{}, 10); errCode(err) != esdb.ErrorCodeStreamDeleted {
		t.Errorf("tombstoned stream after restart: %v", err)
	}
	res, err := c2.AppendToStream(ctx, "soft", esdb.AppendToStreamOptions{ExpectedRevision: esdb.Revision(1)}, event("T", "{}"))
	if err != nil || res.NextExpectedVersion != 2 || res.CommitPosition <= first.CommitPosition {
		t.Errorf("re-create after restart: %+v %v", res, err)
	}
}

func TestRefusesForeignDataDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "FORMAT"), []byte("something-else 7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := esdbserver.Start(esdbserver.Config{DataDir: dir, Addr: "127.0.0.1:0", Insecure: true})
	if err == nil || !strings.Contains(err.Error(), "format") {
		t.Fatalf("start on a foreign data dir: %v, want a format error", err)
	}
}
