package readmodel

import (
	"os"
	"slices"
	"syscall"
	"unsafe"
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
	m, err := syscall.Mmap(int(s.f.Fd()), s.size, len(c), syscall.PROT_READ, syscall.MAP_SHARED)
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

// release tells the kernel that the process no longer needs the pages of
// a read-only file mapping in memory (after a snapshot read them all):
// they leave the process's RSS and stay in the page cache while the
// kernel sees fit; a later read faults them in from the file again.
func release(b []byte) {
	if len(b) == 0 {
		return
	}
	skip := (pageSize - int(uintptr(unsafe.Pointer(unsafe.SliceData(b))))%pageSize) % pageSize
	if skip >= len(b) {
		return
	}
	// Page-aligned start; the kernel rounds the length up, which at worst
	// reaches into the next read-only mapped chunk: it is faulted in again.
	_ = syscall.Madvise(b[skip:], syscall.MADV_DONTNEED)
}

// mapFile maps a file read-only (private); it falls back to reading it.
// The mapping lives as long as the process (a model restored from it
// keeps slices into it).
func mapFile(path string) (data []byte, unmap func(), mapped bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, false, err
	}
	if n := fi.Size(); n > 0 && n == int64(int(n)) {
		if m, err := syscall.Mmap(int(f.Fd()), 0, int(n), syscall.PROT_READ, syscall.MAP_PRIVATE); err == nil {
			return m, func() { _ = syscall.Munmap(m) }, true, nil
		}
	}
	b, err := os.ReadFile(path)
	return b, func() {}, false, err
}
