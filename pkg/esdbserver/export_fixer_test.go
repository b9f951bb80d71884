package esdbserver

import (
	"sync/atomic"

	"github.com/cockroachdb/pebble"
)

// CorruptRecord overwrites the log record at position pos with bytes that
// do not decode, so that reading it fails like a damaged disk would.
func CorruptRecord(s *Server, pos uint64) error {
	return s.store.db.Set(logKey(pos), []byte{0xff, 0xff}, pebble.Sync)
}

// FakeFreeSpace makes the store see free bytes free on a file system of
// total bytes, whatever the disk says, until the returned func is called
// with other figures. Call it before the writes it should govern.
func FakeFreeSpace(s *Server, free, total uint64) (set func(free, total uint64)) {
	var f, t atomic.Uint64
	f.Store(free)
	t.Store(total)
	s.store.space.statfs = func(string) (uint64, uint64, bool) { return f.Load(), t.Load(), true }
	return func(free, total uint64) { f.Store(free); t.Store(total) }
}
