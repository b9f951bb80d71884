// Package chain makes each stream of the ledger tamper-evident: every
// event's metadata carries the hash of the previous event of its stream
// (prevHash) and its own hash over that previous hash, its type, its data
// and its metadata without the hash. Verify replays a stream and reports
// the first place where the chain breaks: a changed byte, a dropped,
// inserted or reordered event.
package chain

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"

	"github.com/craftledger/craftledger/events"
)

// Prefix starts every hash; the algorithm is named so it can change.
const Prefix = "sha256:"

const domain = "craftledger/chain/v1"

// Hash computes the chained hash of an event: SHA-256 over a domain tag,
// prev, the type, the data and the canonical metadata without its hash,
// each length-prefixed. m.PrevHash must already be prev.
func Hash(prev, typ string, data []byte, m events.Metadata) (string, error) {
	m.Hash = ""
	meta, err := events.AppendMetadata(nil, m)
	if err != nil {
		return "", fmt.Errorf("hash %s: %w", typ, err)
	}
	return hashBytes(prev, typ, data, meta), nil
}

// hashBytes hashes the length-prefixed fields as one message, gathered in
// a buffer on the stack when they fit (a start's events do), so that the
// hash's text is the only allocation.
func hashBytes(prev, typ string, data, meta []byte) string {
	var stack [2048]byte
	b := appendLen(stack[:0], domain)
	b = appendLen(b, prev)
	b = appendLen(b, typ)
	b = appendLen(b, data)
	b = appendLen(b, meta)
	return Sum(sha256.Sum256(b)).String()
}

func appendLen[T string | []byte](b []byte, v T) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(v)))
	return append(b, v...)
}

// Seal sets m.PrevHash to prev (the hash of the stream's last event, "" for
// its first event) and m.Hash, and returns the sealed metadata with its
// canonical bytes to append.
//
// The metadata is encoded once: the hash is its last field (see
// events.Metadata) and needs no escaping, so the sealed bytes are the
// hashed ones with `,"hash":"…"` before the closing brace — what
// events.EncodeMetadata writes for the sealed metadata.
func Seal(prev, typ string, data []byte, m events.Metadata) (events.Metadata, []byte, error) {
	m.PrevHash = prev
	m.Hash = ""
	meta, err := events.AppendMetadata(make([]byte, 0, sealedCap(m)), m)
	if err != nil {
		return m, nil, fmt.Errorf("hash %s: %w", typ, err)
	}
	m.Hash = hashBytes(prev, typ, data, meta)
	meta = append(append(append(meta[:len(meta)-1], hashField...), m.Hash...), '"', '}')
	return m, meta, nil
}

// sealedCap is room for m's sealed metadata when its strings need no
// escaping: the longest fixed text, the strings and the hash.
func sealedCap(m events.Metadata) int {
	const fixed = len(`{"schemaVersion":-9223372036854775808,"occurredAt":"2006-01-02T15:04:05.999999999Z","issuerOrgId":"","actingUserId":"",` +
		`"$correlationId":"","$causationId":"","source":"","prevHash":"","hash":""}`)
	return fixed + len(Prefix) + 2*sha256.Size + len(m.IssuerOrgID) + len(m.ActingUserID) + len(m.CorrelationID) +
		len(m.CausationID) + len(m.Source) + len(m.PrevHash)
}

// SealAll seals a batch appended after an event with hash prev; it returns
// the metadata bytes of each event and the hash of the last.
func SealAll(prev string, types []string, data [][]byte, metas []events.Metadata) ([][]byte, string, error) {
	if len(types) != len(data) || len(types) != len(metas) {
		return nil, "", fmt.Errorf("seal batch: %d types, %d data, %d metadata", len(types), len(data), len(metas))
	}
	out := make([][]byte, len(types))
	for i := range types {
		m, b, err := Seal(prev, types[i], data[i], metas[i])
		if err != nil {
			return nil, "", err
		}
		out[i], prev = b, m.Hash
	}
	return out, prev, nil
}

// Break is where a chain stops holding.
type Break struct {
	Index    int    `json:"index"` // position in the verified slice
	Stream   string `json:"stream"`
	Revision uint64 `json:"revision"`
	EventID  string `json:"eventId,omitempty"`
	Reason   string `json:"reason"`
}

func (b *Break) Error() string {
	return fmt.Sprintf("chain broken at %s@%d (#%d): %s", b.Stream, b.Revision, b.Index, b.Reason)
}

// Options anchor a verification. PrevHash is the hash expected before the
// first event (empty when the slice starts at revision 0); Head, when set,
// is the hash the last event must have (a hash recorded elsewhere, which
// catches a truncated tail).
type Options struct {
	PrevHash string
	Head     string
}

