package readmodel

import (
	"os"
	"runtime"
	"slices"
	"sync"
)

// The raw log's bytes are most of the model's size (~8 KB of ~10 per
// craftsman of a generated ledger), yet they are read only for audit
// answers, hash chains and a craftsman's first query. So they do not live
// on the Go heap: each chunk is a region of a temporary file (unlinked at
// once: it disappears when the log is released, or with the process),
// mapped read-only, and the bytes of a batch are written into it with one
// write when the batch is applied (rawLog.flush). The kernel keeps the
// pages it needs in its page cache and may drop the others; the garbage
// collector never scans, copies or zeroes them, and no heap chunk is
// filled and thrown away per 4 MiB. A loaded snapshot's bytes are mapped
// from the snapshot file the same way. Where the file or the mapping
// cannot be had, chunks stay on the heap.
//
// The mappings are the log's: a snapshot load that replaces the log
// (Memory.LoadSnapshot, which is also how the projector discards a model
// whose store was replaced) retires the old one, and its mappings are
// unmapped and its spill file closed as soon as no snapshot writer reads a
// cut of it any more (pin); a log that is simply dropped (a Memory nobody
// holds) is freed by the garbage collector's cleanup of its spill. Nothing
// else can read them by then: every reader reads the log under the
// model's lock (and a load swaps it under the write lock), and what leaves
// the lock is decoded or copied onto the heap (Memory.Log and
// Memory.Stream copy the bytes they answer), never a view into a chunk.

type spill struct {
	size   int64 // bytes of the file given to chunks
	tail   int64 // file offset of the last chunk handed out
	failed bool
	res    *spillFiles

	mu      sync.Mutex
	pins    int  // snapshot writers reading a cut of the log without the model's lock
	retired bool // the log was replaced: free once pins is 0
}

// spillFiles is what a log's mapped chunks live in (apart from the spill,
// so that the spill's cleanup may free it).
type spillFiles struct {
	mu     sync.Mutex
	f      *os.File
	maps   [][]byte // every mapping of f made for chunks
	loaded func()   // unmaps the snapshot file the log was loaded from (nil: none)
	freed  bool
}

func newSpill() *spill {
	s := &spill{res: &spillFiles{}}
	runtime.AddCleanup(s, (*spillFiles).free, s.res)
	return s
}

// pin keeps the log's mappings while a snapshot writer reads a cut of it
// outside the model's lock; taken under the model's read lock, so never
// after retire (the log is no longer the model's by then).
func (s *spill) pin() {
	s.mu.Lock()
	s.pins++
	s.mu.Unlock()
}

// unpin ends a pin; the last one of a retired log frees it.
func (s *spill) unpin() {
	s.mu.Lock()
	s.pins--
	free := s.retired && s.pins == 0
	s.mu.Unlock()
	if free {
		s.res.free()
	}
}

// retire is called once the log is no longer the model's (no reader can
// reach it): it is freed now, or when the last pin ends.
func (s *spill) retire() {
	s.mu.Lock()
	s.retired = true
	free := s.pins == 0
	s.mu.Unlock()
	if free {
		s.res.free()
	}
}

// free unmaps the log's mappings and closes its spill file (which, being
// unlinked, then leaves the disk).
func (r *spillFiles) free() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.freed {
		return
	}
	r.freed = true
	for _, m := range r.maps {
		unmap(m)
	}
	r.maps = nil
	if r.f != nil {
		_ = r.f.Close()
	}
	if r.loaded != nil {
		r.loaded()
		r.loaded = nil
	}
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
	r := s.res
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		f, err := os.CreateTemp("", "craftledger-readmodel-*")
		if err != nil {
			s.failed = true
			return nil, false
		}
		_ = os.Remove(f.Name()) // unlinked: gone when closed (free) or with the process
		r.f = f
	}
	// The file covers the whole mapping: no page of it lies past the end.
	if err := r.f.Truncate(s.size + int64(n)); err != nil {
		s.failed = true
		return nil, false
	}
	m, err := mapShared(r.f, s.size, n)
	if err != nil {
		s.failed = true
		return nil, false
	}
	r.maps = append(r.maps, m)
	s.tail = s.size
	s.size += int64(n)
	return m, true
}

// write writes b at offset off of the last chunk; false when it cannot.
func (s *spill) write(b []byte, off int) bool {
	if _, err := s.res.f.WriteAt(b, s.tail+int64(off)); err != nil {
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
