package readmodel

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/craftledger/craftledger/events"

	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// The snapshot file: magic, format version, projection name, checkpoint,
// event count, every event (length-prefixed fields), then every
// craftsman's summary (what population queries scan), then a CRC-32C of
// everything before it. On load the raw log and the indexes are rebuilt,
// the few non-craftsman streams are decoded, and each craftsman's own
// events are decoded lazily on first use: a restart reads a file, it does
// not replay JSON.
const (
	snapshotMagic   = "CLRM"
	snapshotVersion = 3
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// WriteSnapshot writes the model to path atomically (temporary file, fsync,
// rename), tagged with the projection name. The events, checkpoint and
// summaries written are one consistent cut taken under the read lock.
func (m *Memory) WriteSnapshot(path, projection string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("snapshot %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	h := crc32.New(crcTable)
	bw := bufio.NewWriterSize(io.MultiWriter(tmp, h), 1<<20)
	// Capture a consistent cut under the read lock, then write without it:
	// applied events never change (appends only add after them), and the
	// summaries are copied, so neither the projector nor queries wait for
	// the disk.
	m.mu.RLock()
	cp, hasCP, all := m.cp, m.hasCP, m.log.all[:len(m.log.all):len(m.log.all)]
	sums := make([]idSummary, len(m.dom.order))
	for i, id := range m.dom.order {
		sums[i] = idSummary{id: id, s: m.dom.craftsmen[id].Summary}
	}
	m.mu.RUnlock()
	err = writeSnapshot(bw, projection, cp, hasCP, all)
	if err == nil {
		err = writeSummaries(bw, sums)
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		_, err = tmp.Write(binary.LittleEndian.AppendUint32(nil, h.Sum32()))
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", path, err)
	}
	return nil
}

func writeSnapshot(w *bufio.Writer, projection string, cp eventstore.Position, hasCP bool, all []eventstore.RecordedEvent) error {
	var buf []byte
	buf = append(buf, snapshotMagic...)
	buf = binary.AppendUvarint(buf, snapshotVersion)
	buf = appendString(buf, projection)
	if hasCP {
		buf = append(buf, 1)
	} else {
		buf = append(buf, 0)
	}
	buf = binary.AppendUvarint(buf, cp.Commit)
	buf = binary.AppendUvarint(buf, cp.Prepare)
	buf = binary.AppendUvarint(buf, uint64(len(all)))
	if _, err := w.Write(buf); err != nil {
		return err
	}
	for i := range all {
		ev := &all[i]
		buf = buf[:0]
		buf = appendString(buf, ev.Stream)
		buf = appendString(buf, ev.ID)
		buf = appendString(buf, ev.Type)
		buf = binary.AppendUvarint(buf, ev.Revision)
		buf = binary.AppendUvarint(buf, ev.Position.Commit)
		buf = binary.AppendUvarint(buf, ev.Position.Prepare)
		buf = binary.AppendVarint(buf, ev.Created.UnixNano())
		buf = appendBytes(buf, ev.Data)
		buf = appendBytes(buf, ev.Metadata)
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

type idSummary struct {
	id string
	s  Summary
}

func writeSummaries(w *bufio.Writer, sums []idSummary) error {
	var buf []byte
	buf = binary.AppendUvarint(buf, uint64(len(sums)))
	for _, is := range sums {
		s := is.s
		buf = appendString(buf, is.id)
		buf = appendString(buf, s.Name)
		buf = appendString(buf, s.Personal)
		buf = appendString(buf, s.Region)
		for _, list := range [][]string{s.Employers, s.Academies, s.Issuers} {
			buf = binary.AppendUvarint(buf, uint64(len(list)))
			for _, x := range list {
				buf = appendString(buf, x)
			}
		}
		codes := make([]string, 0, len(s.Levels))
		for code := range s.Levels {
			codes = append(codes, code)
		}
		sort.Strings(codes)
		buf = binary.AppendUvarint(buf, uint64(len(codes)))
		for _, code := range codes {
			buf = appendString(buf, code)
			buf = binary.AppendUvarint(buf, uint64(s.Levels[code]))
		}
		if len(buf) > 1<<16 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	_, err := w.Write(buf)
	return err
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

// LoadSnapshot replaces the model's content with the snapshot at path. A
// missing file is errs.NotFound (start from zero); a snapshot of another
// projection name or a damaged file is errs.FailedPrecondition (rebuild).
func (m *Memory) LoadSnapshot(path, projection string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return errs.E(errs.NotFound, "snapshot %s does not exist", path)
	}
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", path, err)
	}
	if len(data) < 4 {
		return errs.E(errs.FailedPrecondition, "snapshot %s is truncated", path)
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, crcTable) != sum {
		return errs.E(errs.FailedPrecondition, "snapshot %s fails its checksum", path)
	}
	r := &reader{b: body}
	if string(r.raw(len(snapshotMagic))) != snapshotMagic || r.uvarint() != snapshotVersion {
		return errs.E(errs.FailedPrecondition, "snapshot %s: unknown format", path)
	}
	if name := r.str(); name != projection {
		return errs.E(errs.FailedPrecondition, "snapshot %s belongs to projection %q, not %q", path, name, projection)
	}
	hasCP := r.byte1() == 1
	cp := eventstore.Position{Commit: r.uvarint(), Prepare: r.uvarint()}
	n := r.uvarint()
	if r.err != nil || n > uint64(len(body)) {
		return errs.E(errs.FailedPrecondition, "snapshot %s: damaged header", path)
	}
	fresh := NewMemory()
	fresh.log.all = make([]eventstore.RecordedEvent, 0, n)
	// Data and metadata share the file's one buffer (one allocation, not
	// millions); names and ids are copied.
	var others []int32 // non-craftsman events: decoded now
	d := fresh.dom
	// Stream names and type names repeat: intern them (a map lookup by
	// bytes does not allocate), so a craftsman's events share one string.
	interned := map[string]string{}
	intern := func(b []byte) string {
		if s, ok := interned[string(b)]; ok {
			return s
		}
		s := string(b)
		interned[s] = s
		return s
	}
	for i := uint64(0); i < n && r.err == nil; i++ {
		ev := eventstore.RecordedEvent{
			Stream: intern(r.bytes()), ID: r.str(), Type: intern(r.bytes()), Revision: r.uvarint(),
			Position: eventstore.Position{Commit: r.uvarint(), Prepare: r.uvarint()},
		}
		ev.Created = time.Unix(0, r.varint()).UTC()
		ev.Data = r.bytes()
		ev.Metadata = r.bytes()
		idx := int32(len(fresh.log.all))
		fresh.log.add(ev)
		cat, id, ok := events.SplitStream(ev.Stream)
		switch {
		case !ok:
		case cat == events.CategoryCraftsman:
			c := d.craftsman(id)
			c.ready.Store(false)
			c.pending = append(c.pending, idx)
			c.count++
			if ev.Type == TypePersonalDataErased {
				c.erased = true
			}
		default:
			others = append(others, idx)
		}
	}
	if r.err != nil {
		return errs.E(errs.FailedPrecondition, "snapshot %s: damaged event data: %v", path, r.err)
	}
	raw := make([]eventstore.RecordedEvent, len(others))
	for i, j := range others {
		raw[i] = fresh.log.all[j]
	}
	for i, dec := range decodeAll(d.reg, raw) {
		d.apply(&fresh.log.all[others[i]], dec)
	}
	clear(d.dirty) // the summaries come from the file
	nc := r.uvarint()
	if nc > uint64(len(r.b)) {
		return errs.E(errs.FailedPrecondition, "snapshot %s: damaged summaries", path)
	}
	order := make([]string, 0, nc)
	for i := uint64(0); i < nc && r.err == nil; i++ {
		c := d.craftsman(r.str())
		order = append(order, c.ID)
		s := Summary{Name: r.str(), Personal: r.str()}
		s.Region, s.Levels = r.str(), map[string]events.Level{}
		for _, dst := range []*[]string{&s.Employers, &s.Academies, &s.Issuers} {
			k := r.uvarint()
			if k > uint64(len(r.b)) {
				r.err = errShort
				break
			}
			list := make([]string, 0, k)
			for j := uint64(0); j < k; j++ {
				list = append(list, r.str())
			}
			*dst = list
		}
		k := r.uvarint()
		for j := uint64(0); j < k && r.err == nil; j++ {
			code := r.str()
			s.Levels[code] = events.Level(r.uvarint())
		}
		c.Summary = s
	}
	if r.err != nil || len(r.b) != 0 || len(order) != len(d.order) {
		return errs.E(errs.FailedPrecondition, "snapshot %s: damaged summaries", path)
	}
	d.order = order // registration order as the live model had it
	for i, id := range order {
		c := d.craftsmen[id]
		c.seq = i
		d.reindex(c, Summary{})
	}
	fresh.cp, fresh.hasCP = cp, hasCP
	m.mu.Lock()
	m.cp, m.hasCP, m.log, m.dom, m.chains = fresh.cp, fresh.hasCP, fresh.log, fresh.dom, fresh.chains
	m.dom.ensure = m.ensure
	m.mu.Unlock()
	return nil
}

type reader struct {
	b   []byte
	err error
}

var errShort = errors.New("unexpected end of data")

func (r *reader) raw(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		r.err = errShort
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) byte1() byte {
	b := r.raw(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) str() string { return string(r.bytes()) }

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.err = errShort
		return nil
	}
	b := r.raw(int(n))
	if len(b) == 0 {
		return nil
	}
	return b
}
