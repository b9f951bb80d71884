package readmodel

import (
	"encoding/json"
	"sync"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/chain"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// Hash chains are verified lazily, on the first audit read of a stream,
// and the verdict is cached up to the revision checked: applying events
// stays cheap, and each event is hashed at most once per process.

// chains caches per-stream verification progress. Its own mutex lets
// readers (holding the model's read lock) extend it.
type chains struct {
	mu sync.Mutex
	m  map[string]*chainState
}

type chainState struct {
	checked   int    // events of the stream verified so far
	last      string // hash of the last verified event ("" after an unchained one)
	broken    bool
	breakAt   uint64
	reason    string
	unchained map[uint64]bool
}

func newChains() *chains { return &chains{m: map[string]*chainState{}} }

// verify brings the stream's verdict up to date with evs (the stream's
// events in revision order) and returns it.
func (c *chains) verify(stream string, evs func() []eventstore.RecordedEvent, n int) chainState {
	c.mu.Lock()
	defer c.mu.Unlock()
	cs := c.m[stream]
	if cs == nil {
		cs = &chainState{}
		c.m[stream] = cs
	}
	if cs.checked < n {
		all := evs()
		for _, ev := range all[cs.checked:n] {
			var probe struct {
				Hash string `json:"hash"`
			}
			_ = json.Unmarshal(ev.Metadata, &probe)
			if probe.Hash == "" {
				if cs.unchained == nil {
					cs.unchained = map[uint64]bool{}
				}
				cs.unchained[ev.Revision] = true
				cs.last = ""
				continue
			}
			if !cs.broken {
				raw := []events.Raw{{Stream: ev.Stream, Revision: ev.Revision, ID: ev.ID, Type: ev.Type, Data: ev.Data, Metadata: ev.Metadata, Created: ev.Created}}
				if brk := chain.Verify(raw, chain.Options{PrevHash: cs.last}); brk != nil {
					cs.broken, cs.breakAt, cs.reason = true, ev.Revision, brk.Reason
				}
			}
			cs.last = probe.Hash
		}
		cs.checked = n
	}
	return *cs
}

func (m *Memory) chainOf(stream string) (chainState, int) {
	n := len(m.log.streams[stream])
	return m.chains.verify(stream, func() []eventstore.RecordedEvent { return m.log.stream(stream) }, n), n
}

// ChainStatus implements Reader: "ok", "broken" (this event or an earlier
// one of its stream fails verification), "unchained" (no hash) or
// "unknown" (no such event).
func (m *Memory) ChainStatus(stream string, revision uint64) string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	cs, n := m.chainOf(stream)
	switch {
	case n == 0:
		return "unknown"
	case cs.broken && revision >= cs.breakAt:
		return "broken"
	case cs.unchained[revision]:
		return "unchained"
	}
	return "ok"
}

// Integrity implements DomainReader.
func (m *Memory) Integrity(stream string) StreamIntegrity {
	m.mu.RLock()
	defer m.mu.RUnlock()
	cs, n := m.chainOf(stream)
	if n == 0 {
		return StreamIntegrity{Stream: stream, Status: "unknown"}
	}
	si := StreamIntegrity{Stream: stream, Events: uint64(n), Status: "ok", Unchained: len(cs.unchained)}
	switch {
	case cs.broken:
		si.Status, si.BreakAt, si.Reason = "broken", cs.breakAt, cs.reason
	case len(cs.unchained) > 0:
		si.Status = "unchained"
	}
	return si
}
