package keytable_test

import (
	"fmt"
	"testing"

	"github.com/craftledger/craftledger/pkg/internal/keytable"
)

// TestTableAgreesWithAMap puts and finds keys under hashes of every width
// down to none (every key colliding), and checks a clone is independent.
func TestTableAgreesWithAMap(t *testing.T) {
	for _, bits := range []uint{64, 3, 0} {
		t.Run(fmt.Sprint("bits=", bits), func(t *testing.T) {
			h := func(k string) uint64 {
				var x uint64 = 1469598103934665603
				for i := 0; i < len(k); i++ {
					x = (x ^ uint64(k[i])) * 1099511628211
				}
				if bits == 64 {
					return x
				}
				return x & (1<<bits - 1)
			}
			tab := keytable.New[int]()
			want := map[string]int{}
			for i := range 3000 {
				k := fmt.Sprint("k", i%2000)
				*tab.At(keytable.Put(&tab, k, h(k))) += i
				want[k] += i
			}
			if tab.Len() != len(want) {
				t.Fatalf("%d keys, want %d", tab.Len(), len(want))
			}
			for k, v := range want {
				i, ok := keytable.Find(&tab, []byte(k), h(k))
				if !ok || *tab.At(i) != v || string(tab.Key(i)) != k {
					t.Fatalf("%s: %v %v, want %d", k, ok, i, v)
				}
			}
			if _, ok := keytable.Find(&tab, "absent", h("absent")); ok {
				t.Fatal("found a key never put")
			}
			c := tab.Clone()
			*c.At(keytable.Put(&c, "k1", h("k1"))) = -1
			keytable.Put(&c, "new", h("new"))
			if i, _ := keytable.Find(&tab, "k1", h("k1")); *tab.At(i) != want["k1"] {
				t.Fatal("a clone's change reached the original")
			}
			if _, ok := keytable.Find(&tab, "new", h("new")); ok || tab.Len() != len(want) {
				t.Fatal("a clone's new key reached the original")
			}
		})
	}
}
