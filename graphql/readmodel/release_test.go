package readmodel

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestLoadReleasesTheReplacedLog: a load that replaces the model's log
// unmaps what the old log lived in — its spill file (closed too, so the
// unlinked file leaves the disk) and the snapshot file it was loaded from —
// unless a snapshot writer still reads a cut of it, and then when that
// writer is done. Before, both stayed mapped until the process exited.
func TestLoadReleasesTheReplacedLog(t *testing.T) {
	if !canMap {
		t.Skip("the raw log is mapped on linux only")
	}
	in := rawEvents()
	m := NewMemory()
	for i := 0; i < len(in); i += 1000 {
		if err := m.Apply(in[i:i+1000], in[i+999].Position); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := m.log.spill.res.f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	spillIno := fi.Sys().(*syscall.Stat_t).Ino
	if !mappedInode(t, spillIno) {
		t.Fatal("the spill file is not mapped: the test wants a spilled log")
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.snap"), filepath.Join(dir, "b.snap")
	for _, p := range []string{a, b} {
		if err := m.WriteSnapshot(p, "test"); err != nil {
			t.Fatal(err)
		}
	}

	if err := m.LoadSnapshot(a, "test"); err != nil {
		t.Fatal(err)
	}
	if mappedInode(t, spillIno) {
		t.Error("the replaced log's spill file is still mapped")
	}
	if _, err := os.Stat("/proc/self/fd"); err == nil && openInode(t, spillIno) {
		t.Error("the replaced log's spill file is still open")
	}
	if !mappedPath(t, a) {
		t.Fatal("the loaded snapshot is not mapped")
	}

	// A writer holding a cut of the log keeps it mapped until it is done.
	sp := m.log.spill
	sp.pin()
	if err := m.LoadSnapshot(b, "test"); err != nil {
		t.Fatal(err)
	}
	if !mappedPath(t, a) {
		t.Error("a's mapping went while a snapshot writer still read it")
	}
	sp.unpin()
	if mappedPath(t, a) {
		t.Error("the replaced snapshot's mapping is still there once its writer is done")
	}
	if !mappedPath(t, b) {
		t.Error("the loaded snapshot is not mapped")
	}
	if page := m.Log(LogQuery{Limit: len(in) + 1}); firstDiff(in, page.Events) >= 0 {
		t.Fatal("the model's log differs after the loads")
	}
}

// TestReadsDuringLoads: readers, snapshot writers and loads that replace
// the log (and unmap the old one) run together; every answer is whole, and
// the bytes an answer holds stay readable after the load that replaced
// the log they came from (run it with -race; a read of an unmapped page
// would crash the test).
func TestReadsDuringLoads(t *testing.T) {
	in := rawEvents()
	m := NewMemory()
	for i := 0; i < len(in); i += 1000 {
		if err := m.Apply(in[i:i+1000], in[i+999].Position); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	snaps := []string{filepath.Join(dir, "a.snap"), filepath.Join(dir, "b.snap")}
	for _, p := range snaps {
		if err := m.WriteSnapshot(p, "test"); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	reader := func(read func() bool) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if !read() {
					return
				}
			}
		}()
	}
	var held [][]byte // bytes of earlier answers, read again at the end
	var heldMu sync.Mutex
	reader(func() bool {
		page := m.Log(LogQuery{Limit: 50, Prefix: "craftsman-"})
		if i := firstDiff(in[:50], page.Events); i >= 0 {
			t.Errorf("log page differs at %d", i)
			return false
		}
		heldMu.Lock()
		held = append(held, page.Events[49].Data)
		heldMu.Unlock()
		time.Sleep(time.Millisecond)
		if !bytes.Equal(page.Events[49].Data, in[49].Data) {
			t.Error("an answer's bytes changed under it")
			return false
		}
		return true
	})
	reader(func() bool {
		got := m.Stream("craftsman-7")
		if len(got) != 20 || !bytes.Equal(got[19].Data, in[19*300+7].Data) {
			t.Errorf("stream: %d events", len(got))
			return false
		}
		return true
	})
	reader(func() bool {
		if v, _, ok := m.Craftsman("11", time.Time{}, time.Time{}); !ok || len(v.Records) != 0 {
			t.Errorf("craftsman: ok %v", ok) // the events are of an unknown type: none decodes
			return false
		}
		_ = m.ChainStatus("craftsman-11", 3)
		_ = m.Integrity("craftsman-12", time.Time{})
		return true
	})
	reader(func() bool {
		n := 0
		m.SummariesAsOf(time.Now(), func(string, Summary) bool { n++; return true })
		return true
	})
	reader(func() bool {
		if err := m.WriteSnapshot(filepath.Join(dir, "w.snap"), "test"); err != nil {
			t.Error(err)
			return false
		}
		return true
	})
	for i := 0; i < 20; i++ {
		if err := m.LoadSnapshot(snaps[i%2], "test"); err != nil {
			t.Error(err)
			break
		}
	}
	close(stop)
	wg.Wait()
	for _, b := range held {
		if !bytes.Equal(b, in[49].Data) {
			t.Fatal("an answer's bytes changed after its log was replaced")
		}
	}
}

// mapLines are the lines of /proc/self/maps.
func mapLines(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skipf("no /proc/self/maps: %v", err)
	}
	return strings.Split(string(b), "\n")
}

// mappedPath reports whether the process maps the file at path (or the
// file that was at path, deleted or renamed over since).
func mappedPath(t *testing.T, path string) bool {
	for _, l := range mapLines(t) {
		if strings.HasSuffix(l, " "+path) || strings.HasSuffix(l, " "+path+" (deleted)") {
			return true
		}
	}
	return false
}

// mappedInode reports whether the process maps a spill file with inode
// ino.
func mappedInode(t *testing.T, ino uint64) bool {
	for _, l := range mapLines(t) {
		f := strings.Fields(l)
		if len(f) >= 6 && f[4] == strconv.FormatUint(ino, 10) && strings.Contains(f[5], "craftledger-readmodel-") {
			return true
		}
	}
	return false
}

// openInode reports whether the process holds open a spill file with
// inode ino.
func openInode(t *testing.T, ino uint64) bool {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	for _, e := range ents {
		p := filepath.Join("/proc/self/fd", e.Name())
		target, err := os.Readlink(p)
		if err != nil || !strings.Contains(target, "craftledger-readmodel-") {
			continue
		}
		var st syscall.Stat_t
		if syscall.Stat(p, &st) == nil && st.Ino == ino {
			return true
		}
	}
	return false
}
