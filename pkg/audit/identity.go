package audit

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/maphash"

	"github.com/craftledger/craftledger/events"
)

// identityFields are events.CorrectionIdentity with each field's name
// folded as foldKey folds a member name (encoding/json's matching).
var identityFields = func() map[string][][]byte {
	out := map[string][][]byte{}
	for typ, fields := range events.CorrectionIdentity() {
		for _, f := range fields {
			k, _ := foldKey(nil, []byte(f))
			out[typ] = append(out[typ], k)
		}
	}
	return out
}()

var (
	factSeed = maphash.MakeSeed()
	catalog  = events.NewRegistry()
)

// factDigest identifies the fact an event of type typ with data records,
// as a correction must keep it: its current type and the values of the
// fields that identify a fact of that type (events.CorrectionIdentity).
// Two events record the same fact when their digests are equal: a
// replacement, to correct its original, must have the original's digest.
// Values compare as decoded (strings unquoted; an absent field, null and
// "" alike; an object by its members, in any order); an older version is read
// as the catalogue upgrades it. Data that cannot be read gets a digest of
// its own, equal to no readable fact's.
func factDigest(typ string, data []byte) uint64 {
	var d factHasher
	if !d.start(typ) {
		return d.sum()
	}
	if d.cur != typ {
		p, err := catalog.Decode(typ, data)
		if err == nil {
			data, err = json.Marshal(p)
		}
		if err != nil {
			d.err = err
			return d.sum()
		}
	}
	var buf [64]byte
	if _, err := scanObject(data, skipSpace(data, 0), func(key, val []byte, isString bool) error {
		k, err := foldKey(buf[:0], key)
		if err != nil {
			return err
		}
		d.member(k, val, isString)
		return nil
	}); err != nil {
		d.err = err
	}
	return d.sum()
}

// factHasher computes factDigest over the top-level members of an event's
// data, fed by factDigest's own scan or, for an event of the current
// version that the issuer rule scans anyway, by scanOrgRefs (one pass).
type factHasher struct {
	cur    string   // the current type
	fields [][]byte // its identity fields, folded
	vals   [8]uint64
	err    error
}

// start begins the digest of an event of type typ; false when there is
// nothing to read in its data (no identity fields: the type alone).
func (d *factHasher) start(typ string) bool {
	d.cur = events.CurrentType(typ)
	d.fields = identityFields[d.cur]
	return len(d.fields) > 0
}

// member takes a top-level member (its name folded, foldKey).
func (d *factHasher) member(k, val []byte, isString bool) {
	for j, f := range d.fields {
		if j < len(d.vals) && bytes.Equal(k, f) {
			v, err := valueDigest(val, isString) // of repeated names the last, as encoding/json
			d.vals[j] = v
			if err != nil && d.err == nil {
				d.err = err
			}
			return
		}
	}
}

func (d *factHasher) sum() uint64 {
	var h maphash.Hash
	h.SetSeed(factSeed)
	h.WriteString(d.cur)
	if d.err != nil {
		h.WriteString("\x00unreadable")
		return h.Sum64()
	}
	for j := range d.fields {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], d.vals[j])
		h.Write(n[:])
	}
	return h.Sum64()
}

// valueDigest digests a JSON value as factDigest compares it, without
// allocating: a string by its unquoted bytes, null and "" as 0 (absent),
// an object by its members whatever their order (names folded as
// encoding/json matches them), anything else by its bytes.
func valueDigest(val []byte, isString bool) (uint64, error) {
	var h maphash.Hash
	h.SetSeed(factSeed)
	switch {
	case isString:
		var s []byte
		if err := unquoteBytes(val, &s); err != nil {
			return 0, err
		}
		if len(s) == 0 {
			return 0, nil
		}
		h.WriteByte('s')
		h.Write(s)
	case string(val) == "null":
		return 0, nil
	case val[0] == '{':
		var sum uint64
		var buf [64]byte
		if _, err := scanObject(val, 0, func(key, v []byte, s bool) error {
			k, err := foldKey(buf[:0], key)
			if err != nil {
				return err
			}
			d, err := valueDigest(v, s)
			if err != nil {
				return err
			}
			var m maphash.Hash
			m.SetSeed(factSeed)
			m.Write(k)
			var n [8]byte
			binary.LittleEndian.PutUint64(n[:], d)
			m.Write(n[:])
			sum += m.Sum64()
			return nil
		}); err != nil {
			return 0, err
		}
		h.WriteByte('o')
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], sum)
		h.Write(n[:])
	default:
		h.WriteByte('v')
		h.Write(val)
	}
	return h.Sum64(), nil
}
