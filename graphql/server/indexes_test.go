package server_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/craftledger/craftledger/graphql/server"
	"github.com/craftledger/craftledger/pkg/auth"
)

// TestIndexesBuiltAndLoadedWithTheSnapshot: Run builds the eligibility
// entries and the as-of index once the projection has caught up, and
// WaitIndexes returns once both are there; the snapshot written on stop
// carries them in its side files, so a server that loads that snapshot
// (LoadSnapshot, as the read-only benchmarks do) holds both before it runs.
func TestIndexesBuiltAndLoadedWithTheSnapshot(t *testing.T) {
	l := startStore(t)
	seed(l, 12)
	dir := t.TempDir()
	first := startServerWith(t, l, server.Config{DataDir: dir})
	first.caughtUp()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := first.srv.WaitIndexes(ctx); err != nil {
		t.Fatalf("indexes after catch-up: %v", err)
	}
	if !first.srv.AsOfIndex().Built() || first.srv.EligEntries().Size().Craftsmen == 0 {
		t.Fatalf("WaitIndexes returned with the as-of index built %v, eligibility entries %+v",
			first.srv.AsOfIndex().Built(), first.srv.EligEntries().Size())
	}
	want := first.srv.EligEntries().Size()
	first.stop() // the final snapshot, with its side files

	again, err := server.New(server.Config{Store: l.store, Key: auth.DevKey()})
	if err != nil {
		t.Fatal(err)
	}
	if again.AsOfIndex().Built() || again.EligEntries().Size().Craftsmen != 0 {
		t.Fatal("a new server holds indexes before anything was loaded")
	}
	if err := again.LoadSnapshot(filepath.Join(dir, "readmodel.snap")); err != nil {
		t.Fatal(err)
	}
	if !again.AsOfIndex().Built() {
		t.Error("the as-of index was not loaded with the snapshot")
	}
	if got := again.EligEntries().Size(); got != want {
		t.Errorf("eligibility entries loaded with the snapshot: %+v, built before the stop %+v", got, want)
	}
}
