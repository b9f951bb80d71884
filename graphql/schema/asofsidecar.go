package schema

import (
	"encoding/binary"
	"errors"
	"io"
	"math"

	"github.com/craftledger/craftledger/graphql/readmodel"
)

// The as-of index is kept beside the model's snapshot (a
// readmodel.Sidecar): a restart that loads the snapshot gets the
// timelines back with it instead of building them again. The side file
// holds the strings the rows name and, per chunk, the event counts,
// offsets, instants and rows; on load the strings are numbered in the
// index's dictionary again (it may hold others) and the rows renamed.
// Timelines of craftsmen past the snapshot's are dropped, and those
// derived from more events than the snapshot holds (the index was built
// after the snapshot's cut) do not match the model's count: they are
// derived alone, as any changed craftsman is.

var _ readmodel.Sidecar = (*AsOfIndex)(nil)

// SidecarName names the side file.
func (x *AsOfIndex) SidecarName() string { return "asof" }

// SidecarVersion is the side file's format version.
func (x *AsOfIndex) SidecarVersion() uint64 { return 1 }

// WriteSidecar writes the timelines built for the snapshot's craftsmen;
// nothing when none is for them or their build has not ended with every
// chunk built. (A snapshot written during the first build, or when a stop
// cancels it, would otherwise keep a part of the index: loaded, it counts
// as built, and the chunks it lacks would never be built again.)
func (x *AsOfIndex) WriteSidecar(w io.Writer, tag readmodel.SnapshotTag) error {
	tl := x.tl.Load()
	if tl == nil || tl.epoch != tag.Epoch || !tl.complete.Load() {
		return nil
	}
	chunks := make([]*asOfChunk, len(tl.chunks))
	for k := range chunks {
		chunks[k] = tl.chunks[k].Load()
	}
	strs := x.dict.snapshot() // every chunk loaded names fewer
	b := appendStrings(nil, strs)
	b = binary.AppendUvarint(b, uint64(len(chunks)))
	if _, err := w.Write(b); err != nil {
		return err
	}
	for _, ch := range chunks {
		b = b[:0]
		if ch == nil {
			b = append(b, 0)
			if _, err := w.Write(b); err != nil {
				return err
			}
			continue
		}
		b = append(b, 1)
		for _, n := range ch.n {
			b = binary.LittleEndian.AppendUint32(b, n)
		}
		for _, o := range ch.off {
			b = binary.LittleEndian.AppendUint32(b, o)
		}
		for i, f := range ch.from {
			r := &ch.rows[i]
			b = binary.LittleEndian.AppendUint64(b, uint64(f))
			b = appendRow(b, r)
			if len(b) > 1<<16 {
				if _, err := w.Write(b); err != nil {
					return err
				}
				b = b[:0]
			}
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// asOfRowBytes is a row's size in a side file.
const asOfRowBytes = 2 + 6 + 4 + 4 + 3 + 4

func appendRow(b []byte, r *asOfRow) []byte {
	for _, v := range [...]uint16{r.region, r.trades[0], r.trades[1], r.trades[2], r.emps[0], r.emps[1], r.acads[0], r.acads[1]} {
		b = binary.LittleEndian.AppendUint16(b, v)
	}
	return append(b, r.levels[0], r.levels[1], r.levels[2], r.max, r.nt, r.ne, r.na)
}

// readRow reads a row, its strings renamed by names.
func readRow(b []byte, names []uint16) (asOfRow, bool) {
	u := func(i int) uint16 { return binary.LittleEndian.Uint16(b[2*i:]) }
	r := asOfRow{region: u(0), trades: [3]uint16{u(1), u(2), u(3)}, emps: [2]uint16{u(4), u(5)}, acads: [2]uint16{u(6), u(7)},
		levels: [3]uint8{b[16], b[17], b[18]}, max: b[19], nt: b[20], ne: b[21], na: b[22]}
	if int(r.nt) > len(r.trades) || int(r.ne) > len(r.emps) || int(r.na) > len(r.acads) {
		return r, false
	}
	ok := true
	name := func(v *uint16) {
		if int(*v) >= len(names) {
			ok = false
			return
		}
		*v = names[*v]
	}
	name(&r.region)
	for i := range r.nt {
		name(&r.trades[i])
	}
	for i := range r.ne {
		name(&r.emps[i])
	}
	for i := range r.na {
		name(&r.acads[i])
	}
	return r, ok
}

// number is v's index in d, numbered now when new (as build numbers a
// region); false when d is full.
func (d *popDict) number(v string) (uint16, bool) {
	r := d.build(&readmodel.Summary{Region: v}, nil)
	return r.region, !r.slow
}

var errAsOfSide = errors.New("as-of side file: damaged")

// LoadSidecar takes the timelines of the snapshot just loaded (nothing
// when body is nil or cannot be read: Follow builds them).
func (x *AsOfIndex) LoadSidecar(body []byte, tag readmodel.SnapshotTag) {
	if body == nil {
		return
	}
	if tl, err := x.readSide(body, tag); err == nil {
		x.tl.Store(tl)
	}
}

func (x *AsOfIndex) readSide(b []byte, tag readmodel.SnapshotTag) (*asOfTimeline, error) {
	uv := func() (uint64, error) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, errAsOfSide
		}
		b = b[n:]
		return v, nil
	}
	named, b, ok := readStrings(b, len(b))
	if !ok {
		return nil, errAsOfSide
	}
	names := make([]uint16, len(named))
	for i, s := range named {
		if names[i], ok = x.dict.number(s); !ok {
			return nil, errAsOfSide
		}
	}
	nc, err := uv()
	if err != nil || nc > uint64(len(b)) || nc > math.MaxInt32 {
		return nil, errAsOfSide
	}
	tl := newTimeline(tag.Epoch, int(nc)*asOfChunkSize)
	tl.complete.Store(true) // only complete timelines are written
	close(tl.done)
	strs := len(x.dict.snapshot())
	// Craftsmen the load derived again: their timelines are derived
	// again too (a count of 0 never matches the model's).
	stale := map[int][]int{}
	for _, i := range tag.Rederived {
		stale[i/asOfChunkSize] = append(stale[i/asOfChunkSize], i%asOfChunkSize)
	}
	const fixed = 4*asOfChunkSize + 4*(asOfChunkSize+1)
	for k := range tl.chunks {
		if len(b) < 1 {
			return nil, errAsOfSide
		}
		present := b[0]
		b = b[1:]
		if present == 0 {
			continue
		}
		if len(b) < fixed {
			return nil, errAsOfSide
		}
		ch := &asOfChunk{strs: strs}
		for i := range ch.n {
			ch.n[i] = binary.LittleEndian.Uint32(b[4*i:])
			if k*asOfChunkSize+i >= tag.Craftsmen {
				ch.n[i] = 0 // not the snapshot's craftsman
			}
		}
		for _, i := range stale[k] {
			ch.n[i] = 0
		}
		b = b[4*asOfChunkSize:]
		for i := range ch.off {
			ch.off[i] = binary.LittleEndian.Uint32(b[4*i:])
			if i > 0 && ch.off[i] < ch.off[i-1] {
				return nil, errAsOfSide
			}
		}
		b = b[4*(asOfChunkSize+1):]
		nv := int(ch.off[asOfChunkSize])
		if nv*(8+asOfRowBytes) > len(b) || ch.off[0] != 0 {
			return nil, errAsOfSide
		}
		ch.from, ch.rows = make([]int64, nv), make([]asOfRow, nv)
		for i := range nv {
			ch.from[i] = int64(binary.LittleEndian.Uint64(b))
			r, ok := readRow(b[8:], names)
			if !ok {
				return nil, errAsOfSide
			}
			ch.rows[i] = r
			b = b[8+asOfRowBytes:]
		}
		tl.chunks[k].Store(ch)
	}
	if len(b) != 0 {
		return nil, errAsOfSide
	}
	return tl, nil
}
