package audittest

import (
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
)

// The test careers are valid events: the services would have accepted them.
func TestCareerIsValid(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, e := range append(Career("c-1"), Competition()...) {
		m := events.NewMetadata(e.Payload.EventType(), e.Occurred, e.Issuer, "u")
		if err := events.Check(e.Payload, m, now); err != nil {
			t.Errorf("%s: %v", e.Payload.EventType(), err)
		}
	}
}
