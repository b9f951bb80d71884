package readmodel

import (
	"sync"

	"github.com/craftledger/craftledger/pkg/eventstore"
)

// Memory is the in-memory read model: the embedded default. It is safe for
// one writer (the projector) and many concurrent readers.
type Memory struct {
	mu    sync.RWMutex
	cp    eventstore.Position
	hasCP bool
	log   rawLog
	dom   *domain
}

// NewMemory returns an empty in-memory read model.
func NewMemory() *Memory {
	return &Memory{log: newRawLog(), dom: newDomain()}
}

// Checkpoint implements Writer.
func (m *Memory) Checkpoint() (eventstore.Position, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.cp, m.hasCP
}

// Apply implements Writer.
func (m *Memory) Apply(batch []eventstore.RecordedEvent, cp eventstore.Position) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var from *eventstore.Position
	if m.hasCP {
		c := m.cp
		from = &c
	}
	fresh, err := m.log.check(batch, from)
	if err != nil {
		return err
	}
	for _, ev := range fresh {
		m.log.add(ev)
		m.dom.apply(&m.log.all[len(m.log.all)-1])
	}
	m.dom.settle()
	if !m.hasCP || m.cp.Less(cp) {
		m.cp, m.hasCP = cp, true
	}
	return nil
}

// Len is the number of events held.
func (m *Memory) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.log.all)
}

// Log answers an audit query over the raw events.
func (m *Memory) Log(q LogQuery) LogPage {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.log.page(q)
}

// Stream returns the raw events of one stream in revision order (nil when
// the stream has no events).
func (m *Memory) Stream(name string) []eventstore.RecordedEvent {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.log.stream(name)
}

// Reader is what the GraphQL schema reads. A PostgreSQL implementation
// answers the same methods from tables (see docs/graphql.md).
type Reader interface {
	// Log pages the raw events for the audit view.
	Log(q LogQuery) LogPage
	// Stream returns one stream's raw events in revision order.
	Stream(name string) []eventstore.RecordedEvent
	// ChainStatus is the hash-chain status of one event: "ok", "broken"
	// or "unchained".
	ChainStatus(stream string, revision uint64) string
}

// ChainStatus implements Reader.
func (m *Memory) ChainStatus(stream string, revision uint64) string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.dom.chainStatus(stream, revision)
}
