package esdbserver

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// streamMeta is the part of a stream's metadata ($$stream, latest $metadata
// event) the server enforces. Unset numeric fields are -1.
type streamMeta struct {
	MaxCount int64
	MaxAge   int64 // seconds
	TB       int64 // truncate before; math.MaxInt64 means soft-deleted
	ACL      *streamACL
	raw      []byte // the JSON as written, for rewriting $tb on re-creation
}

// streamACL lists, per operation (aclOp), the users or groups that may do
// it, and which operations it sets at all.
type streamACL struct {
	byOp [5][]string
	set  [5]bool
}

var noMeta = streamMeta{MaxCount: -1, MaxAge: -1, TB: -1}

func (m streamMeta) softDeleted() bool { return m.TB == math.MaxInt64 }

// parseStreamMeta reads the data of a metadata stream's last event as
// KurrentDB's index reader does (IndexReader.cs 937-951): data without the
// JSON flag, or empty, is no metadata; otherwise StreamMetadata's reader
// (StreamMetadata.cs 63-75, 105-170) reads it all or nothing — any value it
// does not expect anywhere in the object makes the whole metadata empty.
// raw keeps the data as written whatever it holds (the undelete rewrites it).
func parseStreamMeta(isJSON bool, data []byte) streamMeta {
	m, ok := strictStreamMeta(data)
	if !isJSON || !ok {
		m = noMeta
	}
	m.raw = data
	return m
}

// strictStreamMeta reads a metadata object as StreamMetadata.FromJsonReader
// does, key by key in order (a later duplicate does not excuse an earlier
// bad value), stopping at the object's end (trailing bytes are not read):
// $maxCount, $maxAge, $tb and $cacheControl must be JSON integers that fit
// int64 (no quotes, fraction or exponent), $tempStream a boolean, $acl an
// ACL parseStrictACL accepts; other keys hold any JSON value. Values not
// above 0 of $maxCount and $maxAge, and a negative $tb, count as unset
// (166-169). ok is false for anything the reader throws on.
func strictStreamMeta(data []byte) (streamMeta, bool) {
	m := noMeta
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return noMeta, false
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return noMeta, false
		}
		key, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return noMeta, false
		}
		switch key {
		case "$maxCount", "$maxAge", "$tb", "$cacheControl":
			n, isInt := jsonInteger(raw)
			if !isInt {
				return noMeta, false
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
				return noMeta, false
			}
		case "$acl":
			if m.ACL = parseStrictACL(raw); m.ACL == nil {
				return noMeta, false
			}
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return noMeta, false
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

// withTB returns the metadata JSON with $tb set to tb, keeping every other
// key, as StorageWriterService.ModifyMetadata does; false when raw is not a
// JSON object (there, JObject.Parse throws and no undelete is written).
func withTB(raw []byte, tb int64) ([]byte, bool) {
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil || obj == nil || dec.InputOffset() != int64(len(bytes.TrimRight(raw, " \t\r\n"))) {
		return nil, false
	}
	obj["$tb"] = json.RawMessage(strconv.FormatInt(tb, 10))
	out, err := json.Marshal(obj)
	return out, err == nil
}

// metaStreamOf returns the stream whose metadata stream is s, and whether s
// is a metadata stream at all.
func metaStreamOf(s string) (string, bool) {
	if strings.HasPrefix(s, "$$") && len(s) > 2 {
		return s[2:], true
	}
	return "", false
}
