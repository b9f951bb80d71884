package esdbserver

import (
	"hash/maphash"
	"maps"
	"slices"
)

// streamTable holds every stream's streamInfo with (nearly) no pointers,
// so that the garbage collector does not scan it: the names lie back to
// back in one byte arena, the fixed-size state in a slice of pointer-free
// slots, and an index maps a name's hash to its slot, hashes that collide
// being chained through the slots. Only metadata other than noMeta (which
// holds the ACL and the raw JSON) lives in a side map, and few streams
// have it. As a map[string]*streamInfo the 1.1 M streams of a 20 M-event
// store were 2.26 M heap objects that every GC cycle marked.
//
// A streamTable is not safe for concurrent use; its owner locks it.
type streamTable struct {
	seed  maphash.Seed
	mask  uint64           // ^0; tests narrow it to force hash collisions
	index map[uint64]int32 // hash of a name -> first slot with that hash
	slots []streamSlot
	names []byte               // the slots' names, back to back
	meta  map[int32]streamMeta // slot -> metadata, when not noMeta
}

// streamSlot is one stream's state without its metadata.
type streamSlot struct {
	off  uint64 // the name is names[off : off+len]
	len  uint32
	next int32 // next slot with the same hash, -1 for none
	streamState
	hasMeta bool // meta holds the slot's metadata
	sid     uint64
}

func newStreamTable() *streamTable {
	return &streamTable{seed: maphash.MakeSeed(), mask: ^uint64(0), index: map[uint64]int32{}, meta: map[int32]streamMeta{}}
}

func (t *streamTable) hash(name string) uint64 { return maphash.String(t.seed, name) & t.mask }

func (t *streamTable) name(i int32) []byte {
	sl := &t.slots[i]
	return t.names[sl.off : sl.off+uint64(sl.len)]
}

// find returns name's slot and its hash; the slot is -1 when name is absent.
func (t *streamTable) find(name string) (int32, uint64) {
	h := t.hash(name)
	i, ok := t.index[h]
	if !ok {
		return -1, h
	}
	for ; i >= 0; i = t.slots[i].next {
		if string(t.name(i)) == name {
			return i, h
		}
	}
	return -1, h
}

// get returns name's state; ok is false (and the info zero) when the table
// does not hold name.
func (t *streamTable) get(name string) (info streamInfo, ok bool) {
	i, _ := t.find(name)
	if i < 0 {
		return streamInfo{}, false
	}
	return t.at(i), true
}

// at returns the state in slot i.
func (t *streamTable) at(i int32) streamInfo {
	sl := &t.slots[i]
	info := streamInfo{streamState: sl.streamState, Meta: noMeta, sid: sl.sid}
	if sl.hasMeta {
		info.Meta = t.meta[i]
	}
	return info
}

// put sets name's state, adding name when it is new.
func (t *streamTable) put(name string, info streamInfo) {
	i, h := t.find(name)
	if i < 0 {
		i = int32(len(t.slots))
		next := int32(-1)
		if first, ok := t.index[h]; ok {
			next = first
		}
		t.slots = append(t.slots, streamSlot{off: uint64(len(t.names)), len: uint32(len(name)), next: next})
		t.names = append(t.names, name...)
		t.index[h] = i
	}
	sl := &t.slots[i]
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

// len is the number of streams held.
func (t *streamTable) len() int { return len(t.slots) }

// clone returns an independent copy of t (same seed).
func (t *streamTable) clone() *streamTable {
	return &streamTable{
		seed: t.seed, mask: t.mask,
		index: maps.Clone(t.index),
		slots: slices.Clone(t.slots),
		names: slices.Clone(t.names),
		meta:  maps.Clone(t.meta),
	}
}
