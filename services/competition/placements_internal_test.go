package competition

import (
	"fmt"
	"maps"
	"testing"

	"github.com/craftledger/craftledger/events"
)

// TestPlacementSet: every set built by with answers exactly as a map
// holding the same placements (a later one winning for an id), before and
// after its layers are merged, and no set changes when a later one is
// built over it.
func TestPlacementSet(t *testing.T) {
	var sets []*placementSet
	var models []map[string]events.Placement
	var s *placementSet
	model := map[string]events.Placement{}
	for step := 0; step < 3*maxPlacementLayers; step++ {
		var ps []events.Placement
		for k := 0; k < step%3+1; k++ {
			// Ids repeat across steps: a later placement replaces an earlier one.
			ps = append(ps, events.Placement{PlacementID: fmt.Sprintf("p%d", (step*7+k)%20), Rank: step*10 + k})
		}
		if step%5 == 4 {
			ps = nil // an event with no placement adds no layer
		}
		s = s.with(ps)
		for _, p := range ps {
			model[p.PlacementID] = p
		}
		sets, models = append(sets, s), append(models, maps.Clone(model))
		if s != nil && s.layers > maxPlacementLayers {
			t.Fatalf("step %d: %d layers", step, s.layers)
		}
	}
	for i, set := range sets {
		for k := 0; k < 25; k++ {
			id := fmt.Sprintf("p%d", k)
			got, ok := set.get(id)
			want, wok := models[i][id]
			if ok != wok || got != want {
				t.Fatalf("set %d, %s: got %+v %v, want %+v %v", i, id, got, ok, want, wok)
			}
		}
	}
	var empty *placementSet
	if _, ok := empty.get("p1"); ok {
		t.Fatal("the empty set holds p1")
	}
}
