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
// and reloads from the store. Histories are never mutated once cached.
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

// extend returns h followed by the events just appended (a new slice; h
// is shared and never mutated).
func extend(h History, data []eventstore.EventData, ar eventstore.AppendResult, now func() eventstore.RecordedEvent) History {
	out := History{Stream: h.Stream, Exists: true, Events: make([]eventstore.RecordedEvent, len(h.Events), len(h.Events)+len(data))}
	copy(out.Events, h.Events)
	first := ar.NextRevision + 1 - uint64(len(data))
	for i, d := range data {
		e := now()
		e.Stream, e.ID, e.Type, e.Revision, e.Data, e.Metadata = h.Stream, d.ID, d.Type, first+uint64(i), d.Data, d.Metadata
		// Only the last event's position is known exactly; earlier events
		// of the batch get the same (they commit together).
		e.Position = ar.Position
		out.Events = append(out.Events, e)
	}
	return out
}
