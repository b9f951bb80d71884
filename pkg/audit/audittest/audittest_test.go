package audittest

import (
	"bytes"
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

// SealRaw computes the hash events/chain computes for the same bytes.
func TestSealRawMatchesChain(t *testing.T) {
	s := Seal(t, "craftsman-x", Career("x"))
	for i, e := range s {
		j := bytes.LastIndex(e.Metadata, []byte(`,"hash":"`))
		body := append(append([]byte(nil), e.Metadata[:j]...), '}')
		prev := ""
		if i > 0 {
			prev = s[i-1].Hash
		}
		meta, h := SealRaw(prev, e.Type, e.Data, body)
		if h != e.Hash || !bytes.Equal(meta, e.Metadata) {
			t.Fatalf("event %d: SealRaw gives %s %s, chain %s %s", i, h, meta, e.Hash, e.Metadata)
		}
	}
}
