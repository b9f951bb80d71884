package readmodel

import (
	"os"
	"slices"
)

// The raw log's bytes are most of the model's size (~8 KB of ~10 per
// craftsman of a generated ledger), yet they are read only for audit
// answers, hash chains and a craftsman's first query. So a chunk that is
// full leaves the Go heap: it is written to a temporary file (unlinked at
// once: it disappears with the process) and mapped read-only in its place.
// The kernel keeps the pages it needs in its page cache and may drop the
// others; the garbage collector never scans or copies them. A loaded
// snapshot's bytes are mapped from the snapshot file the same way. Where
// the file or the mapping cannot be had, chunks stay on the heap.

type spill struct {
	f      *os.File
	size   int64
	failed bool
}

var pageSize = os.Getpagesize()

// chunkFor is the size of a new chunk holding at least n bytes: whole
// pages, so that every chunk maps at a page-aligned file offset.
func chunkFor(n int) int {
	n = max(chunkSize, n)
	return (n + pageSize - 1) / pageSize * pageSize
}

// put writes c at the end of the file and maps it; ok is false when
// spilling is not possible (the caller keeps c on the heap).
func (s *spill) put(c []byte) ([]byte, bool) {
	if s.failed || len(c)%pageSize != 0 {
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
	if _, err := s.f.WriteAt(c, s.size); err != nil {
		s.failed = true
		return nil, false
	}
	m, err := mapShared(s.f, s.size, len(c))
	if err != nil {
		s.failed = true
		return nil, false
	}
	s.size += int64(len(c))
	return m, true
}

// sealTail moves the last chunk off the heap (when it is a heap chunk).
// The chunk list is copied, not changed in place: a snapshot writer may
// hold the old list without the lock.
func (l *rawLog) sealTail() {
	if !l.heapTail || len(l.chunks) == 0 {
		return
	}
	l.heapTail = false
	k := len(l.chunks) - 1
	m, ok := l.spill.put(l.chunks[k])
	if !ok {
		return
	}
	chunks, mapped := slices.Clone(l.chunks), slices.Clone(l.mapped)
	chunks[k], mapped[k] = m, true
	l.chunks, l.mapped = chunks, mapped
}
