package esdbserver

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Key prefixes of the pebble keyspace. Every key starts with one byte naming
// its family; the families never interleave.
const (
	prefixLog    = 'l' // 'l' + position (8, big-endian) -> encoded record
	prefixIndex  = 's' // 's' + len(stream) (4) + stream + revision (8) -> position (8)
	prefixStream = 't' // 't' + stream -> encoded stream state
	prefixPSub   = 'p' // 'p' + source + 0x00 + group -> persistent subscription (JSON)
	prefixHigh   = 'h' // 'h' -> position (8, big-endian): highest position taken, record or not
)

// highKey holds the highest position an empty append took (store.go): such
// a position has no record, so recovery cannot find it in the log.
var highKey = []byte{prefixHigh}

// tombstoneRevision is the revision a tombstone ($streamDeleted) is stored at,
// as KurrentDB does: int64 max.
const tombstoneRevision = math.MaxInt64

// recordVersion is the first byte of every encoded record, so the encoding
// can change without misreading old data.
const recordVersion = 1

// record is one event in the global log.
type record struct {
	Position uint64 // key, not part of the encoded value
	Stream   string
	Revision uint64
	ID       [16]byte
	Type     string
	IsJSON   bool
	Created  int64 // .NET ticks (100 ns) since the Unix epoch
	Metadata []byte
	Data     []byte
}

var errCorruptRecord = errors.New("corrupt record")

// encodeRecord appends the value encoding of r (everything but the position).
func encodeRecord(dst []byte, r *record) []byte {
	var flags byte
	if r.IsJSON {
		flags |= 1
	}
	dst = append(dst, recordVersion, flags)
	dst = binary.BigEndian.AppendUint64(dst, r.Revision)
	dst = binary.BigEndian.AppendUint64(dst, uint64(r.Created))
	dst = append(dst, r.ID[:]...)
	dst = appendBytes(dst, []byte(r.Stream))
	dst = appendBytes(dst, []byte(r.Type))
	dst = appendBytes(dst, r.Metadata)
	dst = appendBytes(dst, r.Data)
	return dst
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// decodeRecord is the inverse of encodeRecord. It never panics on bad input
// and rejects trailing bytes, unknown versions and unknown flags. The returned
// slices alias b only when copy is false; names as for decodeRecordTo.
func decodeRecord(pos uint64, b []byte, copyBytes bool, names *nameCache) (*record, error) {
	r := new(record)
	if err := decodeRecordTo(r, pos, b, copyBytes, names); err != nil {
		return nil, err
	}
	return r, nil
}

// decodeRecordTo is decodeRecord into r (overwritten). With names set, the
// stream and type strings are taken from it when they were seen recently
// instead of allocated.
func decodeRecordTo(r *record, pos uint64, b []byte, copyBytes bool, names *nameCache) error {
	const fixed = 2 + 8 + 8 + 16
	if len(b) < fixed {
		return fmt.Errorf("record at %d: %w: short header", pos, errCorruptRecord)
	}
	if b[0] != recordVersion {
		return fmt.Errorf("record at %d: %w: version %d", pos, errCorruptRecord, b[0])
	}
	if b[1]&^1 != 0 {
		return fmt.Errorf("record at %d: %w: flags %#x", pos, errCorruptRecord, b[1])
	}
	*r = record{Position: pos, IsJSON: b[1]&1 == 1}
	r.Revision = binary.BigEndian.Uint64(b[2:])
	r.Created = int64(binary.BigEndian.Uint64(b[10:]))
	copy(r.ID[:], b[18:34])
	rest := b[fixed:]
	var fields [4][]byte
	for i := range fields {
		n, w := binary.Uvarint(rest)
		// Non-minimal varints are refused: one record, one encoding.
		// (binary.Uvarint and protobuf share the varint, so SizeVarint
		// is the minimal width.)
		if w <= 0 || n > uint64(len(rest)-w) || w != protowire.SizeVarint(n) {
			return fmt.Errorf("record at %d: %w: field %d length", pos, errCorruptRecord, i)
		}
		fields[i] = rest[w : w+int(n)]
		rest = rest[w+int(n):]
	}
	if len(rest) != 0 {
		return fmt.Errorf("record at %d: %w: %d trailing bytes", pos, errCorruptRecord, len(rest))
	}
	r.Stream = names.get(fields[0])
	r.Type = names.get(fields[1])
	if copyBytes {
		r.Metadata = append([]byte(nil), fields[2]...)
		r.Data = append([]byte(nil), fields[3]...)
	} else {
		r.Metadata, r.Data = fields[2], fields[3]
	}
	return nil
}

// nameCache holds the stream names and event types a scan met last, so
// that a run of events of a few streams and types allocates no strings.
type nameCache struct {
	s    [8]string
	next int
}

// get returns b as a string: a cached one when equal (nil: a new one).
func (c *nameCache) get(b []byte) string {
	if c == nil {
		return string(b)
	}
	for _, s := range c.s {
		if s == string(b) {
			return s
		}
	}
	s := string(b)
	c.s[c.next] = s
	c.next = (c.next + 1) % len(c.s)
	return s
}

func logKey(pos uint64) []byte { return appendLogKey(make([]byte, 0, 9), pos) }

// appendLogKey appends the key of the log record at pos to dst.
func appendLogKey(dst []byte, pos uint64) []byte {
	return binary.BigEndian.AppendUint64(append(dst, prefixLog), pos)
}

func indexPrefix(stream string) []byte {
	return appendIndexPrefix(make([]byte, 0, 5+len(stream)+8), stream)
}

// appendStreamKey appends the key of stream's state (prefixStream + name).
func appendStreamKey(dst []byte, stream string) []byte {
	return append(append(dst, prefixStream), stream...)
}

// appendIndexPrefix appends the prefix of stream's index keys to dst.
func appendIndexPrefix(dst []byte, stream string) []byte {
	dst = binary.BigEndian.AppendUint32(append(dst, prefixIndex), uint32(len(stream)))
	return append(dst, stream...)
}

func indexKey(stream string, rev uint64) []byte {
	return binary.BigEndian.AppendUint64(indexPrefix(stream), rev)
}

// streamState is what the store keeps per stream, persisted under
// prefixStream and mirrored in memory.
type streamState struct {
	Last       int64 // last revision, -1 when the stream has no events
	LastPos    uint64
	Tombstoned bool
}

// appendStreamState appends the encoding of s to b.
func appendStreamState(b []byte, s streamState) []byte {
	b = append(b, recordVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(s.Last))
	b = binary.BigEndian.AppendUint64(b, s.LastPos)
	if s.Tombstoned {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	return b
}

func decodeStreamState(b []byte) (streamState, error) {
	if len(b) != 18 || b[0] != recordVersion || b[17] > 1 {
		return streamState{}, fmt.Errorf("stream state: %w", errCorruptRecord)
	}
	return streamState{
		Last:       int64(binary.BigEndian.Uint64(b[1:])),
		LastPos:    binary.BigEndian.Uint64(b[9:]),
		Tombstoned: b[17] == 1,
	}, nil
}
