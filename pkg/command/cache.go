package command

import (
	"container/list"
	"sync"

	"github.com/craftledger/craftledger/pkg/eventstore"
)

// cache keeps the histories of recently used streams so that a command
// decides without reading its stream first. It is optimistic and needs no
// invalidation protocol: a stale history makes the append fail on its
// expected revision (errs.Conflict), and the handler then drops the entry
// and reloads from the store — or, for an append with fixed ids, succeed
// idempotently on another writer's events, which the handler's read-back
// (readback.go) finds, likewise dropping the entry. Histories are never
// mutated once cached.
type cache struct {
	mu        sync.Mutex
	max       int // streams
	maxEvents int // events over all streams
	events    int
	ll        *list.List // front = most recently used
	items     map[string]*list.Element
}

type cacheEntry struct {
	stream string
	hist   History
}

func newCache(max, maxEvents int) *cache {
	return &cache{max: max, maxEvents: maxEvents, ll: list.New(), items: make(map[string]*list.Element)}
}

func (c *cache) get(stream string) (History, bool) {
	if c == nil {
		return History{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[stream]
	if !ok {
		return History{}, false
	}
	c.ll.MoveToFront(el)
	return el.Value.(*cacheEntry).hist, true
}

// holds reports whether stream's history is cached (without marking it
// used).
func (c *cache) holds(stream string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.items[stream]
	return ok
}

// put stores h unless a later history of the stream is already cached.
func (c *cache) put(h History) {
	if c == nil || !h.Exists || len(h.Events) > c.maxEvents {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[h.Stream]; ok {
		e := el.Value.(*cacheEntry)
		if e.hist.Exists && e.hist.Revision() > h.Revision() {
			return
		}
		c.events += len(h.Events) - len(e.hist.Events)
		e.hist = h
		c.ll.MoveToFront(el)
	} else {
		c.items[h.Stream] = c.ll.PushFront(&cacheEntry{stream: h.Stream, hist: h})
		c.events += len(h.Events)
	}
	for c.ll.Len() > c.max || c.events > c.maxEvents {
		old := c.ll.Back()
		c.ll.Remove(old)
		e := old.Value.(*cacheEntry)
		delete(c.items, e.stream)
		c.events -= len(e.hist.Events)
	}
}

func (c *cache) drop(stream string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[stream]; ok {
		c.ll.Remove(el)
		delete(c.items, stream)
		c.events -= len(el.Value.(*cacheEntry).hist.Events)
	}
}

// extend returns h followed by the events just appended. h is shared (the
// cache hands it to every command on the stream) and what it shows never
// changes: the new events go after its length. When h is its stream's
// cached tip — the one history that may grow, claimed under the cache lock
// (the caller holds the stream lock, so no other command extends it) —
// they are appended in place, into spare capacity or a doubled array:
// amortised O(1) per event, where copying the whole history on every
// append made a long stream O(n²). Any other history is copied first.
func (c *cache) extend(h History, data []eventstore.EventData, ar eventstore.AppendResult, now func() eventstore.RecordedEvent) History {
	evs := h.Events
	if !c.isTip(h) {
		evs = make([]eventstore.RecordedEvent, len(h.Events), grow(len(h.Events), len(data)))
		copy(evs, h.Events)
	} else if len(evs)+len(data) > cap(evs) {
		bigger := make([]eventstore.RecordedEvent, len(evs), grow(len(evs), len(data)))
		copy(bigger, evs)
		evs = bigger
	}
	first := ar.NextRevision + 1 - uint64(len(data))
	for i, d := range data {
		e := now()
		e.Stream, e.ID, e.Type, e.Revision, e.Data, e.Metadata = h.Stream, d.ID, d.Type, first+uint64(i), d.Data, d.Metadata
		// Only the last event's position is known exactly; earlier events
		// of the batch get the same (they commit together).
		e.Position = ar.Position
		evs = append(evs, e)
	}
	return History{Stream: h.Stream, Exists: true, Events: evs}
}

// grow is the capacity for n events and k more: doubled, so that
// appending one event at a time copies each event O(1) times on average.
// A new stream's first events get just their room: many streams are
// written once by a handler (a pairing, a reservation), and their copy
// stays in the cache.
func grow(n, k int) int {
	if n == 0 {
		return k
	}
	return max(2*n, n+k, 8)
}

// isTip reports whether h is the history cached for its stream (same
// length, same array): only the tip may be extended in place. Without a
// cache nothing else holds h.
func (c *cache) isTip(h History) bool {
	if c == nil {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[h.Stream]
	if !ok {
		return false
	}
	t := el.Value.(*cacheEntry).hist.Events
	return len(t) == len(h.Events) && len(t) > 0 && &t[0] == &h.Events[0]
}
