package readmodel

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"weak"

	"github.com/craftledger/craftledger/events"

	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// The snapshot file: magic, format version, projection name, checkpoint,
// the type names and stream names, every event's entry (stream and type
// numbers, revision, position, record time, byte lengths), then every
// event's id, data and metadata bytes back to back (the raw log's own
// layout), then every craftsman's summary (what population queries scan),
// then a CRC-32C of everything before it. On load the bytes stay in the
// file's one buffer, the entries and indexes are rebuilt, the few
// non-craftsman streams are decoded, and each craftsman's own events are
// decoded lazily on first use: a restart reads a file, it does not replay
// JSON.
const (
	snapshotMagic = "CLRM"
	// snapshotVersion 7 has version 4's layout. Its summaries follow the
	// domain's correction rule as events.ForeignReplacement completes it
	// (a correction replacing its fact with a fact of another type decides
	// nothing: a546511); versions 4 to 6 applied such a correction. Since
	// version 6 the summaries' third organisation list is Summary.Linked
	// (the registrar, the employers of every employment in force, past or
	// current, and the HR authorities of every approval), where versions
	// 4 and 5 stored every organisation that had recorded an event (which
	// let any issuer read any craftsman it had recorded a fact about).
	// Version 5's summaries follow the domain's correction rule
	// (career.Decide) for chains of corrections. Files of versions 4 to 6
	// are still read: the craftsmen whose stream holds a correction are
	// derived again on load and named in SnapshotTag.Rederived (their
	// as-of rows may differ too: they were derived under an older rule);
	// in a version 4 or 5 file every summary is derived again (the Linked
	// list is not the file's; the as-of rows hold none).
	snapshotVersion = 7
	linkedVersion   = 6 // the first with Summary.Linked
	issuersVersion  = 5
	oldRuleVersion  = 4
	maxChunk        = 1 << 31  // bytes one chunk of a loaded snapshot may span
	crcWindow       = 64 << 20 // bytes a load sums before it releases them
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// WriteSnapshot writes the model to path atomically (temporary file, fsync,
// rename), tagged with the projection name. The events, checkpoint and
// summaries written are one consistent cut taken under the read lock.
func (m *Memory) WriteSnapshot(path, projection string) error {
	_, err := m.writeSnapshotTag(path, projection)
	return err
}

// writeSnapshotTag is WriteSnapshot, answering the written snapshot's tag
// (for its side files: sidecar.go).
func (m *Memory) writeSnapshotTag(path, projection string) (SnapshotTag, error) {
	// Capture a consistent cut under the read lock, then write without it:
	// applied events never change (appends only add after them), and the
	// summaries are copied, so neither the projector nor queries wait for
	// the disk.
	m.mu.RLock()
	l := &m.log
	cut := rawLog{entries: l.entries.cut(), chunks: l.chunks[:len(l.chunks):len(l.chunks)], mapped: l.mapped[:len(l.mapped):len(l.mapped)],
		sinfo: l.sinfo[:len(l.sinfo):len(l.sinfo)], tnames: l.tnames[:len(l.tnames):len(l.tnames)]}
	cp, hasCP := m.cp, m.hasCP
	sums := make([]idSummary, len(m.dom.order))
	for i, c := range m.dom.order {
		sums[i] = idSummary{id: c.ID, s: c.Summary}
	}
	tag := SnapshotTag{Checkpoint: cp, HasCheckpoint: hasCP, Craftsmen: len(sums), Epoch: Epoch{weak.Make(m.dom)}}
	// The cut's mapped chunks stay mapped while they are written, should
	// a load replace the log meanwhile (spill.go).
	sp := l.spill
	sp.pin()
	defer sp.unpin()
	m.mu.RUnlock()
	sum, err := writeAtomic(path, "snapshot", func(bw *bufio.Writer) (bool, error) {
		err := writeSnapshot(bw, projection, cp, hasCP, &cut)
		if err == nil {
			err = writeSummaries(bw, sums)
		}
		return true, err
	})
	if err != nil {
		return SnapshotTag{}, err
	}
	tag.Sum = sum
	return tag, nil
}

// writeAtomic writes a file of the snapshot's kind (a snapshot, a side
// file) to path atomically: fill writes the content into a temporary
// file beside path, followed by the CRC-32 of everything fill wrote; the
// file is synced and renamed over path. When fill answers keep false the
// content is dropped and any file at path removed instead. sum is the
// CRC-32 written. Errors name what and path.
func writeAtomic(path, what string, fill func(*bufio.Writer) (keep bool, err error)) (sum uint32, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("%s %s: %w", what, path, err)
		}
	}()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	h := crc32.New(crcTable)
	bw := bufio.NewWriterSize(io.MultiWriter(tmp, h), 1<<20)
	keep, err := fill(bw)
	if err == nil && !keep { // nothing to keep: no temporary to finish
		_ = tmp.Close()
		if err = os.Remove(path); errors.Is(err, os.ErrNotExist) {
			err = nil
		}
		return 0, err
	}
	if err == nil {
		err = bw.Flush()
	}
	sum = h.Sum32()
	if err == nil {
		_, err = tmp.Write(binary.LittleEndian.AppendUint32(nil, sum))
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
		return 0, err
	}
	return sum, nil
}

