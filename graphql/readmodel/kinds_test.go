package readmodel

import (
	"slices"
	"testing"

	"github.com/craftledger/craftledger/events"
)

// TestEveryTypeHasAKind: every event type of the catalogue, every version,
// has a timeline kind of its own among Kinds(), so that no fact is shown as
// "other" with its raw type name (assessments were, until the thirteenth
// session), except the catalogue's types that never reach a timeline.
func TestEveryTypeHasAKind(t *testing.T) {
	// On issuer and reservation streams only: never in a craftsman's timeline.
	notShown := []string{events.TypeIssuerRegistered, events.TypeIssuerUserAdded, events.TypeNationalIDReserved}
	kinds := Kinds()
	for _, typ := range events.NewRegistry().Types() {
		if slices.Contains(notShown, events.CurrentType(typ)) {
			continue
		}
		if k := KindOf(typ); !slices.Contains(kinds, k) {
			t.Errorf("%s: kind %q, not one of Kinds()", typ, k)
		}
	}
}
