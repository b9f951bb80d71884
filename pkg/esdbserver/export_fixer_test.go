package esdbserver

import "github.com/cockroachdb/pebble"

// CorruptRecord overwrites the log record at position pos with bytes that
// do not decode, so that reading it fails like a damaged disk would.
func CorruptRecord(s *Server, pos uint64) error {
	return s.store.db.Set(logKey(pos), []byte{0xff, 0xff}, pebble.Sync)
}
