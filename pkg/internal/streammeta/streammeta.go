// Package streammeta reads a stream's metadata (the latest event of its
// metadata stream "$$<stream>") as KurrentDB does: all or nothing. The
// embedded store (pkg/esdbserver) enforces what it reads, and the audit
// verifier (pkg/audit) reports what it hides from readers, so both read it
// here by the same rule.
package streammeta

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Meta is the part of a stream's metadata KurrentDB enforces. Unset
// numeric fields are -1.
type Meta struct {
	MaxCount int64
	MaxAge   int64 // seconds
	TB       int64 // truncate before; math.MaxInt64 means soft-deleted
	ACL      *ACL
}

// None is no metadata: nothing set.
var None = Meta{MaxCount: -1, MaxAge: -1, TB: -1}

// SoftDeleted reports whether the metadata marks the stream soft-deleted
// ($tb at the end of time).
func (m Meta) SoftDeleted() bool { return m.TB == math.MaxInt64 }

// Parse reads the data of a metadata stream's last event as KurrentDB's
// index reader does (IndexReader.cs 937-951): data without the JSON flag,
// or empty, is no metadata; otherwise StreamMetadata's reader
// (StreamMetadata.cs 63-75, 105-170) reads it all or nothing — any value it
// does not expect anywhere in the object makes the whole metadata None.
func Parse(isJSON bool, data []byte) Meta {
	m, ok := Strict(data)
	if !isJSON || !ok {
		return None
	}
	return m
}

// Strict reads a metadata object as StreamMetadata.FromJsonReader does, key
// by key in order (a later duplicate does not excuse an earlier bad value),
// stopping at the object's end (trailing bytes are not read): $maxCount,
// $maxAge, $tb and $cacheControl must be JSON integers that fit int64 (no
// quotes, fraction or exponent), $tempStream a boolean, $acl an ACL
// ParseACL accepts; other keys hold any JSON value. Values not above 0 of
// $maxCount and $maxAge, and a negative $tb, count as unset (166-169). ok
// is false, and m None, for anything the reader throws on.
func Strict(data []byte) (m Meta, ok bool) {
	m = None
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return None, false
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return None, false
		}
		key, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return None, false
		}
		switch key {
		case "$maxCount", "$maxAge", "$tb", "$cacheControl":
			n, isInt := jsonInteger(raw)
			if !isInt {
				return None, false
			}
			switch key {
			case "$maxCount":
				m.MaxCount = positiveOrUnset(n)
			case "$maxAge":
				m.MaxAge = positiveOrUnset(n)
			case "$tb":
				m.TB = max(n, -1)
			}
		case "$tempStream":
			if s := string(raw); s != "true" && s != "false" {
				return None, false
			}
		case "$acl":
			if m.ACL = ParseACL(raw); m.ACL == nil {
				return None, false
			}
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return None, false
	}
	return m, true
}

// positiveOrUnset is n when above 0, else -1 (unset): KurrentDB drops a
// $maxCount or $maxAge not above 0.
func positiveOrUnset(n int64) int64 {
	if n > 0 {
		return n
	}
	return -1
}

// jsonInteger reads a JSON number Json.NET reads as an integer token and
// casts to long: digits with an optional minus, within int64.
func jsonInteger(raw json.RawMessage) (int64, bool) {
	s := string(bytes.TrimSpace(raw))
	if strings.ContainsAny(s, ".eE") {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// Op is an operation a stream ACL governs.
type Op int

// The operations, in the order of ACLKeys.
const (
	Read Op = iota
	Write
	Delete
	MetaRead
	MetaWrite
)

// ACLKeys are the $acl keys, in Op order.
var ACLKeys = []string{"$r", "$w", "$d", "$mr", "$mw"}

// ACL lists, per operation, the users or groups that may do it, and which
// operations it sets at all.
type ACL struct {
	byOp [5][]string
	set  [5]bool
}

// ParseACL reads an ACL object as StreamMetadata.ReadAcl does, nil for
// anything it would throw on: a value that is not an object, a key other
// than $r, $w, $d, $mr, $mw, roles other than a string or an array of
// strings.
func ParseACL(raw json.RawMessage) *ACL {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil || obj == nil {
		return nil
	}
	a := &ACL{}
	for k, v := range obj {
		op := slices.Index(ACLKeys, k)
		roles, ok := strictRoles(v)
		if op < 0 || !ok {
			return nil
		}
		a.SetRoles(Op(op), roles)
	}
	return a
}

// strictRoles reads a string or an array of strings; null anywhere, or any
// other value, is not.
func strictRoles(raw json.RawMessage) ([]string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var one string
		if json.Unmarshal(raw, &one) != nil {
			return nil, false
		}
		return []string{one}, true
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil || items == nil {
		return nil, false
	}
	roles := make([]string, 0, len(items))
	for _, it := range items {
		var r string
		if it = bytes.TrimSpace(it); len(it) == 0 || it[0] != '"' || json.Unmarshal(it, &r) != nil {
			return nil, false
		}
		roles = append(roles, r)
	}
	return roles, true
}

// SetRoles sets the roles of op.
func (a *ACL) SetRoles(op Op, roles []string) {
	a.byOp[op], a.set[op] = roles, true
}

// Roles returns op's roles and whether the ACL sets them (never on a nil
// ACL).
func (a *ACL) Roles(op Op) ([]string, bool) {
	if a == nil || !a.set[op] {
		return nil, false
	}
	return a.byOp[op], true
}
