package servicekit

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
)

// DecodedFacts keeps the decoded career facts of the craftsman streams a
// service folded last, so that folding a stream again decodes only the
// events appended since (decoding the JSON of every event is most of a
// fold's cost). An entry is used only for the events it was decoded from —
// same id, revision and record time at every position: a stream reloaded
// from the store after the handler's own appends has other record times —
// so the facts are exactly those decoding the history would give. Entries
// are never changed once stored. Safe for concurrent use.
type DecodedFacts struct {
	mu     sync.Mutex
	m      map[string]*decodedStream
	held   int // facts over all entries
	max    int // streams
	maxRec int // facts over all streams
}

type decodedStream struct {
	raw  []rawKey          // the events decoded, in stream order
	recs []events.Recorded // the career facts among them (known types)
	// written counts the leading events of raw that were in the store
	// when folded; those after (no $all position yet) were a batch's
	// decisions not yet appended (command.Handler.ExecuteBatch).
	written int
	// extended is set by the one caller allowed to append the stream's
	// next events in place, into raw's and recs' spare capacity: slots past
	// the entry's lengths, which no reader of this entry ever looks at.
	extended atomic.Bool
}

// rawKey identifies a stored event.
type rawKey struct {
	id       string
	revision uint64
	created  time.Time
}

func (k rawKey) same(o rawKey) bool {
	return k.id == o.id && k.revision == o.revision && k.created.Equal(o.created)
}

// The bounds the services give their DecodedFacts: 4,096 streams and
// 200,000 facts over all of them.
const (
	DefaultDecodedStreams = 4096
	DefaultDecodedFacts   = 200_000
)

// NewDecodedFacts returns a cache of at most streams streams and facts
// facts over all of them.
func NewDecodedFacts(streams, facts int) *DecodedFacts {
	return &DecodedFacts{m: map[string]*decodedStream{}, max: streams, maxRec: facts}
}

// Facts returns the decoded career facts of h's events (known types only),
// in order. The slice may be shared with the cache and other callers: read
// it, never change it.
func (c *DecodedFacts) Facts(reg *events.Registry, h command.History) ([]events.Recorded, error) {
	c.mu.Lock()
	old := c.m[h.Stream]
	c.mu.Unlock()
	n, k := 0, 0 // events and facts reused
	if old != nil && len(old.raw) <= len(h.Events) {
		n = len(old.raw)
		for i, r := range old.raw {
			if e := &h.Events[i]; e.ID != r.id || e.Revision != r.revision || !e.Created.Equal(r.created) {
				n = 0
				break
			}
		}
		if n > 0 {
			k = len(old.recs)
		}
	}
	if n == len(h.Events) && n > 0 {
		return old.recs[:k:k], nil
	}
	var (
		raw  []rawKey
		recs []events.Recorded
	)
	if n > 0 && cap(old.raw) >= len(h.Events) && cap(old.recs) >= k+len(h.Events)-n && old.extended.CompareAndSwap(false, true) {
		// A stream grows by a few events per command: write them after
		// the entry's own (its readers see only old.raw[:n] and
		// old.recs[:k]) instead of copying every fact decoded before.
		raw, recs = old.raw[:n], old.recs[:k]
	} else {
		// Room to grow: the next events of this stream are appended in
		// place (above) until it is full.
		size := len(h.Events) + max(len(h.Events)/2, 4)
		raw = make([]rawKey, n, size)
		recs = make([]events.Recorded, k, size-n+k)
		if n > 0 {
			copy(raw, old.raw)
			copy(recs, old.recs)
		}
	}
	for _, r := range h.Events[n:] {
		raw = append(raw, rawKey{id: r.ID, revision: r.Revision, created: r.Created})
		if !reg.Known(r.Type) {
			continue // not a career fact
		}
		rec, err := reg.DecodeRecorded(events.Raw{Stream: r.Stream, Revision: r.Revision, ID: r.ID, Type: r.Type,
			Data: r.Data, Metadata: r.Metadata, Created: r.Created})
		if err != nil {
			return nil, errs.E(errs.Internal, "%v", err)
		}
		recs = append(recs, rec)
	}
	if len(raw) > 0 && len(recs) <= c.maxRec {
		written := len(h.Events)
		for written > 0 && h.Events[written-1].Position.IsStart() {
			written--
		}
		c.put(h.Stream, &decodedStream{raw: raw, recs: recs, written: written})
	}
	// Without spare capacity: a caller's append must not write into the
	// slots the cache extends in place.
	return recs[:len(recs):len(recs)], nil
}

// Held reports how many streams and facts the cache holds.
func (c *DecodedFacts) Held() (streams, facts int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m), c.held
}

// put stores d for stream unless the entry there already extends it (a
// longer history of written events with d's last event at the same place:
// a caller folding a shorter copy of the stream), then drops arbitrary
// other streams while the cache is over its bounds. A longer entry holding
// events that were not written when folded (a batch's decisions before its
// append) or that d's history contradicts is replaced: d's caller folds
// the stream as it is now (the batch was refused, failed or is decided
// again), and keeping the entry would hold facts of events that were never
// written and make every fold of the stream decode afresh until the stream
// outgrew it.
func (c *DecodedFacts) put(stream string, d *decodedStream) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.m[stream]; old != nil {
		if n := len(d.raw); len(old.raw) > n && old.written == len(old.raw) && old.raw[n-1].same(d.raw[n-1]) {
			return
		}
		c.held -= len(old.recs)
	}
	c.m[stream] = d
	c.held += len(d.recs)
	for other, e := range c.m {
		if len(c.m) <= c.max && c.held <= c.maxRec {
			break
		}
		if other != stream {
			delete(c.m, other)
			c.held -= len(e.recs)
		}
	}
}
