package competition

import "sync"

// known remembers facts that never change once true, so that a check
// need not read the store again: a competition's definition (its stream's
// first event, never rewritten; corrections are applied by the decision
// on the whole history) and that a craftsman is registered (a registration
// is never undone). Only positive answers are kept; a refusal is always
// decided on a fresh read. Bounded: when full it forgets an arbitrary
// entry.
type known[V any] struct {
	mu  sync.Mutex
	max int
	m   map[string]V
}

func newKnown[V any](max int) *known[V] { return &known[V]{max: max, m: make(map[string]V)} }

func (k *known[V]) get(key string) (V, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[key]
	return v, ok
}

func (k *known[V]) put(key string, v V) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.m[key]; !ok && len(k.m) >= k.max {
		for old := range k.m {
			delete(k.m, old)
			break
		}
	}
	k.m[key] = v
}
