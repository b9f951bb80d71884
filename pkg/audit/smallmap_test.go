package audit

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestSmallMapMatchesMap drives smallMap and a Go map with the same sets
// (repeated ids overwrite, past smallMapMax it switches to a map) and
// compares every lookup, including ids never set.
func TestSmallMapMatchesMap(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for _, ids := range []int{1, 2, smallMapMax, smallMapMax + 1, 40} {
		var m smallMap
		want := map[string]string{}
		for i := range 200 {
			id := fmt.Sprintf("e-%d", r.IntN(ids))
			org := fmt.Sprintf("org-%d", i)
			m.set(id, org)
			want[id] = org
			for j := range ids + 2 {
				q := fmt.Sprintf("e-%d", j)
				got, ok := m.get(q)
				w, wok := want[q]
				if got != w || ok != wok {
					t.Fatalf("ids=%d after %d sets: get(%s) = %q, %v; want %q, %v", ids, i+1, q, got, ok, w, wok)
				}
			}
		}
	}
}
