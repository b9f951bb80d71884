package eventstore_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/internal/esdbtest"
)

// A read of $all skips system events unless WithSystem: then a stream's
// $metadata (here truncating it with $tb) comes back on "$$<stream>",
// filtered and bounded like any event, while the events it hides are
// still in $all either way. (The server's own system events, its users,
// come back too and are not counted here.)
func TestReadAllWithSystemEvents(t *testing.T) {
	srv := startServer(t, t.TempDir(), "127.0.0.1:0")
	t.Cleanup(func() { _ = srv.Close() })
	c := open(t, eventstore.Config{URL: srv.URL()})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, s := range []string{"sys-1", "other-1"} {
		if _, err := c.Append(ctx, s, eventstore.Any(), eventstore.EventData{Type: "A.v1", Data: []byte(`{}`)}, eventstore.EventData{Type: "A.v1", Data: []byte(`{}`)},
			eventstore.EventData{Type: "A.v1", Data: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	raw := esdbtest.Connect(t, srv.URL())
	var m esdb.StreamMetadata
	m.SetTruncateBefore(2)
	if _, err := raw.SetStreamMetadata(ctx, "sys-1", esdb.AppendToStreamOptions{}, m); err != nil {
		t.Fatal(err)
	}
	count := func(opts eventstore.ReadAllOptions) (user, meta int, tb uint64) {
		t.Helper()
		evs, err := c.ReadAll(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Type != "$metadata" {
				if e.Type[0] != '$' {
					user++ // (the server's own $users and such are not counted)
				}
				continue
			}
			meta++
			var md struct {
				TB uint64 `json:"$tb"`
			}
			if e.Stream != "$$sys-1" || json.Unmarshal(e.Data, &md) != nil {
				t.Errorf("system event %s %s %s", e.Stream, e.Type, e.Data)
			}
			tb = md.TB
		}
		return
	}
	if u, m, _ := count(eventstore.ReadAllOptions{}); u != 6 || m != 0 {
		t.Errorf("default read: %d events, %d $metadata; want 6, 0", u, m)
	}
	if u, m, tb := count(eventstore.ReadAllOptions{WithSystem: true}); u != 6 || m != 1 || tb != 2 {
		t.Errorf("WithSystem: %d events, %d $metadata ($tb %d); want 6, 1 ($tb 2)", u, m, tb)
	}
	if u, m, _ := count(eventstore.ReadAllOptions{WithSystem: true, Filter: &eventstore.Filter{Prefixes: []string{"sys-", "$$sys-"}}}); u != 3 || m != 1 {
		t.Errorf("WithSystem, filtered: %d events, %d $metadata; want 3, 1", u, m)
	}
	if u, m, _ := count(eventstore.ReadAllOptions{WithSystem: true, Filter: &eventstore.Filter{Prefixes: []string{"other-"}}}); u != 3 || m != 0 {
		t.Errorf("WithSystem, filtered out: %d events, %d $metadata; want 3, 0", u, m)
	}
	if u, m, _ := count(eventstore.ReadAllOptions{WithSystem: true, Direction: eventstore.Backwards, FromEnd: true, Max: 1}); u != 0 || m != 1 {
		t.Errorf("WithSystem, last event: %d events, %d $metadata; want the $metadata", u, m)
	}
}
