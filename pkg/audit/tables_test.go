package audit

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"testing"
)

// TestFactTableMatchesMap drives factTable and a Go map with the same sets
// (repeated ids overwrite; several streams and both kinds) and compares
// every lookup, including ids never set — once with the real hash and
// once with one that makes most ids collide, so the fallback for
// colliding ids answers too.
func TestFactTableMatchesMap(t *testing.T) {
	masks := map[string]uint64{
		"maphash":   ^uint64(0),
		"colliding": 1, // two hashes for all keys
	}
	for name, mask := range masks {
		r := rand.New(rand.NewPCG(7, 11))
		for _, ids := range []int{1, 2, 9, 40} {
			tb := newFactTable()
			tb.mask = mask
			type key struct {
				stream int32
				kind   uint8
				id     string
			}
			want := map[key]string{}
			for i := range 300 {
				k := key{int32(r.IntN(3)), factEmployer + uint8(r.IntN(2)), factID(r.IntN(ids))}
				org := fmt.Sprintf("org-%d", r.IntN(5))
				tb.set(k.stream, k.kind, []byte(k.id), []byte(org))
				want[k] = org
				for s := range int32(3) {
					for _, kind := range []uint8{factEmployer, factHonour} {
						for j := range ids + 2 {
							q := key{s, kind, factID(j)}
							got, ok := tb.get(q.stream, q.kind, []byte(q.id))
							w, wok := want[q]
							if string(got) != w || ok != wok {
								t.Fatalf("%s, ids=%d after %d sets: get(%v) = %q, %v; want %q, %v", name, ids, i+1, q, got, ok, w, wok)
							}
						}
					}
				}
			}
		}
	}
}

// factID is the j-th id of TestFactTableMatchesMap: a third of them
// longer than the look-up keys built on the stack (factKeyMax).
func factID(j int) string {
	if j%3 == 2 {
		return fmt.Sprintf("e-%0*d", factKeyMax, j)
	}
	return fmt.Sprintf("e-%d", j)
}

// TestStreamTableCollisions: names given the same hash still get their own
// states, found again under that hash, and each state keeps its name.
func TestStreamTableCollisions(t *testing.T) {
	tb := newStreamTable()
	var seed = maphash.MakeSeed()
	names := make([]string, 3000)
	for i := range names {
		names[i] = fmt.Sprintf("craftsman-%d", i)
	}
	hash := func(i int) uint64 {
		if i%3 == 0 {
			return 42 // a third of the names collide
		}
		return maphash.String(seed, names[i])
	}
	for round := range 2 {
		for i, n := range names {
			j, s := tb.lookup(n, hash(i))
			if string(tb.Key(j)) != n || tb.At(j) != s {
				t.Fatalf("round %d: lookup(%s) = state of %s", round, n, tb.Key(j))
			}
			if round == 0 {
				if s.next != 0 {
					t.Fatalf("new stream %s has a state already", n)
				}
				s.next = uint64(i) + 1
			} else if s.next != uint64(i)+1 {
				t.Fatalf("stream %s: state of another stream (next %d)", n, s.next)
			}
		}
	}
	if tb.Len() != len(names) {
		t.Fatalf("%d streams, want %d", tb.Len(), len(names))
	}
}
