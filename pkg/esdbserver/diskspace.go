package esdbserver

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A full disk.
//
// Pebble does not give a clean answer when its file system fills up: a
// failed WAL write or sync reaches the writer as an error (after which the
// store refuses all writes, see store.fail: it cannot know what is on
// disk), but a memtable flush that cannot write is retried in the
// background while pebble stalls every write, with nothing said; when space
// returns the stalled writes complete, long after their callers gave up.
//
// So the writer checks the free space of the data directory for every
// batch (one statfs per batch, next to one fsync, taken when the batch's
// first write arrives) and refuses each write that would leave less than a
// reserve plus twice what the batch's writes so far add to the log: room
// for the batch's WAL record and its later flush, and for pebble's own
// flushes and compactions. The reserve is a quarter of the file system,
// at least 8 MiB and at most 64 MiB (pebble's memtables are 4 MiB; two may
// wait for a flush). Refused writes get gRPC Unavailable naming "no space
// left on device"; nothing of them is applied. Writes resume by themselves
// once enough space is free again, without a restart. Only if pebble itself
// runs out of space anyway (another process filling the disk between the
// check and the write) does the store stop writing until it is restarted.

const (
	minSpaceReserve = 8 << 20
	maxSpaceReserve = 64 << 20
)

// noSpaceError refuses a write for lack of free space. It is
// syscall.ENOSPC for errors.Is.
type noSpaceError struct {
	dir        string
	free, need uint64
}

func (e *noSpaceError) Error() string {
	return fmt.Sprintf("no space left on device: %s has %d bytes free, writing needs %d (a reserve for the store's own flushes and compactions included)", e.dir, e.free, e.need)
}

func (e *noSpaceError) Unwrap() error { return syscall.ENOSPC }

// commitError is a failed pebble commit: the store refuses every write
// after it until restarted.
type commitError struct{ err error }

func (e *commitError) Error() string { return "commit to pebble: " + e.err.Error() }
func (e *commitError) Unwrap() error { return e.err }

// spaceGuard checks free space before commits. Only the writer goroutine
// calls check.
type spaceGuard struct {
	dir     string
	log     *slog.Logger
	statfs  func(dir string) (free, total uint64, ok bool)
	refused bool // the last check refused: log when it stops
}

func newSpaceGuard(dir string, log *slog.Logger) *spaceGuard {
	return &spaceGuard{dir: dir, log: log, statfs: freeSpace}
}

// spaceProbe is what one statfs of the data directory found.
type spaceProbe struct {
	free, total uint64
	ok          bool // false: unknown, let pebble answer
}

// probe reads the free space of the data directory (one statfs).
func (g *spaceGuard) probe() spaceProbe {
	if g == nil {
		return spaceProbe{}
	}
	free, total, ok := g.statfs(g.dir)
	return spaceProbe{free: free, total: total, ok: ok}
}

// admit returns a *noSpaceError when writes adding bytes to the log do not
// fit with the reserve in the free space p found.
func (g *spaceGuard) admit(p spaceProbe, bytes uint64) error {
	if g == nil || !p.ok {
		return nil
	}
	need := min(max(p.total/4, minSpaceReserve), maxSpaceReserve) + 2*bytes
	if p.free >= need {
		if g.refused {
			g.refused = false
			g.log.Info("store disk space available again; accepting writes", "dir", g.dir, "free", p.free)
		}
		return nil
	}
	err := &noSpaceError{dir: g.dir, free: p.free, need: need}
	if !g.refused {
		g.refused = true
		g.log.Error("store disk nearly full; refusing writes until space is freed", "dir", g.dir, "free", p.free, "need", need, "err", err)
	}
	return err
}

// opBytes estimates what op adds to the log.
func opBytes(op *writeOp) uint64 {
	n := 64 + uint64(len(op.stream))
	for _, e := range op.events {
		n += 96 + uint64(len(op.stream)+len(e.Type)+len(e.Metadata)+len(e.Data))
	}
	return n
}

// pebbleEvents reports pebble's background errors (a flush or compaction
// that cannot write, e.g. on a full disk) and write stalls in the server
// log, at most once per 10 s each: pebble retries a failed flush at once
// and again, and would otherwise stall writes without a word.
func pebbleEvents(log *slog.Logger) *pebble.EventListener {
	var mu sync.Mutex
	var lastErr time.Time
	var suppressed int
	return &pebble.EventListener{
		BackgroundError: func(err error) {
			mu.Lock()
			defer mu.Unlock()
			if time.Since(lastErr) < 10*time.Second {
				suppressed++
				return
			}
			lastErr = time.Now()
			log.Error("pebble background error", "err", err, "no_space", errors.Is(err, syscall.ENOSPC), "repeats_since_last_report", suppressed)
			suppressed = 0
		},
		WriteStallBegin: func(info pebble.WriteStallBeginInfo) {
			log.Warn("pebble stalls writes", "reason", info.Reason)
		},
		WriteStallEnd: func() {
			log.Info("pebble write stall ended")
		},
	}
}

// writeFailure is the gRPC status for a write the store could not do for
// want of space or because pebble failed to commit, nil for other errors.
// Unavailable: the client reports esdb ErrorUnavailable and callers back
// off and retry, which is right once space is freed (or the store
// restarted); the message names the cause.
func writeFailure(err error) error {
	var ns *noSpaceError
	if errors.As(err, &ns) {
		return status.Error(codes.Unavailable, "store cannot write: "+ns.Error())
	}
	var ce *commitError
	if errors.As(err, &ce) {
		return status.Error(codes.Unavailable, "store cannot write, refusing writes until it is restarted: "+ce.Error())
	}
	return nil
}
