// Package readmodel holds craftledger's read models: what the projector
// builds from the event log and what the GraphQL schema reads.
//
// The port is small on purpose (Writer for the projector, Reader for the
// schema) so that a deployment too big for one machine's memory can keep
// the same models in PostgreSQL; the implementation here is Memory, the
// embedded default: every ledger event kept once, decoded once, indexed by
// stream and by position, plus the derived per-craftsman state that
// population queries scan. A snapshot of Memory (WriteSnapshot /
// LoadSnapshot) lets a restart skip the replay.
package readmodel

import (
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// Prefixes are the stream-name prefixes of the ledger's streams; the
// projector subscribes to $all filtered server-side to these. Each call
// returns a fresh slice, so no caller can change another's filter.
func Prefixes() []string {
	return []string{"craftsman-", "academy-", "competition-", "mentorship-", "policy-"}
}

// Writer is what the projector needs from a read model.
type Writer interface {
	// Apply applies events (in $all order, all after the current checkpoint)
	// and moves the checkpoint to cp, atomically: a reader sees either none
	// or all of it. An event whose stream revision does not follow the last
	// applied one of its stream is a gap: Apply fails with
	// errs.FailedPrecondition and applies nothing.
	Apply(batch []eventstore.RecordedEvent, cp eventstore.Position) error
	// Checkpoint is the position of the last event (or server checkpoint)
	// applied; ok is false before anything was applied.
	Checkpoint() (cp eventstore.Position, ok bool)
}

// LogPage is a page of raw events in $all order.
type LogPage struct {
	Events  []eventstore.RecordedEvent
	HasMore bool
	// Total is the number of events matching the request (before paging).
	Total int
}

// LogQuery selects raw events for the audit view.
type LogQuery struct {
	Stream string // "" = every ledger stream
	Prefix string // stream-name prefix ("craftsman-"); ignored when Stream is set
	// After is an exclusive lower bound on the position; nil = from the start.
	After *eventstore.Position
	// RecordedBy keeps only events recorded at or before it (zero = all).
	RecordedBy time.Time
	Limit      int
	// CountTotal asks for LogPage.Total.
	CountTotal bool
}

// rawLog is every applied event in $all order with a per-stream index.
// It is the model's source of truth for the raw bytes (audit history,
// hash chains, lazy decoding) and is kept compact: an event is a small
// fixed entry whose id, data and metadata bytes live back to back in large
// shared chunks (no allocation per event, no per-slice overhead), and
// stream and type names are interned, once each.
type rawLog struct {
	entries entryList
	chunks  [][]byte // full-length chunks; bytes are only ever appended after used
	used    int      // bytes used in the last chunk
	// fileTail: the last chunk is a region of the spill file (see
	// spill.go); the bytes added to it wait in stage, from offset staged
	// of the chunk on, until flush writes them there.
	fileTail bool
	stage    []byte
	staged   int
	spill    *spill
	mapped   []bool // by chunk: a read-only file mapping (not heap)
	streams  map[string]int32
	sinfo    []streamInfo // by stream number
	// lastStream is the stream number + 1 streamOf returned last (0:
	// none): a stream's events come together in $all, and a look-up in a
	// map of a million names is a cache miss or two.
	lastStream int32
	types      map[string]uint32
	tnames     []string
	// Corrections (EventCorrected) link two events: correction index ->
	// the superseded event's id, and superseded id -> every correction's
	// index, in log order (an as-of answer picks the latest recorded by
	// then). Few events are corrections; these stay small.
	supersedes   map[int32]string
	supersededBy map[string][]int32
}

// streamInfo is one stream's name and its events (indexes into entries,
// by revision).
type streamInfo struct {
	name string
	idx  []int32
}

// entry is one event without its bytes: 64 bytes.
type entry struct {
	pos      eventstore.Position
	revision uint64
	sec      int64 // record time: Unix seconds and nanoseconds (UTC)
	chunk    uint32
	off      uint32 // id, data and metadata start here, back to back
	dataLen  uint32
	metaLen  uint32
	stream   int32
	typ      uint16
	idLen    uint8 // bytes of id in the chunk (16 when packedID)
	packedID bool  // the id is a canonical UUID stored as 16 bytes
	nsec     int32
}

// recorded is the entry's record time.
func (e *entry) recorded() time.Time { return time.Unix(e.sec, int64(e.nsec)).UTC() }

const chunkSize = 4 << 20

func newRawLog() rawLog {
	return rawLog{streams: map[string]int32{}, types: map[string]uint32{}, supersedes: map[int32]string{}, supersededBy: map[string][]int32{}, spill: newSpill()}
}

func (l *rawLog) len() int { return l.entries.n }

// entryList holds the entries in blocks of a fixed size: the list grows
// without copying what it holds (a slice of 17 million entries would be
// copied whole, and held twice, each time it outgrew its array), and a
// block once written never moves, so a snapshot's cut may read it while
// the projector appends after the cut.
type entryList struct {
	blocks [][]entry // each entryBlock long
	n      int
}

const entryBlock = 1 << 15 // entries per block (2 MiB)

// at is entry i (i < n).
func (el *entryList) at(i int) *entry { return &el.blocks[i/entryBlock][i%entryBlock] }

// push appends e.
func (el *entryList) push(e entry) {
	if el.n == len(el.blocks)*entryBlock {
		el.blocks = append(el.blocks, make([]entry, entryBlock))
	}
	el.blocks[el.n/entryBlock][el.n%entryBlock] = e
	el.n++
}

// sized makes a list of n zero entries (a snapshot load fills them).
func sized(n int) entryList {
	el := entryList{n: n}
	for k := 0; k < n; k += entryBlock {
		el.blocks = append(el.blocks, make([]entry, entryBlock))
	}
	return el
}

// cut is the list as it stands: the blocks list is clipped, so a later
// push never writes into what the cut sees.
func (el *entryList) cut() entryList {
	return entryList{blocks: el.blocks[:len(el.blocks):len(el.blocks)], n: el.n}
}

// streamIdx is the stream's event indexes (nil for an unknown stream).
func (l *rawLog) streamIdx(name string) []int32 {
	if s, ok := l.streams[name]; ok {
		return l.sinfo[s].idx
	}
	return nil
}

// streamOf returns the stream's number, adding it when new.
func (l *rawLog) streamOf(name string) int32 {
	if s := l.lastStream - 1; s >= 0 && l.sinfo[s].name == name {
		return s
	}
	if s, ok := l.streams[name]; ok {
		l.lastStream = s + 1
		return s
	}
	s := int32(len(l.sinfo))
	name = strings.Clone(name)
	l.streams[name] = s
	l.sinfo = append(l.sinfo, streamInfo{name: name})
	l.lastStream = s + 1
	return s
}

// maxTypes is how many event types the log can name (entry.typ).
const maxTypes = 1 << 16

func (l *rawLog) typeOf(name string) uint16 {
	if t, ok := l.types[name]; ok {
		return uint16(t)
	}
	t := uint32(len(l.tnames))
	name = strings.Clone(name)
	l.types[name] = t
	l.tnames = append(l.tnames, name)
	return uint16(t)
}

// reserve returns room for n bytes in the chunks: the chunk, its offset.
func (l *rawLog) reserve(n int) (uint32, uint32) {
	if len(l.chunks) == 0 || l.used+n > len(l.chunks[len(l.chunks)-1]) {
		l.flush()
		if l.fileTail {
			// What the projector read back of the full chunk (a craftsman
			// whose stream a batch boundary split) leaves the process's
			// pages; the page cache keeps it.
			release(l.chunks[len(l.chunks)-1])
		}
		size := chunkFor(n)
		c, spilled := l.spill.grow(size)
		if !spilled {
			c = make([]byte, size)
		}
		l.chunks = append(l.chunks, c)
		l.mapped = append(l.mapped, spilled)
		l.used, l.fileTail, l.staged = 0, spilled, 0
	}
	off := l.used
	l.used += n
	return uint32(len(l.chunks) - 1), uint32(off)
}

// bytesOf returns an entry's id, data and metadata bytes (capacity-limited
// views into the chunk; nil when empty).
func (l *rawLog) bytesOf(e *entry) (id, data, meta []byte) {
	c := l.chunks[e.chunk]
	o := int(e.off)
	cut := func(n int) []byte {
		if n == 0 {
			return nil
		}
		b := c[o : o+n : o+n]
		o += n
		return b
	}
	return cut(int(e.idLen)), cut(int(e.dataLen)), cut(int(e.metaLen))
}

// idOf is an entry's event id.
func (l *rawLog) idOf(e *entry) string {
	id, _, _ := l.bytesOf(e)
	if e.packedID {
		return formatUUID(id)
	}
	return string(id)
}

// sameID reports whether the entry's id is id, without allocating.
func (l *rawLog) sameID(e *entry, id string) bool {
	b, _, _ := l.bytesOf(e)
	if e.packedID {
		var u [16]byte
		return parseUUID(id, &u) && string(u[:]) == string(b)
	}
	return string(b) == id
}

// at materialises event i (its bytes are views into the log: read-only,
// and read under the model's lock only; Memory.Log and Memory.Stream
// copy them: detach).
func (l *rawLog) at(i int) eventstore.RecordedEvent {
	e := l.entries.at(i)
	_, data, meta := l.bytesOf(e)
	return eventstore.RecordedEvent{Stream: l.sinfo[e.stream].name, ID: l.idOf(e), Type: l.tnames[e.typ], Revision: e.revision,
		Position: e.pos, Data: data, Metadata: meta, Created: e.recorded()}
}

// check verifies that batch continues every stream without a gap and that
// positions only grow; it returns the indexes of the events that are new
// (duplicates of already applied events are dropped).
func (l *rawLog) check(batch []eventstore.RecordedEvent, cp *eventstore.Position) ([]int, error) {
	next := map[string]uint64{}
	var last eventstore.Position
	if cp != nil {
		last = *cp
	}
	fresh := make([]int, 0, len(batch))
	var newTypes map[string]bool // types this batch adds to the table
	for i, ev := range batch {
		if eventstore.IsTombstone(&ev) {
			// A hard-deleted stream's tombstone, at revision 2^63-1: not
			// one of its events (reads of the stream never return it).
			continue
		}
		if cp != nil && !last.Less(ev.Position) {
			if i == 0 || len(fresh) == 0 {
				continue // already applied: a resubscription replayed it
			}
			return nil, errs.E(errs.FailedPrecondition, "projection: position %d/%d of %s is not after %d/%d", ev.Position.Commit, ev.Position.Prepare, ev.Stream, last.Commit, last.Prepare)
		}
		want, seen := next[ev.Stream]
		if !seen {
			idx := l.streamIdx(ev.Stream)
			want = uint64(len(idx))
			if len(idx) > 0 {
				want = l.entries.at(int(idx[len(idx)-1])).revision + 1
			}
		}
		if ev.Revision < want {
			continue // duplicate of an applied revision
		}
		if ev.Revision != want {
			return nil, errs.E(errs.FailedPrecondition, "projection: gap in %s: expected revision %d, got %d at %d/%d", ev.Stream, want, ev.Revision, ev.Position.Commit, ev.Position.Prepare)
		}
		if len(ev.ID) > 255 {
			return nil, errs.E(errs.FailedPrecondition, "projection: event %s@%d: id longer than 255 bytes", ev.Stream, ev.Revision)
		}
		// An entry holds its type's number in 16 bits: the types this
		// batch adds count too (typeOf would number the 65,537th 0).
		if _, known := l.types[ev.Type]; !known && !newTypes[ev.Type] {
			if len(l.tnames)+len(newTypes) >= maxTypes {
				return nil, errs.E(errs.FailedPrecondition, "projection: event %s@%d: type %q would be the read model's 65,537th event type (at most 65,536)", ev.Stream, ev.Revision, ev.Type)
			}
			if newTypes == nil {
				newTypes = map[string]bool{}
			}
			newTypes[ev.Type] = true
		}
		next[ev.Stream] = want + 1
		last = ev.Position
		cp = &last
		fresh = append(fresh, i)
	}
	return fresh, nil
}

// add appends ev, copying its bytes into the log, and returns the log's
// copy of its stream name. The bytes can be read once flush has run.
func (l *rawLog) add(ev *eventstore.RecordedEvent) string {
	var u [16]byte
	packed := parseUUID(ev.ID, &u)
	idb := ev.ID
	if packed {
		idb = string(u[:])
	}
	n := len(idb) + len(ev.Data) + len(ev.Metadata)
	ch, off := l.reserve(n)
	if l.fileTail {
		l.stage = append(append(append(l.stage, idb...), ev.Data...), ev.Metadata...)
	} else {
		dst := l.chunks[ch][off:]
		k := copy(dst, idb)
		k += copy(dst[k:], ev.Data)
		copy(dst[k:], ev.Metadata)
	}
	l.push(entry{pos: ev.Position, revision: ev.Revision, sec: ev.Created.Unix(), nsec: int32(ev.Created.Nanosecond()),
		chunk: ch, off: off, dataLen: uint32(len(ev.Data)), metaLen: uint32(len(ev.Metadata)),
		stream: l.streamOf(ev.Stream), typ: l.typeOf(ev.Type), idLen: uint8(len(idb)), packedID: packed}, ev.Type, ev.Data)
	return l.sinfo[l.lastStream-1].name
}

// push appends an entry whose bytes are in place and indexes it.
func (l *rawLog) push(e entry, typ string, data []byte) {
	idx := int32(l.entries.n)
	l.entries.push(e)
	si := &l.sinfo[e.stream]
	si.idx = append(si.idx, idx)
	if events.CurrentType(typ) == events.TypeEventCorrected {
		var c struct {
			Supersedes string `json:"supersedesEventId"`
		}
		if json.Unmarshal(data, &c) == nil && c.Supersedes != "" {
			l.supersedes[idx] = c.Supersedes
			l.supersededBy[c.Supersedes] = append(l.supersededBy[c.Supersedes], idx)
		}
	}
}

// parseUUID reads a canonical lower-case UUID (8-4-4-4-12 hex digits).
func parseUUID(s string, u *[16]byte) bool {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	for j, i := range uuidDigits {
		hi, lo := hexDigit[s[i]], hexDigit[s[i+1]]
		if hi == 0 || lo == 0 {
			return false
		}
		u[j] = (hi-1)<<4 | (lo - 1)
	}
	return true
}

// uuidDigits are where each byte's two hex digits start in a canonical UUID.
var uuidDigits = [16]uint8{0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34}

// hexDigit is a lower-case hex digit's value plus one; 0 for anything else
// (an id with upper case is kept as written).
var hexDigit = [256]byte{
	'0': 1, '1': 2, '2': 3, '3': 4, '4': 5, '5': 6, '6': 7, '7': 8, '8': 9, '9': 10,
	'a': 11, 'b': 12, 'c': 13, 'd': 14, 'e': 15, 'f': 16,
}

func formatUUID(b []byte) string {
	const digits = "0123456789abcdef"
	var out [36]byte
	j := 0
	for i := 0; i < 16; i++ {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = digits[b[i]>>4], digits[b[i]&15]
		j += 2
	}
	return string(out[:])
}

// EventRef locates one event of the log.
type EventRef struct {
	ID       string
	Stream   string
	Revision uint64
	Position eventstore.Position
	Created  time.Time
	// Found is false when only the id is known (the superseded event is
	// not in the correction's stream, or not projected).
	Found bool
}

func (l *rawLog) refOf(i int32) EventRef {
	e := l.entries.at(int(i))
	return EventRef{ID: l.idOf(e), Stream: l.sinfo[e.stream].name, Revision: e.revision, Position: e.pos, Created: e.recorded(), Found: true}
}

// corrections answers what the event at (stream, revision) supersedes
// and the latest correction that superseded it recorded by recordedBy
// (any when zero).
func (l *rawLog) corrections(stream string, revision uint64, recordedBy time.Time) (supersedes, supersededBy *EventRef) {
	idxs := l.streamIdx(stream)
	if len(idxs) == 0 {
		return nil, nil
	}
	first := l.entries.at(int(idxs[0])).revision
	if revision < first || revision-first >= uint64(len(idxs)) {
		return nil, nil
	}
	idx := idxs[revision-first]
	if target, ok := l.supersedes[idx]; ok {
		ref := EventRef{ID: target}
		// A correction is recorded in the stream of the event it corrects.
		for i := len(idxs) - 1; i >= 0; i-- {
			if l.sameID(l.entries.at(int(idxs[i])), target) {
				ref = l.refOf(idxs[i])
				break
			}
		}
		supersedes = &ref
	}
	if len(l.supersededBy) > 0 {
		var latest *EventRef
		for _, by := range l.supersededBy[l.idOf(l.entries.at(int(idx)))] {
			ref := l.refOf(by)
			if !recordedBy.IsZero() && ref.Created.After(recordedBy) {
				continue
			}
			if latest == nil || !ref.Created.Before(latest.Created) {
				latest = &ref
			}
		}
		supersededBy = latest
	}
	return supersedes, supersededBy
}

// stream returns the events of one stream in revision order.
func (l *rawLog) stream(name string) []eventstore.RecordedEvent {
	idx := l.streamIdx(name)
	out := make([]eventstore.RecordedEvent, len(idx))
	for i, j := range idx {
		out[i] = l.at(int(j))
	}
	return out
}

// page answers a LogQuery. Total is counted only when q.CountTotal is set
// (it costs a scan of everything that matches).
func (l *rawLog) page(q LogQuery) LogPage {
	var bySec int64
	var byNsec int32
	if !q.RecordedBy.IsZero() {
		bySec, byNsec = q.RecordedBy.Unix(), int32(q.RecordedBy.Nanosecond())
	}
	keep := func(e *entry) bool {
		if !q.RecordedBy.IsZero() && (e.sec > bySec || e.sec == bySec && e.nsec > byNsec) {
			return false
		}
		if q.Stream == "" && q.Prefix != "" && !strings.HasPrefix(l.sinfo[e.stream].name, q.Prefix) {
			return false
		}
		return true
	}
	var out LogPage
	// visit returns false to stop early.
	visit := func(i int) bool {
		e := l.entries.at(i)
		if !keep(e) {
			return true
		}
		inPage := q.After == nil || q.After.Less(e.pos)
		if inPage {
			if len(out.Events) < q.Limit {
				out.Events = append(out.Events, l.at(i))
			} else {
				out.HasMore = true
			}
		}
		if q.CountTotal {
			out.Total++
			return true
		}
		return !out.HasMore
	}
	if q.Stream != "" {
		for _, j := range l.streamIdx(q.Stream) {
			if !visit(int(j)) {
				break
			}
		}
		return out
	}
	start := 0
	if q.After != nil && !q.CountTotal {
		after := *q.After
		start = sort.Search(l.entries.n, func(i int) bool { return after.Less(l.entries.at(i).pos) })
	}
	for i := start; i < l.entries.n; i++ {
		if !visit(i) {
			break
		}
	}
	return out
}