// Verify checks a stream's events in order and returns the first break, or
// nil when the chain holds. Revisions must be consecutive and each event
// must pass VerifyEvent against its predecessor's hash.
func Verify(evs []events.Raw, opt Options) *Break {
	prev := opt.PrevHash
	var v Verifier
	for i, e := range evs {
		brk := func(format string, args ...any) *Break {
			return &Break{Index: i, Stream: e.Stream, Revision: e.Revision, EventID: e.ID, Reason: fmt.Sprintf(format, args...)}
		}
		if i == 0 && prev == "" && e.Revision != 0 {
			return brk("first event is at revision %d but no previous hash was given", e.Revision)
		}
		if i > 0 {
			if e.Stream != evs[i-1].Stream {
				return brk("stream changes from %s", evs[i-1].Stream)
			}
			if e.Revision != evs[i-1].Revision+1 {
				return brk("revision %d follows %d: an event is missing or out of order", e.Revision, evs[i-1].Revision)
			}
		}
		h, b := v.VerifyEvent(prev, e)
		if b != nil {
			b.Index = i
			return b
		}
		prev = h
	}
	if opt.Head != "" && prev != opt.Head {
		if len(evs) == 0 {
			return &Break{Index: 0, Reason: fmt.Sprintf("no events but head %s expected", short(opt.Head))}
		}
		last := evs[len(evs)-1]
		return &Break{Index: len(evs) - 1, Stream: last.Stream, Revision: last.Revision, EventID: last.ID,
			Reason: fmt.Sprintf("last hash %s is not the expected head %s: events are missing at the end", short(prev), short(opt.Head))}
	}
	return nil
}

var (
	hashField = []byte(`,"hash":"`)
	prevField = []byte(`"prevHash":"`)
)

// prevHashOf reads prevHash from metadata without its hash. Seal writes it
// as the last field, where a scan finds it; any other layout is parsed.
func prevHashOf(body []byte) (string, error) {
	j := bytes.Index(body, prevField)
	if j < 0 {
		return "", nil
	}
	v := body[j+len(prevField):]
	if len(v) >= 2 && bytes.HasSuffix(v, []byte(`"}`)) && bytes.IndexByte(v[:len(v)-2], '"') < 0 && bytes.IndexByte(v, '\\') < 0 {
		return string(v[:len(v)-2]), nil
	}
	var probe struct {
		PrevHash string `json:"prevHash"`
	}
	err := json.Unmarshal(body, &probe)
	return probe.PrevHash, err
}

// VerifyEvent checks one event against the hash of its predecessor in the
// stream (prev; "" for the first event) and returns its own hash. It
// hashes the stored metadata bytes themselves (without the trailing hash
// field that Seal writes last), so any changed byte shows, and it parses
// the metadata once, for prevHash. Projections verify incrementally with
// it; Break.Index is 0. A caller verifying many events should keep a
// Verifier, which reuses its hasher and scratch space.
func VerifyEvent(prev string, e events.Raw) (string, *Break) {
	var v Verifier
	return v.VerifyEvent(prev, e)
}

// Verifier verifies events one by one like VerifyEvent, with the same
// results, reusing its SHA-256 state and scratch buffers between events so
// that an intact event costs one allocation (the returned hash). The zero
// value is ready to use; a Verifier is not safe for concurrent use.
type Verifier struct {
	h    hash.Hash
	buf  []byte
	prev []byte // the predecessor's hash as text
	sum  Sum
	hex  [len(Prefix) + 2*sha256.Size]byte
}

// VerifyEvent is VerifyEvent with v's scratch space.
func (v *Verifier) VerifyEvent(prev string, e events.Raw) (string, *Break) {
	v.prev = append(v.prev[:0], prev...)
	stored, brk := v.check(v.prev, e)
	if brk != nil {
		return "", brk
	}
	return string(stored), nil
}

// Sum is an event's hash in binary form: the SHA-256 digest whose
// lower-case hex digits, after Prefix, are the hash its metadata carries.
// A caller keeping the hash of every stream's last event (a verifier of a
// million streams) keeps 32 bytes without pointers instead of a string.
type Sum [sha256.Size]byte

// String is the hash as metadata carries it: Prefix and 64 lower-case hex
// digits.
func (s Sum) String() string {
	var b [len(Prefix) + 2*sha256.Size]byte
	return string(s.appendText(b[:0]))
}

func (s *Sum) appendText(b []byte) []byte {
	b = append(b, Prefix...)
	return hex.AppendEncode(b, s[:])
}

// VerifySum is VerifyEvent for a caller that keeps hashes as Sums: prev is
// the hash of the event's predecessor in its stream, nil for the first
// event (VerifyEvent's ""). Its verdict is VerifyEvent(prev.String(), e)'s
// (or VerifyEvent("", e)'s for nil), break reason included, and it returns
// the event's own hash as a Sum; an intact event costs no allocation.
func (v *Verifier) VerifySum(prev *Sum, e events.Raw) (Sum, *Break) {
	v.prev = v.prev[:0]
	if prev != nil {
		v.prev = prev.appendText(v.prev)
	}
	if _, brk := v.check(v.prev, e); brk != nil {
		return Sum{}, brk
	}
	// check found the stored hash equal to the text of v.sum.
	return v.sum, nil
}

