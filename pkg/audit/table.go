package audit

import (
	"bytes"
	"hash/maphash"

	"github.com/craftledger/craftledger/events/chain"
)

// keyTable numbers byte-string keys and keeps a value of type V for each
// without a pointer per key: the keys sit back to back in one byte slice,
// the entries in pages of tablePage structs, and the index is keyed by a
// 64-bit hash of the key that the caller computes. A key whose hash another
// key already holds goes to other, keyed by the key itself, so a collision
// costs a map entry, never a wrong answer. A verify worker keeps its
// streams in one (streamTable) and their facts in another (factTable): a
// ledger has millions of streams, and with a pointer-free V the garbage
// collector never scans either.
type keyTable[V any] struct {
	index map[uint64]int32
	other map[string]int32
	keys  []byte
	pages [][]keyEntry[V]
	n     int32
}

type keyEntry[V any] struct {
	off int // the key in keyTable.keys
	len int32
	v   V
}

const tablePage = 1024

func newKeyTable[V any]() keyTable[V] {
	return keyTable[V]{index: map[uint64]int32{}, other: map[string]int32{}}
}

func (t *keyTable[V]) entry(i int32) *keyEntry[V] { return &t.pages[i/tablePage][i%tablePage] }

// at is the value of key number i.
func (t *keyTable[V]) at(i int32) *V { return &t.entry(i).v }

// key is key number i.
func (t *keyTable[V]) key(i int32) []byte {
	e := t.entry(i)
	return t.keys[e.off : e.off+int(e.len)]
}

func (t *keyTable[V]) len() int { return int(t.n) }

// tableFind returns the number of key, whose hash is h; ok is false when
// t does not hold it.
func tableFind[V any, K ~string | ~[]byte](t *keyTable[V], key K, h uint64) (i int32, ok bool) {
	if i, ok = t.index[h]; !ok {
		return -1, false
	}
	if string(t.key(i)) == string(key) {
		return i, true
	}
	i, ok = t.other[string(key)]
	return i, ok
}

// tablePut returns the number of key, whose hash is h, adding an entry
// with a zero value for a new key.
func tablePut[V any, K ~string | ~[]byte](t *keyTable[V], key K, h uint64) int32 {
	i, ok := t.index[h]
	if !ok {
		i = tableAdd(t, key)
		t.index[h] = i
		return i
	}
	if string(t.key(i)) == string(key) {
		return i
	}
	if i, ok := t.other[string(key)]; ok {
		return i
	}
	i = tableAdd(t, key)
	t.other[string(key)] = i
	return i
}

func tableAdd[V any, K ~string | ~[]byte](t *keyTable[V], key K) int32 {
	i := t.n
	if int(i)/tablePage == len(t.pages) {
		t.pages = append(t.pages, make([]keyEntry[V], tablePage))
	}
	t.n++
	e := t.entry(i)
	e.off, e.len = len(t.keys), int32(len(key))
	t.keys = append(t.keys, key...)
	return i
}

// streamState is what a verify worker keeps per stream: no pointers, and
// the last hash as a chain.Sum, not a string.
type streamState struct {
	next   uint64    // expected next revision
	hash   chain.Sum // hash of the last event, when next > 0 and not broken
	broken bool
}

// streamTable maps stream names to their states, indexed by the hash the
// dispatcher computed for the name (maphash) to pick the worker.
type streamTable struct{ keyTable[streamState] }

func newStreamTable() *streamTable { return &streamTable{newKeyTable[streamState]()} }

// lookup returns the number and state of stream name, whose hash is h,
// adding a fresh state for a new name.
func (t *streamTable) lookup(name string, h uint64) (int32, *streamState) {
	i := tablePut(&t.keyTable, name, h)
	return i, t.at(i)
}

// broken counts the streams with a finding of the chain or a gap.
func (t *streamTable) broken() int {
	n := 0
	for i := range t.n {
		if t.at(i).broken {
			n++
		}
	}
	return n
}

// Kinds of per-stream facts the issuer rule looks up.
const (
	factEmployer uint8 = iota + 1 // employment id -> its employer
	factHonour                    // honour id -> the organisation that recorded it
)

// factTable maps (stream, kind, id) to an organisation: the employer of
// each employment and the recorder of each honour seen on a stream (the
// issuer rule's look-ups that stay in one stream). Its keys are the
// stream's number, the kind and the id, back to back; the organisations,
// few and repeated, are interned.
type factTable struct {
	keyTable[int32] // key -> organisation (index in orgs)
	seed            maphash.Seed
	orgs            [][]byte
	orgIx           map[string]int32
	// mask is applied to each key's hash: all ones, or fewer bits in tests
	// that force collisions. (A replaceable hash function would move every
	// look-up's key from the stack to the heap.)
	mask uint64
}

func newFactTable() *factTable {
	return &factTable{keyTable: newKeyTable[int32](), seed: maphash.MakeSeed(), orgIx: map[string]int32{}, mask: ^uint64(0)}
}

// factKeyMax is the longest key a fact's look-up builds on the stack;
// longer ids take a heap copy.
const factKeyMax = 64

func factKey(buf []byte, stream int32, kind uint8, id []byte) []byte {
	return append(append(buf, byte(stream>>24), byte(stream>>16), byte(stream>>8), byte(stream), kind), id...)
}

func (t *factTable) intern(org []byte) int32 {
	if i, ok := t.orgIx[string(org)]; ok {
		return i
	}
	i := int32(len(t.orgs))
	t.orgs = append(t.orgs, bytes.Clone(org))
	t.orgIx[string(org)] = i
	return i
}

// set records org for id (replacing what was there).
func (t *factTable) set(stream int32, kind uint8, id, org []byte) {
	var buf [factKeyMax]byte
	k := factKey(buf[:0], stream, kind, id)
	o := t.intern(org)
	*t.at(tablePut(&t.keyTable, k, maphash.Bytes(t.seed, k)&t.mask)) = o
}

// get returns the organisation recorded for id.
func (t *factTable) get(stream int32, kind uint8, id []byte) ([]byte, bool) {
	var buf [factKeyMax]byte
	k := factKey(buf[:0], stream, kind, id)
	i, ok := tableFind(&t.keyTable, k, maphash.Bytes(t.seed, k)&t.mask)
	if !ok {
		return nil, false
	}
	return t.orgs[*t.at(i)], true
}
