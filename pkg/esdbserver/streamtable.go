package esdbserver

import (
	"hash/maphash"
	"maps"

	"github.com/craftledger/craftledger/pkg/internal/keytable"
)

// streamTable holds every stream's streamInfo with (nearly) no pointers,
// so that the garbage collector does not scan it: a keytable.Table of
// pointer-free slots keyed by the stream's name. Only metadata other than
// noMeta (which holds the ACL and the raw JSON) lives in a side map, and few
// streams have it. As a map[string]*streamInfo the 1.1 M streams of a 20
// M-event store were 2.26 M heap objects that every GC cycle marked.
//
// A streamTable is not safe for concurrent use; its owner locks it.
type streamTable struct {
	keytable.Table[streamSlot]
	seed maphash.Seed
	mask uint64               // ^0; tests narrow it to force hash collisions
	meta map[int32]streamMeta // slot -> metadata, when not noMeta
}

// streamSlot is one stream's state without its metadata.
type streamSlot struct {
	streamState
	hasMeta bool // meta holds the slot's metadata
	sid     uint64
}

func newStreamTable() *streamTable {
	return &streamTable{Table: keytable.New[streamSlot](), seed: maphash.MakeSeed(), mask: ^uint64(0), meta: map[int32]streamMeta{}}
}

func (t *streamTable) hash(name string) uint64 { return maphash.String(t.seed, name) & t.mask }

// get returns name's state; ok is false (and the info zero) when the table
// does not hold name.
func (t *streamTable) get(name string) (info streamInfo, ok bool) {
	i, ok := keytable.Find(&t.Table, name, t.hash(name))
	if !ok {
		return streamInfo{}, false
	}
	return t.at(i), true
}

// at returns the state in slot i.
func (t *streamTable) at(i int32) streamInfo {
	sl := t.At(i)
	info := streamInfo{streamState: sl.streamState, Meta: noMeta, sid: sl.sid}
	if sl.hasMeta {
		info.Meta = t.meta[i]
	}
	return info
}

// put sets name's state, adding name when it is new.
func (t *streamTable) put(name string, info streamInfo) {
	i := keytable.Put(&t.Table, name, t.hash(name))
	sl := t.At(i)
	sl.streamState, sl.sid = info.streamState, info.sid
	switch {
	case !isNoMeta(info.Meta):
		t.meta[i] = info.Meta
		sl.hasMeta = true
	case sl.hasMeta:
		delete(t.meta, i)
		sl.hasMeta = false
	}
}

// isNoMeta reports whether m is exactly noMeta, which the side map leaves out.
func isNoMeta(m streamMeta) bool {
	return m.MaxCount == noMeta.MaxCount && m.MaxAge == noMeta.MaxAge && m.TB == noMeta.TB && m.ACL == nil && m.raw == nil
}

// clone returns an independent copy of t (same seed).
func (t *streamTable) clone() *streamTable {
	return &streamTable{Table: t.Table.Clone(), seed: t.seed, mask: t.mask, meta: maps.Clone(t.meta)}
}
