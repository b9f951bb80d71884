package mentorship

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

// stored is a craftsman stream of n events as the store would return them:
// a registration, then pairings, with an unknown type at revision 2.
func stored(t *testing.T, n int, created time.Time) command.History {
	t.Helper()
	h := command.History{Stream: events.CraftsmanStream("w1"), Exists: true}
	for i := range n {
		var p events.Payload = events.MentorshipStarted{MentorshipParties: events.MentorshipParties{MentorshipID: fmt.Sprint("m", i),
			MasterID: "w1", ApprenticeID: fmt.Sprint("a", i)}, Kind: events.MentorshipMasterApprentice, Trade: events.Trade{Code: "6-31-01-03"}, PlannedMonths: 24}
		if i == 0 {
			p = events.CraftsmanRegistered{CraftsmanID: "w1", NationalIDHash: fmt.Sprintf("%064d", 1)}
		}
		typ := p.EventType()
		data, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			typ, data = "SomethingElse.v1", []byte(`{}`)
		}
		meta, err := json.Marshal(events.Metadata{SchemaVersion: 1, OccurredAt: created.AddDate(0, 0, i), IssuerOrgID: "a", ActingUserID: "u"})
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, eventstore.RecordedEvent{Stream: h.Stream, ID: fmt.Sprintf("00000000-0000-0000-0000-%012d", i), Type: typ,
			Revision: uint64(i), Data: data, Metadata: meta, Created: created.Add(time.Duration(i) * time.Second)})
	}
	return h
}

// TestDecodedCacheGivesWhatDecodingGives: whatever the cache holds, the
// facts of a history are those decoding all its events gives — a longer
// history reuses the prefix, a history whose events differ (another record
// time: reloaded from the store) or a shorter one is decoded afresh.
func TestDecodedCacheGivesWhatDecodingGives(t *testing.T) {
	reg := events.NewRegistry()
	day := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	fresh := func(h command.History) []events.Recorded {
		t.Helper()
		recs, err := newDecodedCache(10, 1000).facts(reg, h)
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	c := newDecodedCache(10, 1000)
	for _, h := range []command.History{
		stored(t, 3, day), stored(t, 3, day), stored(t, 6, day), stored(t, 6, day.Add(time.Hour)),
		stored(t, 4, day), stored(t, 7, day), {Stream: events.CraftsmanStream("w1")},
	} {
		got, err := c.facts(reg, h)
		if err != nil {
			t.Fatal(err)
		}
		want := fresh(h)
		if len(h.Events) > 2 && len(want) != len(h.Events)-1 {
			t.Fatalf("%d facts of %d events (one unknown)", len(want), len(h.Events))
		}
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("%d events: cached facts differ from decoded ones:\n%+v\n%+v", len(h.Events), got, want)
		}
	}
	// Bounded: a fourth stream in a cache of three drops another.
	small := newDecodedCache(3, 1000)
	for i := range 4 {
		h := stored(t, 2, day)
		h.Stream = fmt.Sprint("craftsman-s", i)
		if _, err := small.facts(reg, h); err != nil {
			t.Fatal(err)
		}
	}
	if len(small.m) != 3 || small.held != 6 {
		t.Fatalf("%d streams, %d facts held; want 3, 6", len(small.m), small.held)
	}
}
