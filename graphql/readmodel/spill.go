package readmodel

import (
	"os"
	"slices"
)

// The raw log's bytes are most of the model's size (~8 KB of ~10 per
// craftsman of a generated ledger), yet they are read only for audit
// answers, hash chains and a craftsman's first query. So they do not live
// on the Go heap: each chunk is a region of a temporary file (unlinked at
// once: it disappears with the process), mapped read-only, and the bytes
// of a batch are written into it with one write when the batch is applied
// (rawLog.flush). The kernel keeps the pages it needs in its page cache and
// may drop the others; the garbage collector never scans, copies or zeroes
// them, and no heap chunk is filled and thrown away per 4 MiB. A loaded
// snapshot's bytes are mapped from the snapshot file the same way. Where
// the file or the mapping cannot be had, chunks stay on the heap.

type spill struct {
	f      *os.File
	size   int64 // bytes of the file given to chunks
	tail   int64 // file offset of the last chunk handed out
	failed bool
}

var pageSize = os.Getpagesize()

// chunkFor is the size of a new chunk holding at least n bytes: whole
// pages, so that every chunk maps at a page-aligned file offset.
func chunkFor(n int) int {
	n = max(chunkSize, n)
	return (n + pageSize - 1) / pageSize * pageSize
}

// grow adds n bytes (whole pages) at the end of the file and maps them
// read-only; ok is false when spilling is not possible (the caller keeps
// the chunk on the heap).
func (s *spill) grow(n int) ([]byte, bool) {
	if !canMap || s.failed || n%pageSize != 0 {
		return nil, false
	}
	if s.f == nil {
		f, err := os.CreateTemp("", "craftledger-readmodel-*")
		if err != nil {
			s.failed = true
			return nil, false
		}
		_ = os.Remove(f.Name()) // unlinked: gone with the process
		s.f = f
	}
	// The file covers the whole mapping: no page of it lies past the end.
	if err := s.f.Truncate(s.size + int64(n)); err != nil {
		s.failed = true
		return nil, false
	}
	m, err := mapShared(s.f, s.size, n)
	if err != nil {
		s.failed = true
		return nil, false
	}
	s.tail = s.size
	s.size += int64(n)
	return m, true
}

// write writes b at offset off of the last chunk; false when it cannot.
func (s *spill) write(b []byte, off int) bool {
	if _, err := s.f.WriteAt(b, s.tail+int64(off)); err != nil {
		s.failed = true
		return false
	}
	return true
}

// flush writes the bytes added since the last flush into the file behind
// the last chunk's mapping, where readers then find them. Memory.apply
// flushes before anything reads the batch's bytes. When the write fails,
// the chunk moves to the heap (what was written is read back from the
// mapping) and the log keeps its chunks on the heap from then on. The
// chunk list is copied, not changed in place: a snapshot writer may hold
// the old list without the lock.
func (l *rawLog) flush() {
	if len(l.stage) == 0 {
		return
	}
	k := len(l.chunks) - 1
	if !l.spill.write(l.stage, l.staged) {
		c := make([]byte, len(l.chunks[k]))
		copy(c, l.chunks[k][:l.staged])
		copy(c[l.staged:], l.stage)
		chunks, mapped := slices.Clone(l.chunks), slices.Clone(l.mapped)
		chunks[k], mapped[k] = c, false
		l.chunks, l.mapped, l.fileTail = chunks, mapped, false
	}
	l.staged += len(l.stage)
	l.stage = l.stage[:0]
}

// ReleaseMapped lets the pages of the log's file-mapped chunks leave the
// process's resident set: they stay in the page cache, and a read faults
// them back in (as a snapshot load and write release what they read). For
// a reader that has just read every craftsman once (a build of derived
// data after a load would otherwise keep the whole mapped log resident:
// +7 GB of file-backed RSS at 1 M).
func (m *Memory) ReleaseMapped() {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for i, c := range m.log.chunks {
		if m.log.mapped[i] {
			release(c)
		}
	}
}
