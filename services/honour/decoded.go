package honour

import (
	"sync"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
)

// decodedCache remembers the decoded records of recently used craftsman
// streams, so that a command decodes only the events appended since the
// last decision on the stream instead of the whole history (decoding is
// what a decision costs most). A record is a pure function of its event,
// and streams only grow: a remembered prefix is reused when the history
// still has, at the remembered length, the event remembered last;
// otherwise the history is decoded anew.
type decodedCache struct {
	mu  sync.Mutex
	max int
	m   map[string]decodedEntry
}

type decodedEntry struct {
	n      int    // events of the history decoded (known types or not)
	lastID string // id of the n-th event
	recs   []events.Recorded
}

func newDecodedCache(max int) *decodedCache {
	return &decodedCache{max: max, m: make(map[string]decodedEntry)}
}

// records returns the known-type records of h, in order. The slice is the
// caller's own (it may be kept or changed).
func (c *decodedCache) records(reg *events.Registry, h command.History) ([]events.Recorded, error) {
	start := 0
	var prefix []events.Recorded
	c.mu.Lock()
	if e, ok := c.m[h.Stream]; ok && e.n > 0 && e.n <= len(h.Events) && h.Events[e.n-1].ID == e.lastID {
		start, prefix = e.n, e.recs
	}
	c.mu.Unlock()
	recs := make([]events.Recorded, len(prefix), len(prefix)+len(h.Events)-start)
	copy(recs, prefix)
	for _, r := range h.Events[start:] {
		if !reg.Known(r.Type) {
			continue
		}
		rec, err := reg.DecodeRecorded(events.Raw{Stream: r.Stream, Revision: r.Revision, ID: r.ID, Type: r.Type,
			Data: r.Data, Metadata: r.Metadata, Created: r.Created})
		if err != nil {
			return nil, errs.E(errs.Internal, "%v", err)
		}
		recs = append(recs, rec)
	}
	if len(h.Events) == 0 {
		return recs, nil
	}
	keep := make([]events.Recorded, len(recs))
	copy(keep, recs)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[h.Stream]; ok && e.n > len(h.Events) {
		return recs, nil // a longer history is remembered already
	}
	if _, ok := c.m[h.Stream]; !ok && len(c.m) >= c.max {
		for k := range c.m { // make room: any entry
			delete(c.m, k)
			break
		}
	}
	c.m[h.Stream] = decodedEntry{n: len(h.Events), lastID: h.Events[len(h.Events)-1].ID, recs: keep}
	return recs, nil
}
