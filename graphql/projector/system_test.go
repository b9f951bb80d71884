package projector

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/craftledger/craftledger/graphql/readmodel"
	"github.com/craftledger/craftledger/pkg/esdbserver"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// TestSystemEventsInLedgerStreams: a $-typed event appended to a ledger
// stream (a "$>" link, any "$..." type) takes a revision in it. The
// subscription skipped it, so the stream's next event was a gap: the
// projection stopped with FAILED_PRECONDITION, /readyz answered 503, and
// every restart stopped there again. Now the projection holds it raw
// (undecodable, in the audit log), skips a hard delete's tombstone (at
// revision 2^63-1), and a restart over the same store keeps its snapshot:
// the store check reads the store's events as the model holds them, a
// $-typed first event and a tombstone at the checkpoint included. A
// read-your-writes wait at a system event's position in an unfollowed
// stream (a $metadata write) returns.
func TestSystemEventsInLedgerStreams(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv, err := esdbserver.Start(esdbserver.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	st, err := eventstore.Open(ctx, eventstore.Config{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	conf, err := esdb.ParseConnectionString(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	conf.Logger = esdb.NoopLogging()
	raw, err := esdb.NewClient(conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })

	user := eventstore.EventData{Type: "Unknown.v1", Data: []byte(`{}`), Metadata: []byte(`{}`)}
	sys := func(typ string) eventstore.EventData {
		return eventstore.EventData{Type: typ, Data: []byte("0@craftsman-x")}
	}
	appends := []struct {
		stream string
		evs    []eventstore.EventData
	}{
		{"craftsman-first", []eventstore.EventData{sys("$custom"), user}}, // the log's first ledger event is $-typed
		{"craftsman-x", []eventstore.EventData{user}},
		{"craftsman-x", []eventstore.EventData{sys("$>")}},
		{"craftsman-x", []eventstore.EventData{user}},
		{"craftsman-y", []eventstore.EventData{user, sys("$custom"), user}},
		{"craftsman-gone", []eventstore.EventData{user, user}},
	}
	for _, a := range appends {
		if _, err := st.Append(ctx, a.stream, eventstore.Any(), a.evs...); err != nil {
			t.Fatalf("append to %s: %v", a.stream, err)
		}
	}
	// The tombstone is the last ledger event: the projection's checkpoint.
	del, err := raw.TombstoneStream(ctx, "craftsman-gone", esdb.TombstoneStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	end := eventstore.Position{Commit: del.Position.Commit, Prepare: del.Position.Prepare}

	want := map[string][]string{
		"craftsman-first": {"$custom", "Unknown.v1"},
		"craftsman-x":     {"Unknown.v1", "$>", "Unknown.v1"},
		"craftsman-y":     {"Unknown.v1", "$custom", "Unknown.v1"},
		"craftsman-gone":  {"Unknown.v1", "Unknown.v1"},
	}
	holds := func(m *readmodel.Memory) {
		t.Helper()
		for stream, types := range want {
			got := m.Stream(stream)
			var gt []string
			for i, e := range got {
				gt = append(gt, e.Type)
				if e.Revision != uint64(i) {
					t.Errorf("%s: event %d at revision %d", stream, i, e.Revision)
				}
			}
			if len(gt) != len(types) || len(gt) > 0 && gt[len(gt)-1] != types[len(types)-1] || len(gt) > 1 && gt[1] != types[1] {
				t.Errorf("%s holds %v, want %v", stream, gt, types)
			}
		}
	}

	path := filepath.Join(t.TempDir(), "readmodel.snap")
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	p, m, stop := runUntilReady(t, wctx, st, path, end)
	if err := p.Status().Err; err != nil {
		t.Fatal(err)
	}
	holds(m)
	if got := m.Undecodable(); got != 10 { // 7 Unknown.v1, 3 $-typed
		t.Errorf("undecodable %d, want 10", got)
	}
	// A write of a system event in a stream the projection does not
	// follow: a read-your-writes wait at its position returns.
	var md esdb.StreamMetadata
	md.SetMaxCount(10)
	wr, err := raw.SetStreamMetadata(ctx, "issuer-x", esdb.AppendToStreamOptions{}, md)
	if err != nil {
		t.Fatal(err)
	}
	mctx, mcancel := context.WithTimeout(ctx, 5*time.Second)
	defer mcancel()
	if err := p.WaitFor(mctx, eventstore.Position{Commit: wr.CommitPosition, Prepare: wr.PreparePosition}); err != nil {
		t.Errorf("wait for a $metadata write to an unfollowed stream: %v", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// The restart keeps the snapshot and follows the streams on.
	p, m, stop = runUntilReady(t, wctx, st, path, end)
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()
	if s := p.Status(); s.Rebuilds != 0 || s.Applied != 0 {
		t.Errorf("restart over the same store: rebuilds %d, applied %d; want the snapshot kept (0, 0)", s.Rebuilds, s.Applied)
	}
	holds(m)
	res, err := st.Append(ctx, "craftsman-x", eventstore.At(2), user)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(wctx, res.Position); err != nil {
		t.Fatal(err)
	}
	if got := len(m.Stream("craftsman-x")); got != 4 {
		t.Errorf("craftsman-x holds %d events after the restart and a new one, want 4", got)
	}
}
