//go:build linux

package readmodel

import (
	"os"
	"syscall"
	"unsafe"
)

// canMap: the raw log's chunks are regions of a mapped spill file.
const canMap = true

// mapShared maps n bytes of f at off read-only and shared.
func mapShared(f *os.File, off int64, n int) ([]byte, error) {
	return syscall.Mmap(int(f.Fd()), off, n, syscall.PROT_READ, syscall.MAP_SHARED)
}

// unmap undoes mapShared.
func unmap(m []byte) { _ = syscall.Munmap(m) }

// release tells the kernel that the process no longer needs the pages of
// a read-only file mapping in memory (after a snapshot read them all, and
// for each full chunk of the spill file):
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
// A model restored from it keeps slices into the mapping: unmap is its
// log's to call (spill.free), once the log is replaced.
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