// VerifyText is VerifyEvent returning the event's own hash as a Sum (as
// VerifySum does), for a caller that has the predecessor's hash only as
// the text an event's metadata names.
func (v *Verifier) VerifyText(prev string, e events.Raw) (Sum, *Break) {
	v.prev = append(v.prev[:0], prev...)
	if _, brk := v.check(v.prev, e); brk != nil {
		return Sum{}, brk
	}
	return v.sum, nil
}

// check is VerifyEvent on prev as bytes; it returns the stored hash (a
// part of e.Metadata) of an intact event, the text of v.sum.
func (v *Verifier) check(prev []byte, e events.Raw) ([]byte, *Break) {
	brk := func(format string, args ...any) ([]byte, *Break) {
		return nil, &Break{Stream: e.Stream, Revision: e.Revision, EventID: e.ID, Reason: fmt.Sprintf(format, args...)}
	}
	meta := e.Metadata
	i := lastHashField(meta)
	if i < 0 || len(meta) < i+len(hashField)+2 || !bytes.HasSuffix(meta, []byte(`"}`)) {
		return brk("event is not sealed (no trailing hash in its metadata)")
	}
	stored := meta[i+len(hashField) : len(meta)-2]
	// The hashed body is meta[:i] followed by '}'; it is only built as a
	// slice when prevHash is not in the layout Seal writes.
	head := meta[:i]
	if got, fast := prevHashFast(head); fast {
		if !bytes.Equal(got, prev) {
			return brk("prevHash %s does not match the previous event's hash %s", short(string(got)), short(string(prev)))
		}
	} else {
		body := make([]byte, 0, i+1)
		body = append(append(body, head...), '}')
		got, err := prevHashOf(body)
		if err != nil {
			return brk("metadata is not valid JSON: %v", err)
		}
		if got != string(prev) {
			return brk("prevHash %s does not match the previous event's hash %s", short(got), short(string(prev)))
		}
	}
	want := v.hashBody(prev, e.Type, e.Data, head)
	if !bytes.Equal(want, stored) {
		return brk("hash %s does not match the content (%s)", short(string(stored)), short(string(want)))
	}
	return stored, nil
}

// lastHashField is bytes.LastIndex(meta, hashField). Seal writes the hash
// last, so the place a hash of Seal's length would start is tried first:
// when hashField is there and no comma follows it, no later occurrence
// (which would start with a comma) exists.
func lastHashField(meta []byte) int {
	j := len(meta) - 2 - len(Prefix) - 2*sha256.Size - len(hashField)
	if j >= 0 && bytes.HasPrefix(meta[j:], hashField) && bytes.IndexByte(meta[j+1:], ',') < 0 {
		return j
	}
	return bytes.LastIndex(meta, hashField)
}

// hashBody is hashBytes(prev, typ, data, head+"}") written into v.hex; the
// result is valid until the next call.
func (v *Verifier) hashBody(prev []byte, typ string, data, head []byte) []byte {
	if v.h == nil {
		v.h = sha256.New()
	}
	v.h.Reset()
	b := appendLen(v.buf[:0], domain)
	b = appendLen(b, prev)
	b = appendLen(b, typ)
	b = binary.BigEndian.AppendUint64(b, uint64(len(data)))
	v.h.Write(b)
	v.h.Write(data)
	b = binary.BigEndian.AppendUint64(b[:0], uint64(len(head)+1))
	b = append(b, head...)
	b = append(b, '}')
	v.h.Write(b)
	v.buf = b[:0]
	copy(v.hex[:], Prefix)
	hex.Encode(v.hex[len(Prefix):], v.h.Sum(v.sum[:0]))
	return v.hex[:]
}

// prevHashFast finds prevHash in head (metadata without its hash field and
// closing brace) where Seal writes it, last; fast is false when the layout
// is another one and the JSON must be parsed. It accepts exactly what
// prevHashOf's scan accepts on head+"}".
func prevHashFast(head []byte) (val []byte, fast bool) {
	j := indexPrevField(head)
	if j < 0 {
		return nil, true
	}
	v := head[j+len(prevField):]
	if len(v) >= 1 && v[len(v)-1] == '"' && bytes.IndexByte(v[:len(v)-1], '"') < 0 && bytes.IndexByte(v, '\\') < 0 {
		return v[:len(v)-1], true
	}
	return nil, false
}

// indexPrevField is bytes.Index(b, prevField), searching for the name
// without its opening quote: its first byte, 'p', is rarer in metadata than
// a quote, which bytes.Index would otherwise stop at.
func indexPrevField(b []byte) int {
	name := prevField[1:]
	for from := 0; ; {
		j := bytes.Index(b[from:], name)
		if j < 0 {
			return -1
		}
		j += from
		if j > 0 && b[j-1] == '"' {
			return j - 1
		}
		from = j + 1
	}
}

func short(h string) string {
	if h == "" {
		return "(none)"
	}
	if len(h) > len(Prefix)+12 {
		return h[:len(Prefix)+12] + "…"
	}
	return h
}
