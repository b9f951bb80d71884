package readmodel

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/chain"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// Integrity as of a moment judges the stream as it was then: its events
// recorded by then. A chain sealed up to revision 2, then an event
// recorded later whose data was changed after sealing (broken), then one
// without a hash: as of before the break the stream is ok.
func TestIntegrityAsOf(t *testing.T) {
	const s = "craftsman-i"
	trade := events.Trade{Code: "6-18-02-04"}
	ps := []events.Payload{
		events.CraftsmanRegistered{CraftsmanID: "i", NationalIDHash: strings.Repeat("ab", 32)},
		events.TradeEntered{CraftsmanID: "i", Trade: trade},
		events.TrainingCompleted{CraftsmanID: "i", AcademyID: "a", CourseID: "c", Trade: trade, Hours: 8, Mode: "classroom", Passed: true},
		events.TrainingCompleted{CraftsmanID: "i", AcademyID: "a", CourseID: "c", Trade: trade, Hours: 9, Mode: "classroom", Passed: true},
	}
	var batch []eventstore.RecordedEvent
	prev := ""
	for i, p := range ps {
		typ, data, err := events.Encode(p)
		if err != nil {
			t.Fatal(err)
		}
		sealed, meta, err := chain.Seal(prev, typ, data, events.NewMetadata(typ, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), "org", "u"))
		if err != nil {
			t.Fatal(err)
		}
		prev = sealed.Hash
		if i == 3 {
			data = []byte(strings.Replace(string(data), `"hours":9`, `"hours":90`, 1)) // changed after sealing
		}
		batch = append(batch, eventstore.RecordedEvent{Stream: s, ID: fmt.Sprintf("%s-%d", s, i), Type: typ, Revision: uint64(i),
			Position: at(uint64(10 + i)), Data: data, Metadata: meta, Created: time.Unix(int64(10+i), 0).UTC()})
	}
	unchained := encoded(t, s, 4, 20, events.CraftsmanProfileChanged{CraftsmanID: "i", Region: "R"})
	batch = append(batch, unchained)
	m := NewMemory()
	if err := m.Apply(batch, at(20)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		asOf      time.Time
		status    string
		events    uint64
		unchained int
	}{
		{time.Time{}, "broken", 5, 1},
		{time.Unix(20, 0), "broken", 5, 1},
		{time.Unix(13, 0), "broken", 4, 0},
		{time.Unix(12, 0), "ok", 3, 0},
		{time.Unix(10, 0), "ok", 1, 0},
		{time.Unix(9, 0), "unknown", 0, 0},
	} {
		si := m.Integrity(s, c.asOf)
		if si.Status != c.status || si.Events != c.events || si.Unchained != c.unchained || (c.status == "broken") != (si.BreakAt == 3 && si.Reason != "") {
			t.Errorf("as of %v: %+v, want status %s, %d events, %d unchained", c.asOf, si, c.status, c.events, c.unchained)
		}
	}
}
