package readmodel

import (
	"bufio"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/craftledger/craftledger/pkg/eventstore"
)

// Side files: data derived from the read model by its readers (the
// schema's eligibility entries, as-of rows…) that is costly to derive
// again after a restart, kept beside the snapshot it was derived with.
//
// API (the hook, generic: any reader may add a Sidecar):
//
//	sc := readmodel.WithSidecars(m)      // a *Memory that also keeps side files
//	sc.Add(x)                             // x implements Sidecar; before the first load
//	sc.LoadSnapshot(path, projection)     // Memory's load, then x.LoadSidecar(body, tag)
//	sc.WriteSnapshot(path, projection)    // Memory's write, then x.WriteSidecar(w, tag)
//	sc.WriteSidecars(names...)            // side files again (those named; none: all), for the snapshot last loaded or written
//
// A side file is <dir>/<snapshot file name>.<SidecarName>, dir the
// snapshot's own directory unless Sidecars.Dir names another. It holds
// the magic "CLSC", its container version, the sidecar's name and
// SidecarVersion, the tag of the snapshot it belongs to (checkpoint,
// number of craftsmen, the snapshot file's CRC-32C), the body the
// sidecar wrote, and a CRC-32C of all that; it is written atomically
// (temporary file, fsync, rename) after the snapshot. A load hands the
// sidecar the body only if every one of those matches the snapshot just
// loaded (a side file of an older snapshot, another version, or damaged
// is ignored: LoadSidecar gets nil) — so a reader needs no check of its
// own beyond this: what it keeps by registration index (seq) below
// tag.Craftsmen names the same craftsmen after the load as when it was
// written (a load keeps the registration order), and what it keeps per
// craftsman should name the number of events it was derived from (the
// streams are append-only: the same count is the same events), since the
// model it was derived from may have moved past the snapshot's cut.

// Sidecar is a reader's side data, kept beside the model's snapshots.
type Sidecar interface {
	// SidecarName names the side file (letters, digits, '-'); unique
	// among a model's sidecars.
	SidecarName() string
	// SidecarVersion is the body's format version: a side file of another
	// version is not handed to LoadSidecar.
	SidecarVersion() uint64
	// WriteSidecar writes the body for the snapshot tag describes (just
	// written, or loaded: the model may have moved past it since) to w,
	// which is buffered. A body of no bytes means no side file (a stale
	// one is removed).
	WriteSidecar(w io.Writer, tag SnapshotTag) error
	// LoadSidecar is called after each successful snapshot load: body is
	// the side file's body (the sidecar may keep it) when one matches
	// that snapshot, nil when none does.
	LoadSidecar(body []byte, tag SnapshotTag)
}

// SnapshotTag identifies a snapshot: what it was cut at, how many
// craftsmen (registration indexes) it holds, its file's checksum, and the
// model's Epoch it was written from or loaded into.
type SnapshotTag struct {
	Checkpoint    eventstore.Position
	HasCheckpoint bool
	Craftsmen     int
	Sum           uint32
	Epoch         Epoch
	// Rederived are the registration indexes of craftsmen whose summary
	// the load derived again instead of taking the file's (a rule of
	// derivation changed: loadBody); what a side file derived for them
	// is stale. Not part of the side file's header.
	Rederived []int
}

// Sidecars is a Memory whose snapshot writes and loads also write and
// load its sidecars' side files (projector.Model).
type Sidecars struct {
	*Memory
	// Dir is where side files live ("": beside the snapshot). Set before
	// the first load or write.
	Dir string

	mu    sync.Mutex // one write (snapshot and side files) at a time
	sides []Sidecar
	path  string // the snapshot last loaded or written, and its tag
	tag   SnapshotTag
}

// WithSidecars wraps m.
func WithSidecars(m *Memory) *Sidecars { return &Sidecars{Memory: m} }

// Add adds a sidecar (before the first load; one per name).
func (s *Sidecars) Add(x Sidecar) {
	s.mu.Lock()
	s.sides = append(s.sides, x)
	s.mu.Unlock()
}

// SidecarPath is where the side file name of the snapshot at snap lives.
func (s *Sidecars) SidecarPath(snap, name string) string {
	dir := s.Dir
	if dir == "" {
		dir = filepath.Dir(snap)
	}
	return filepath.Join(dir, filepath.Base(snap)+"."+name)
}

// WriteSnapshot is Memory.WriteSnapshot followed by every side file.
func (s *Sidecars) WriteSnapshot(path, projection string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tag, err := s.Memory.writeSnapshotTag(path, projection)
	if err != nil {
		return err
	}
	s.path, s.tag = path, tag
	return s.writeSides()
}

// WriteSidecars writes the side files of the sidecars named (none named:
// every one) again for the snapshot last loaded or written (e.g. once a
// sidecar derived what it keeps after a load); nothing when there was
// none.
func (s *Sidecars) WriteSidecars(names ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.path == "" {
		return nil
	}
	return s.writeSides(names...)
}

func (s *Sidecars) writeSides(names ...string) error {
	var errsSeen []error
	for _, x := range s.sides {
		if len(names) > 0 && !slices.Contains(names, x.SidecarName()) {
			continue
		}
		if err := writeSide(s.SidecarPath(s.path, x.SidecarName()), x, s.tag); err != nil {
			errsSeen = append(errsSeen, err)
		}
	}
	return errors.Join(errsSeen...)
}

// LoadSnapshot is Memory.LoadSnapshot followed by every sidecar's
// LoadSidecar (with its side file's body when it matches).
func (s *Sidecars) LoadSnapshot(path, projection string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tag, err := s.Memory.loadSnapshotTag(path, projection)
	if err != nil {
		return err
	}
	s.path, s.tag = path, tag
	for _, x := range s.sides {
		x.LoadSidecar(readSide(s.SidecarPath(path, x.SidecarName()), x, tag), tag)
	}
	return nil
}

const (
	sideMagic   = "CLSC"
	sideVersion = 1
)

// sideHeader is a side file's header for x and the snapshot tag names.
func sideHeader(x Sidecar, tag SnapshotTag) []byte {
	b := append([]byte(sideMagic), sideVersion)
	b = appendString(b, x.SidecarName())
	b = binary.AppendUvarint(b, x.SidecarVersion())
	if tag.HasCheckpoint {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.AppendUvarint(b, tag.Checkpoint.Commit)
	b = binary.AppendUvarint(b, tag.Checkpoint.Prepare)
	b = binary.AppendUvarint(b, uint64(tag.Craftsmen))
	return binary.LittleEndian.AppendUint32(b, tag.Sum)
}

// countWriter counts what passes through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func writeSide(path string, x Sidecar, tag SnapshotTag) error {
	_, err := writeAtomic(path, "side file", func(bw *bufio.Writer) (bool, error) {
		if _, err := bw.Write(sideHeader(x, tag)); err != nil {
			return false, err
		}
		body := &countWriter{w: bw}
		err := x.WriteSidecar(body, tag)
		return body.n > 0, err // nothing to say: no file
	})
	return err
}

// readSide answers the body of the side file at path when it is x's, of
// its version, for the snapshot tag names, and undamaged; else nil.
func readSide(path string, x Sidecar, tag SnapshotTag) []byte {
	data, err := os.ReadFile(path)
	if err != nil || len(data) < 4 {
		return nil
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	head := sideHeader(x, tag)
	if len(body) < len(head) || string(body[:len(head)]) != string(head) || crc32.Checksum(body, crcTable) != sum {
		return nil
	}
	return body[len(head):len(body):len(body)]
}
