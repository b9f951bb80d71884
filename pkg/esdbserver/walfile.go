package esdbserver

import (
	"strings"

	"github.com/cockroachdb/pebble/vfs"
)

// memTableSize is pebble's memtable size (its default, set explicitly
// because the WAL prefill below is sized from it).
const memTableSize = 4 << 20

// walPrefill is how much of a new WAL file is written with zeros before
// pebble uses it: what pebble preallocates for a WAL (110 % of the
// memtable size, DB.walPreallocateSize).
const walPrefill = memTableSize + memTableSize/10

// prefilledWALFS is the file system pebble runs on, except that a newly
// created WAL file (NNNNNN.log) is first written with zeros up to
// walPrefill and synced, so that the WAL's appends overwrite allocated,
// written blocks instead of growing the file. An fdatasync after an
// overwrite flushes data only; one after an append must also commit the
// file's new size through the file system's journal — on this machine's
// ext4 ~185 µs against ~100 µs per sync (BenchmarkDiskFsync), and every
// acknowledged append waits for one. Pebble reuses old WAL files for the
// same reason, but a fresh store (and each new WAL until one can be
// recycled) starts with new files.
//
// Pebble's WAL reader treats zeros after the last record as the end of
// the log (record.ErrZeroedChunk, the same case as its own preallocation),
// and it closes a WAL with an EOF trailer before creating the next one,
// so only the newest WAL ever ends in zeros; the record format and
// recovery are unchanged.
//
// The prefill is only a speed-up: when it fails (a nearly full disk) the
// WAL is created empty, as without it — pebble cannot survive a failed
// WAL creation (it panics), and the free-space guard (diskspace.go)
// refuses writes before pebble itself runs out of space.
type prefilledWALFS struct{ vfs.FS }

func (fs prefilledWALFS) Create(name string) (vfs.File, error) {
	f, err := fs.FS.Create(name)
	if err != nil || !strings.HasSuffix(name, ".log") {
		return f, err
	}
	if err := prefill(f, walPrefill); err != nil {
		f.Close()
		return fs.FS.Create(name) // truncates what the prefill wrote
	}
	return f, nil
}

// prefill writes size zero bytes at the start of f and syncs it, leaving
// f's write offset at 0.
func prefill(f vfs.File, size int64) error {
	zero := make([]byte, 256<<10)
	for off := int64(0); off < size; off += int64(len(zero)) {
		if _, err := f.WriteAt(zero[:min(int64(len(zero)), size-off)], off); err != nil {
			return err
		}
	}
	return f.Sync()
}
