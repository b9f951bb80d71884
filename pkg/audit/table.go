package audit

import (
	"bytes"
	"hash/maphash"

	"github.com/craftledger/craftledger/events/chain"
	"github.com/craftledger/craftledger/pkg/internal/keytable"
)

// streamState is what a verify worker keeps per stream: no pointers, and
// the last hash as a chain.Sum, not a string.
type streamState struct {
	next   uint64    // expected next revision
	hash   chain.Sum // hash of the last event, when next > 0 and not broken
	broken bool      // a chain break or a gap ends the chain check
	// gapped: revisions are missing from a feed, which has a finding (or,
	// partial, is counted) but the chain check goes on after them.
	gapped  bool
	partial bool // counted as a partial stream (VerifyOptions.Partial)
}

// streamTable maps stream names to their states, indexed by the hash the
// dispatcher computed for the name (maphash) to pick the worker. Like the
// fact table it is a keytable.Table: a ledger has millions of streams, and
// with a pointer-free value the garbage collector never scans either.
type streamTable struct{ keytable.Table[streamState] }

func newStreamTable() *streamTable { return &streamTable{keytable.New[streamState]()} }

// lookup returns the number and state of stream name, whose hash is h,
// adding a fresh state for a new name.
func (t *streamTable) lookup(name string, h uint64) (int32, *streamState) {
	i := keytable.Put(&t.Table, name, h)
	return i, t.At(i)
}

// broken counts the streams with a finding of the chain or a gap.
func (t *streamTable) broken() int {
	n := 0
	for i := range int32(t.Len()) {
		if s := t.At(i); s.broken || s.gapped {
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
	keytable.Table[int32] // key -> organisation (index in orgs)
	seed                  maphash.Seed
	orgs                  [][]byte
	orgIx                 map[string]int32
	// mask is applied to each key's hash: all ones, or fewer bits in tests
	// that force collisions. (A replaceable hash function would move every
	// look-up's key from the stack to the heap.)
	mask uint64
}

func newFactTable() *factTable {
	return &factTable{Table: keytable.New[int32](), seed: maphash.MakeSeed(), orgIx: map[string]int32{}, mask: ^uint64(0)}
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
	*t.At(keytable.Put(&t.Table, k, maphash.Bytes(t.seed, k)&t.mask)) = o
}

// get returns the organisation recorded for id.
func (t *factTable) get(stream int32, kind uint8, id []byte) ([]byte, bool) {
	var buf [factKeyMax]byte
	k := factKey(buf[:0], stream, kind, id)
	i, ok := keytable.Find(&t.Table, k, maphash.Bytes(t.seed, k)&t.mask)
	if !ok {
		return nil, false
	}
	return t.orgs[*t.At(i)], true
}
