// Package keytable is a map from byte-string keys to values that holds no
// pointer per key, so that the garbage collector does not scan it however
// many keys it holds: the keys sit back to back in one byte slice, the
// entries in fixed-size pages, and the index is keyed by a 64-bit hash of
// the key that the caller computes (hash/maphash with its own seed). A key
// whose hash another key already holds goes to a side map keyed by the key
// itself, so a collision costs a map entry, never a wrong answer. With a
// pointer-free V the whole table is pointer-free but for that side map.
//
// The audit verifier keeps its streams and facts in such tables and the
// embedded store its streams' states: millions of keys each.
//
// A Table is not safe for concurrent use; its owner locks it.
package keytable

import (
	"maps"
	"slices"
)

// Table numbers keys in the order they are added and keeps a V for each.
type Table[V any] struct {
	index map[uint64]int32
	other map[string]int32
	keys  []byte
	pages [][]entry[V]
	n     int32
}

type entry[V any] struct {
	off int // the key in Table.keys
	len int32
	v   V
}

const page = 1024

// New returns an empty table.
func New[V any]() Table[V] {
	return Table[V]{index: map[uint64]int32{}, other: map[string]int32{}}
}

func (t *Table[V]) entry(i int32) *entry[V] { return &t.pages[i/page][i%page] }

// At is the value of key number i.
func (t *Table[V]) At(i int32) *V { return &t.entry(i).v }

// Key is key number i.
func (t *Table[V]) Key(i int32) []byte {
	e := t.entry(i)
	return t.keys[e.off : e.off+int(e.len)]
}

// Len is the number of keys held.
func (t *Table[V]) Len() int { return int(t.n) }

// Clone returns an independent copy of t.
func (t *Table[V]) Clone() Table[V] {
	c := Table[V]{index: maps.Clone(t.index), other: maps.Clone(t.other), keys: slices.Clone(t.keys), n: t.n}
	c.pages = make([][]entry[V], len(t.pages))
	for i, p := range t.pages {
		c.pages[i] = slices.Clone(p)
	}
	return c
}

// Find returns the number of key, whose hash is h; ok is false when t does
// not hold it.
func Find[V any, K ~string | ~[]byte](t *Table[V], key K, h uint64) (i int32, ok bool) {
	if i, ok = t.index[h]; !ok {
		return -1, false
	}
	if string(t.Key(i)) == string(key) {
		return i, true
	}
	i, ok = t.other[string(key)]
	return i, ok
}

// Put returns the number of key, whose hash is h, adding an entry with a
// zero value for a new key.
func Put[V any, K ~string | ~[]byte](t *Table[V], key K, h uint64) int32 {
	i, ok := t.index[h]
	if !ok {
		i = add(t, key)
		t.index[h] = i
		return i
	}
	if string(t.Key(i)) == string(key) {
		return i
	}
	if i, ok := t.other[string(key)]; ok {
		return i
	}
	i = add(t, key)
	t.other[string(key)] = i
	return i
}

func add[V any, K ~string | ~[]byte](t *Table[V], key K) int32 {
	i := t.n
	if int(i)/page == len(t.pages) {
		t.pages = append(t.pages, make([]entry[V], page))
	}
	t.n++
	e := t.entry(i)
	e.off, e.len = len(t.keys), int32(len(key))
	t.keys = append(t.keys, key...)
	return i
}
