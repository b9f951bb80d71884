package readmodel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

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
	v  chain.Verifier // reused hasher and scratch space (under mu)
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

var hashField = []byte(`"hash":"`)

// verify brings the stream's verdict up to date with evs (the stream's
// events in revision order) and returns it. Each event's metadata is read
// once: chain.Verifier finds the trailing hash, checks prevHash and hashes
// the bytes; only metadata without the sealed layout is parsed as JSON,
// to tell an unchained event (no hash) from a broken one.
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
			if !hasHash(ev.Metadata) {
				if cs.unchained == nil {
					cs.unchained = map[uint64]bool{}
				}
				cs.unchained[ev.Revision] = true
				cs.last = ""
				continue
			}
			if cs.broken {
				continue // the verdict stands; later events are not hashed
			}
			if cs.last == "" && ev.Revision != 0 {
				cs.broken, cs.breakAt, cs.reason = true, ev.Revision, fmt.Sprintf("first event is at revision %d but no previous hash was given", ev.Revision)
				continue
			}
			h, brk := c.v.VerifyEvent(cs.last, events.Raw{Stream: ev.Stream, Revision: ev.Revision, ID: ev.ID, Type: ev.Type, Data: ev.Data, Metadata: ev.Metadata, Created: ev.Created})
			if brk != nil {
				cs.broken, cs.breakAt, cs.reason = true, ev.Revision, brk.Reason
				continue
			}
			cs.last = h
		}
		cs.checked = n
	}
	return *cs
}

// hasHash reports whether metadata carries a non-empty hash: a scan for
// the field where Seal writes it, JSON only when the scan does not find it.
func hasHash(meta []byte) bool {
	if i := bytes.LastIndex(meta, hashField); i > 0 && (meta[i-1] == ',' || meta[i-1] == '{') && len(meta) > i+len(hashField) && meta[i+len(hashField)] != '"' {
		return true
	}
	var probe struct {
		Hash string `json:"hash"`
	}
	_ = json.Unmarshal(meta, &probe)
	return probe.Hash != ""
}

func (m *Memory) chainOf(stream string) (chainState, int) {
	n := len(m.log.streamIdx(stream))
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
func (m *Memory) Integrity(stream string, recordedBy time.Time) StreamIntegrity {
	m.mu.RLock()
	defer m.mu.RUnlock()
	cs, n := m.chainOf(stream)
	idx := m.log.streamIdx(stream)
	if !recordedBy.IsZero() {
		// The stream as of then: its events recorded by then (a stream's
		// record times follow its revisions), judged as they were.
		n = sort.Search(len(idx), func(i int) bool { return m.log.entries.at(int(idx[i])).recorded().After(recordedBy) })
	}
	if n == 0 {
		return StreamIntegrity{Stream: stream, Status: "unknown"}
	}
	last := m.log.entries.at(int(idx[n-1])).revision
	si := StreamIntegrity{Stream: stream, Events: uint64(n), Status: "ok"}
	for rev := range cs.unchained {
		if rev <= last {
			si.Unchained++
		}
	}
	switch {
	case cs.broken && cs.breakAt <= last:
		si.Status, si.BreakAt, si.Reason = "broken", cs.breakAt, cs.reason
	case si.Unchained > 0:
		si.Status = "unchained"
	}
	return si
}