// writeSnapshot writes the header and the raw log of cut (entries, names
// and chunks captured under the read lock; stream names and bytes already
// written never change).
func writeSnapshot(w *bufio.Writer, projection string, cp eventstore.Position, hasCP bool, cut *rawLog) error {
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
	flush := func(force bool) error {
		if len(buf) < 1<<16 && !force {
			return nil
		}
		_, err := w.Write(buf)
		buf = buf[:0]
		return err
	}
	buf = binary.AppendUvarint(buf, uint64(len(cut.tnames)))
	for _, t := range cut.tnames {
		buf = appendString(buf, t)
	}
	buf = binary.AppendUvarint(buf, uint64(len(cut.sinfo)))
	for i := range cut.sinfo {
		buf = appendString(buf, cut.sinfo[i].name)
		if err := flush(false); err != nil {
			return err
		}
	}
	buf = binary.AppendUvarint(buf, uint64(cut.entries.n))
	var total uint64
	for i := 0; i < cut.entries.n; i++ {
		e := cut.entries.at(i)
		buf = binary.AppendUvarint(buf, uint64(e.stream))
		buf = binary.AppendUvarint(buf, uint64(e.typ))
		buf = binary.AppendUvarint(buf, e.revision)
		buf = binary.AppendUvarint(buf, e.pos.Commit)
		buf = binary.AppendUvarint(buf, e.pos.Prepare)
		buf = binary.AppendVarint(buf, e.sec)
		buf = binary.AppendUvarint(buf, uint64(e.nsec))
		if e.packedID {
			buf = append(buf, 1)
		} else {
			buf = append(buf, 0)
		}
		buf = binary.AppendUvarint(buf, uint64(e.idLen))
		buf = binary.AppendUvarint(buf, uint64(e.dataLen))
		buf = binary.AppendUvarint(buf, uint64(e.metaLen))
		total += uint64(e.idLen) + uint64(e.dataLen) + uint64(e.metaLen)
		if err := flush(false); err != nil {
			return err
		}
	}
	buf = binary.AppendUvarint(buf, total)
	if err := flush(true); err != nil {
		return err
	}
	// The bytes, in entry order: runs that lie back to back in a chunk
	// are written with one call. Entries are in chunk order, so the pages
	// of a mapped chunk are released behind the writer (crcWindow at a
	// time, and a chunk's rest when the writer moves on): a snapshot of a
	// model restored from a snapshot does not hold the whole file it read.
	var run []byte
	runChunk, runEnd, freed := uint32(0), -1, 0
	write := func(next uint32) error {
		if _, err := w.Write(run); err != nil {
			return err
		}
		if len(run) == 0 || !cut.mapped[runChunk] {
			return nil
		}
		if c := cut.chunks[runChunk]; next != runChunk {
			release(c[freed:])
			freed = 0
		} else if runEnd-freed >= crcWindow {
			release(c[freed:runEnd])
			freed = runEnd
		}
		return nil
	}
	for i := 0; i < cut.entries.n; i++ {
		e := cut.entries.at(i)
		n := int(e.idLen) + int(e.dataLen) + int(e.metaLen)
		if e.chunk == runChunk && int(e.off) == runEnd && len(run) < 1<<20 {
			run = cut.chunks[e.chunk][int(e.off)-len(run) : int(e.off)+n]
			runEnd += n
			continue
		}
		if err := write(e.chunk); err != nil {
			return err
		}
		run, runChunk, runEnd = cut.chunks[e.chunk][e.off:int(e.off)+n], e.chunk, int(e.off)+n
	}
	if err := write(runChunk + 1); err != nil {
		return err
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
	var codes []string // appendLevels' scratch
	for _, is := range sums {
		s := is.s
		buf = appendString(buf, is.id)
		buf = appendString(buf, s.Name)
		buf = appendString(buf, s.Personal)
		buf = appendString(buf, s.Region)
		for _, list := range [][]string{s.Employers, s.Academies, s.Linked} {
			buf = binary.AppendUvarint(buf, uint64(len(list)))
			for _, x := range list {
				buf = appendString(buf, x)
			}
		}
		buf = binary.AppendUvarint(buf, uint64(len(s.Levels)))
		buf = appendLevels(buf, s.Levels, &codes)
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

// appendLevels appends m's entries in code order, each its code
// (appendString) and its level (uvarint), without a count; codes is scratch.
// The snapshot writes a summary's levels so, and the interner keys its
// shared level maps by the same bytes (a load looks them up as read).
func appendLevels(b []byte, m map[string]events.Level, codes *[]string) []byte {
	*codes = (*codes)[:0]
	for code := range m {
		*codes = append(*codes, code)
	}
	slices.Sort(*codes)
	for _, code := range *codes {
		b = appendString(b, code)
		b = binary.AppendUvarint(b, uint64(m[code]))
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// LoadSnapshot replaces the model's content with the snapshot at path. A
// missing file is errs.NotFound (start from zero); a snapshot of another
// projection name or a damaged file is errs.FailedPrecondition (rebuild).
func (m *Memory) LoadSnapshot(path, projection string) error {
	_, err := m.loadSnapshotTag(path, projection)
	return err
}

// loadSnapshotTag is LoadSnapshot, answering the loaded snapshot's tag
// (for its side files: sidecar.go).
func (m *Memory) loadSnapshotTag(path, projection string) (SnapshotTag, error) {
	data, unmap, isMapped, err := mapFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return SnapshotTag{}, errs.E(errs.NotFound, "snapshot %s does not exist", path)
	}
	if err != nil {
		return SnapshotTag{}, fmt.Errorf("snapshot %s: %w", path, err)
	}
	loaded := false
	defer func() {
		if !loaded {
			unmap() // a refused snapshot keeps nothing mapped
		}
	}()
	if len(data) < 4 {
		return SnapshotTag{}, errs.E(errs.FailedPrecondition, "snapshot %s is truncated", path)
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	// The checksum (half of a restart's CPU: every page of the file) runs
	// on another core while the body is parsed; the parse is bounds-checked,
	// and nothing parsed is used unless the checksum holds.
	// It reads the mapping a window at a time and lets each window's pages
	// leave the RSS once summed (the parse faults back in from the page
	// cache what it still reads), so a load never holds the whole file.
	done := make(chan bool, 1)
	go func() {
		var crc uint32
		for off := 0; off < len(body); off += crcWindow {
			w := body[off:min(off+crcWindow, len(body))]
			crc = crc32.Update(crc, crcTable, w)
			if isMapped {
				release(w)
			}
		}
		done <- crc == sum
	}()
	var checked, good bool
	crcOK := func() bool {
		if !checked {
			checked, good = true, <-done
		}
		return good
	}
	fresh, err := loadBody(path, projection, body, isMapped, crcOK)
	if !crcOK() {
		return SnapshotTag{}, errs.E(errs.FailedPrecondition, "snapshot %s fails its checksum", path)
	}
	if err != nil {
		return SnapshotTag{}, err
	}
	loaded = true
	if isMapped {
		release(data) // the checksum read every page; the log reads them again on demand
	}
	fresh.log.spill.res.loaded = unmap // the new log's, unmapped when it is replaced in turn
	m.mu.Lock()
	old := m.log.spill
	// The old log's mappings (its spill file, the snapshot it was loaded
	// from) go once nothing reads them: no reader can reach them after the
	// swap (each reads m.log under the lock), a snapshot writer may still
	// hold a cut (spill.pin).
	defer old.retire()
	m.cp, m.hasCP, m.log, m.dom, m.chains = fresh.cp, fresh.hasCP, fresh.log, fresh.dom, fresh.chains
	m.held = nil // the old model's craftsmen
	m.dom.ensure = func(c *Craftsman) { m.decode(c, false) }
	var rederived []int
	for _, c := range m.dom.rederive {
		m.dom.markDirty(c)
		rederived = append(rederived, c.seq)
	}
	m.dom.rederive = nil
	if m.dom.relinkAll {
		// The file's organisation lists follow the older read rule
		// (a version 4 or 5 file): every summary is derived again, from the
		// events (decoded for it). The as-of rows hold no Linked list,
		// so the side files are not told (Rederived).
		for _, c := range m.dom.order {
			m.dom.markDirty(c)
		}
		m.dom.relinkAll = false
	}
	m.dom.settle()
	tag := SnapshotTag{Checkpoint: fresh.cp, HasCheckpoint: fresh.hasCP, Craftsmen: len(m.dom.order), Sum: sum, Epoch: Epoch{weak.Make(m.dom)}, Rederived: rederived}
	m.mu.Unlock()
	return tag, nil
}

// loadBody parses a snapshot's body into a fresh model (LoadSnapshot swaps
// it in once the checksum holds); mapped says the body is a file mapping.
// crcOK waits for the checksum; loadBody asks it before allocating for a
// count larger than the file could hold (a damaged count must not
// allocate gigabytes).
func loadBody(path, projection string, body []byte, mapped bool, crcOK func() bool) (*Memory, error) {
	r := &reader{b: body}
	plausible := func(count, size uint64) bool {
		return count <= uint64(len(body)) && (count*size <= uint64(len(body)) || crcOK())
	}
	if string(r.raw(len(snapshotMagic))) != snapshotMagic {
		return nil, errs.E(errs.FailedPrecondition, "snapshot %s: unknown format", path)
	}
	version := r.uvarint()
	if version < oldRuleVersion || version > snapshotVersion {
		return nil, errs.E(errs.FailedPrecondition, "snapshot %s: unknown format", path)
	}
	if name := r.str(); name != projection {
		return nil, errs.E(errs.FailedPrecondition, "snapshot %s belongs to projection %q, not %q", path, name, projection)
	}
	hasCP := r.byte1() == 1
	cp := eventstore.Position{Commit: r.uvarint(), Prepare: r.uvarint()}
	fresh := NewMemory()
	l, d := &fresh.log, fresh.dom
	nt := r.uvarint()
	if r.err != nil || nt > 1<<16 {
		return nil, errs.E(errs.FailedPrecondition, "snapshot %s: damaged header", path)
	}
	corrects := make([]bool, 0, nt)
	for i := uint64(0); i < nt && r.err == nil; i++ {
		t := r.str()
		l.types[t] = uint32(len(l.tnames))
		l.tnames = append(l.tnames, t)
		corrects = append(corrects, events.CurrentType(t) == events.TypeEventCorrected)
	}
	ns := r.uvarint()
	if r.err != nil || !plausible(ns, 64) {
		return nil, errs.E(errs.FailedPrecondition, "snapshot %s: damaged header", path)
	}
	l.sinfo = make([]streamInfo, 0, ns)
	l.streams = make(map[string]int32, ns)
	d.craftsmen = make(map[string]*Craftsman, ns)
	for i := uint64(0); i < ns && r.err == nil; i++ {
		name := r.str()
		l.streams[name] = int32(len(l.sinfo))
		l.sinfo = append(l.sinfo, streamInfo{name: name})
	}
	n := r.uvarint()
	if r.err != nil || !plausible(n, 72) {
		return nil, errs.E(errs.FailedPrecondition, "snapshot %s: damaged header", path)
	}
	l.entries = sized(int(n))
	counts := make([]int32, len(l.sinfo))
	var off uint64
	starts := []uint64{0} // where each chunk begins in the file's bytes
	for i := 0; i < l.entries.n; i++ {
		e := l.entries.at(i)
		st, typ := r.uvarint(), r.uvarint()
		e.revision = r.uvarint()
		e.pos = eventstore.Position{Commit: r.uvarint(), Prepare: r.uvarint()}
		e.sec, e.nsec = r.varint(), int32(r.uvarint())
		e.packedID = r.byte1() == 1
		idLen, dataLen, metaLen := r.uvarint(), r.uvarint(), r.uvarint()
		if r.err != nil {
			break
		}
		size := idLen + dataLen + metaLen
		if st >= uint64(len(l.sinfo)) || typ >= uint64(len(l.tnames)) || idLen > 255 || size > maxChunk {
			r.err = errShort
			break
		}
		if off-starts[len(starts)-1]+size > maxChunk {
			starts = append(starts, off) // offsets are 32-bit within a chunk
		}
		e.stream, e.typ, e.idLen, e.dataLen, e.metaLen = int32(st), uint16(typ), uint8(idLen), uint32(dataLen), uint32(metaLen)
		e.chunk, e.off = uint32(len(starts)-1), uint32(off-starts[len(starts)-1])
		off += size
		counts[st]++
	}
	total := r.uvarint()
	if r.err != nil || total != off {
		return nil, errs.E(errs.FailedPrecondition, "snapshot %s: damaged event entries", path)
	}
	// The bytes stay in the file's buffer: one chunk, never written to.
	blob := r.raw(int(total))
	if r.err != nil {
		return nil, errs.E(errs.FailedPrecondition, "snapshot %s: damaged event data", path)
	}
	for k, start := range starts {
		end := total
		if k+1 < len(starts) {
			end = starts[k+1]
		}
		l.chunks = append(l.chunks, blob[start:end:end])
		l.mapped = append(l.mapped, mapped)
	}
	l.used = len(l.chunks[len(l.chunks)-1])
	// Per-stream indexes carved from one array (capacity-limited, so a
	// later append to one stream reallocates instead of overwriting the next).
	all := make([]int32, n)
	at := 0
	for s, c := range counts {
		l.sinfo[s].idx = all[at : at : at+int(c)]
		at += int(c)
	}
	var others []int32 // non-craftsman events: decoded now
	// Corrections per stream: in a file of an older version, a craftsman
	// with one or more is derived again after the load (domain.rederive):
	// a summary written before it followed the domain's correction rule
	// (career.Decide: chains of corrections, version 4; a correction of
	// another type, versions 4 to 6) may differ.
	ncorr := map[int32]int{}
	for i := 0; i < l.entries.n; i++ {
		e := l.entries.at(i)
		idx := int32(i)
		si := &l.sinfo[e.stream]
		if len(si.idx) > 0 && l.entries.at(int(si.idx[len(si.idx)-1])).revision+1 != e.revision {
			return nil, errs.E(errs.FailedPrecondition, "snapshot %s: stream %s is not in revision order", path, si.name)
		}
		si.idx = append(si.idx, idx)
		if corrects[e.typ] {
			ncorr[e.stream]++
			_, data, _ := l.bytesOf(e)
			var c struct {
				Supersedes string `json:"supersedesEventId"`
			}
			if json.Unmarshal(data, &c) == nil && c.Supersedes != "" {
				l.supersedes[idx] = c.Supersedes
				l.supersededBy[c.Supersedes] = append(l.supersededBy[c.Supersedes], idx)
			}
		}
	}
	for s := range l.sinfo {
		si := &l.sinfo[s]
		cat, id, ok := events.SplitStream(si.name)
		switch {
		case !ok:
		case cat == events.CategoryCraftsman:
			c := d.craftsman(id)
			c.ready.Store(false)
			c.count += len(si.idx)
			if version < snapshotVersion && ncorr[int32(s)] > 0 {
				d.rederive = append(d.rederive, c)
			}
			for _, j := range si.idx {
				if l.tnames[l.entries.at(int(j)).typ] == TypePersonalDataErased {
					c.erased = true
				}
			}
		default:
			others = append(others, si.idx...)
		}
	}
	slices.Sort(others)
	raw := make([]eventstore.RecordedEvent, len(others))
	for i, j := range others {
		raw[i] = l.at(int(j))
	}
	var dec batchDecoded // the load's own: not the pool's
	dec.decode(d.reg, raw)
	for i := range raw {
		d.applyRec(raw[i].Stream, &raw[i], &dec.recs[i], dec.ok[i], 1, nil)
	}
	d.dropDirty() // the summaries come from the file
	nc := r.uvarint()
	if !plausible(nc, 8) {
		return nil, errs.E(errs.FailedPrecondition, "snapshot %s: damaged summaries", path)
	}
	order := make([]*Craftsman, 0, nc)
	// Regions, organisations, their lists and the maps of levels repeat
	// across craftsmen: one copy each (domain.internSummary).
	// A list's or a level map's bytes in the file are the interner's key
	// for it (interner.list, interner.levelMap): a list or map already
	// seen is found without decoding it again.
	in := d.strs
	var list []string
	levels := map[string]events.Level{}
	for i := uint64(0); i < nc && r.err == nil; i++ {
		c := d.craftsman(r.str())
		order = append(order, c)
		s := Summary{Name: r.str(), Personal: in.bytes(r.bytes())}
		s.Region = in.bytes(r.bytes())
		for _, dst := range []*[]string{&s.Employers, &s.Academies, &s.Linked} {
			k := r.uvarint()
			if k > uint64(len(r.b)) {
				r.err = errShort
				break
			}
			body := r.b
			for j := uint64(0); j < k; j++ {
				r.bytes()
			}
			if r.err != nil {
				break
			}
			raw := body[:len(body)-len(r.b)]
			if k == 0 {
				*dst = []string{}
			} else if w, ok := in.lists[string(raw)]; ok {
				*dst = w
			} else {
				rr := &reader{b: raw}
				list = list[:0]
				for j := uint64(0); j < k; j++ {
					list = append(list, in.bytes(rr.bytes()))
				}
				*dst = in.list(list)
			}
		}
		k := r.uvarint()
		if k > uint64(len(r.b)) {
			r.err = errShort
			break
		}
		body := r.b
		for j := uint64(0); j < k && r.err == nil; j++ {
			r.bytes()
			r.uvarint()
		}
		if r.err != nil {
			break
		}
		raw := body[:len(body)-len(r.b)]
		if w, ok := in.levels[string(raw)]; ok {
			s.Levels = w
		} else {
			rr := &reader{b: raw}
			clear(levels)
			for j := uint64(0); j < k; j++ {
				code := in.bytes(rr.bytes())
				levels[code] = events.Level(rr.uvarint())
			}
			s.Levels = in.levelMap(levels)
		}
		if version < linkedVersion {
			// The file's third list is of the older read rule (every
			// organisation that recorded an event): never trusted, not
			// even until LoadSnapshot derives the summary again. (Empty
			// here, the derived list is indexed by appends in order.)
			s.Linked = []string{}
		}
		c.Summary = s
	}
	if r.err != nil || len(r.b) != 0 || len(order) != len(d.order) {
		return nil, errs.E(errs.FailedPrecondition, "snapshot %s: damaged summaries", path)
	}
	d.order = order // registration order as the live model had it
	for i, c := range order {
		c.seq = i
		d.reindex(c, Summary{})
	}
	// A file of version 4 or 5 holds the summaries' organisations of the
	// older read rule: every summary is derived again (LoadSnapshot).
	d.relinkAll = version < linkedVersion
	fresh.cp, fresh.hasCP = cp, hasCP
	return fresh, nil
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
