package readmodel

import (
	"os"
	"slices"
)

// The raw log's bytes are most of the model's size (~8 KB of ~10 per
// craftsman of a generated ledger), yet they are read only for audit
// answers, hash chains and a craftsman's first query. So they live outside
// the Go heap: each new chunk is room reserved at the end of a temporary
// file (unlinked at once: it disappears with the process) and mapped
// writable, and events are copied straight into it. Where the room cannot
// be reserved and mapped, a chunk is filled on the heap and, once full,
// written to the file and mapped read-only in its place.
// The kernel keeps the pages it needs in its page cache and may drop the
// others; the garbage collector never scans or copies them. A loaded
// snapshot's bytes are mapped from the snapshot file the same way. Where
// the file or the mapping cannot be had, chunks stay on the heap.

type spill struct {
	f      *os.File
	size   int64
	failed bool
	// noDirect: room cannot be reserved and mapped writable (grow), so
	// chunks are filled on the heap and written when full (put).
	noDirect bool
}

// open creates the unlinked file on first use.
func (s *spill) open() bool {
	if s.f != nil {
		return true
	}
	if s.failed {
		return false
	}
	f, err := os.CreateTemp("", "craftledger-readmodel-*")
	if err != nil {
		s.failed = true
		return false
	}
	_ = os.Remove(f.Name()) // unlinked: gone with the process
	s.f = f
	return true
}

// grow reserves n more bytes at the end of the file (allocated on disk,
// so that writing them cannot fail for want of space) and maps them
// writable: new events are copied straight into the page cache, with no
// heap chunk to clear, fill, write out and collect. ok is false when that
// is not possible (the caller fills a heap chunk instead).
func (s *spill) grow(n int) ([]byte, bool) {
	if s.noDirect || n%pageSize != 0 || !s.open() {
		return nil, false
	}
	if err := reserveFile(s.f, s.size, n); err != nil {
		s.noDirect = true
		return nil, false
	}
	m, err := mapWritable(s.f, s.size, n)
	if err != nil {
		s.noDirect = true
		return nil, false
	}
	s.size += int64(n)
	return m, true
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
	if len(c)%pageSize != 0 || !s.open() {
		return nil, false
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
