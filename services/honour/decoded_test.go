package honour

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

func honourEvent(t *testing.T, stream string, rev int, id string) eventstore.RecordedEvent {
	t.Helper()
	data, err := json.Marshal(events.HonourConferred{CraftsmanID: "w1", HonourID: fmt.Sprintf("h%d", rev), Code: "x", Name: "n", Level: "national", ConferringBody: "b"})
	if err != nil {
		t.Fatal(err)
	}
	meta, err := events.EncodeMetadata(events.NewMetadata(events.TypeHonourConferred, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), "org", "u"))
	if err != nil {
		t.Fatal(err)
	}
	return eventstore.RecordedEvent{Stream: stream, ID: id, Type: events.TypeHonourConferred, Revision: uint64(rev), Data: data, Metadata: meta,
		Created: time.Date(2021, 1, 1, 0, 0, rev, 0, time.UTC)}
}

// The remembered records are those a full decode gives: as the history
// grows, for a prefix of it, and for another history of the same name.
func TestDecodedCacheMatchesFullDecode(t *testing.T) {
	reg := events.NewRegistry()
	full := func(h command.History) []events.Recorded {
		recs, err := newDecodedCache(0).records(reg, h)
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	c := newDecodedCache(8)
	var evs []eventstore.RecordedEvent
	unknown := eventstore.RecordedEvent{Stream: "craftsman-w1", ID: "u", Type: "Unknown.v1", Data: []byte(`{}`)}
	for i := range 6 {
		if i == 2 {
			evs = append(evs, unknown)
		}
		evs = append(evs, honourEvent(t, "craftsman-w1", len(evs), fmt.Sprintf("e%d", i)))
		h := command.History{Stream: "craftsman-w1", Exists: true, Events: evs}
		got, err := c.records(reg, h)
		if err != nil {
			t.Fatal(err)
		}
		if want := full(h); !reflect.DeepEqual(got, want) || len(got) != i+1 {
			t.Fatalf("after %d events: %d records, want %d equal to a full decode", len(evs), len(got), len(want))
		}
		got[0].ID = "changed by the caller" // the caller's own slice
	}
	prefix := command.History{Stream: "craftsman-w1", Exists: true, Events: evs[:3]}
	if got, _ := c.records(reg, prefix); !reflect.DeepEqual(got, full(prefix)) {
		t.Fatal("a prefix decodes differently")
	}
	if got, _ := c.records(reg, command.History{Stream: "craftsman-w1", Exists: true, Events: evs}); len(got) != 6 || got[0].ID != "e0" {
		t.Fatalf("after a prefix: %d records, first %q", len(got), got[0].ID)
	}
	other := []eventstore.RecordedEvent{honourEvent(t, "craftsman-w1", 0, "x0"), honourEvent(t, "craftsman-w1", 1, "x1"),
		honourEvent(t, "craftsman-w1", 2, "x2"), honourEvent(t, "craftsman-w1", 3, "x3"), honourEvent(t, "craftsman-w1", 4, "x4"),
		honourEvent(t, "craftsman-w1", 5, "x5"), honourEvent(t, "craftsman-w1", 6, "x6"), honourEvent(t, "craftsman-w1", 7, "x7")}
	oh := command.History{Stream: "craftsman-w1", Exists: true, Events: other}
	if got, _ := c.records(reg, oh); !reflect.DeepEqual(got, full(oh)) {
		t.Fatal("another history of the same stream reused the remembered records")
	}
	for i := range 20 { // bounded
		_, _ = c.records(reg, command.History{Stream: fmt.Sprintf("craftsman-b%d", i), Exists: true, Events: other[:1]})
	}
	if len(c.m) > 8 {
		t.Fatalf("%d streams remembered, bound 8", len(c.m))
	}
}
