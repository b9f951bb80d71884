package servicekit_test

import (
	"fmt"
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/servicekit"
)

// TestFactOnStream: a fact's recording in force is found; one a
// correction retracted is passed over for the next id of its chain; a
// reversed retraction or a replacement leaves it in force.
func TestFactOnStream(t *testing.T) {
	h := command.History{Stream: "craftsman-w", Exists: true}
	add := func(id, typ, data string) {
		h.Events = append(h.Events, eventstore.RecordedEvent{Stream: h.Stream, Revision: uint64(len(h.Events)), ID: id, Type: typ, Data: []byte(data)})
	}
	correct := func(id, target, replacement string) {
		data := fmt.Sprintf(`{"craftsmanId":"w","supersedesEventId":%q,"reason":"r"}`, target)
		if replacement != "" {
			data = fmt.Sprintf(`{"craftsmanId":"w","supersedesEventId":%q,"reason":"r","replacement":{"data":%s}}`, target, replacement)
		}
		add(id, events.TypeEventCorrected, data)
	}
	check := func(what string, wantLink int, wantID string, wantFound bool) {
		t.Helper()
		link, id, found, err := servicekit.FactOnStream(h, "a", servicekit.RetractedOn(h))
		if err != nil || link != wantLink || id != wantID || (found != nil) != wantFound {
			t.Errorf("%s: link %d id %s found %v err %v; want link %d id %s found %v", what, link, id, found != nil, err, wantLink, wantID, wantFound)
		}
	}
	a1 := servicekit.RecordedAgainID("a")
	check("not recorded", 0, "a", false)
	add("a", events.TypeHonourWithdrawn, `{}`)
	check("recorded", 0, "a", true)
	correct("c1", "a", "")
	check("retracted", 1, a1, false)
	correct("c2", "c1", "")
	check("its retraction reversed", 0, "a", true)
	correct("c3", "a", `{}`)
	check("replaced", 0, "a", true)
	correct("c4", "a", "")
	add(a1, events.TypeHonourWithdrawn, `{}`)
	check("retracted, recorded again", 1, a1, true)
	correct("c5", a1, "")
	check("retracted twice", 2, servicekit.RecordedAgainID(a1), false)
}
