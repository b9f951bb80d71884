package events

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// AppendMetadata appends EncodeMetadata(m)'s bytes to dst, without
// encoding/json's reflection: the fields in their order, the optional ones
// only when set, occurredAt in UTC as time.Time writes it. A string with a
// byte json.Marshal may escape (quotes, backslashes, control characters,
// <, >, &, or any non-ASCII byte: invalid UTF-8, U+2028, U+2029) is written
// by json.Marshal itself, so the bytes are always EncodeMetadata's, and
// so is the error (a year outside 0..9999). FuzzAppendMetadata compares
// the two.
func AppendMetadata(dst []byte, m Metadata) ([]byte, error) {
	b := append(dst, `{"schemaVersion":`...)
	b = strconv.AppendInt(b, int64(m.SchemaVersion), 10)
	b = append(b, `,"occurredAt":"`...)
	b, err := m.OccurredAt.UTC().AppendText(b)
	if err != nil {
		_, err = EncodeMetadata(m) // its error, as EncodeMetadata reports it
		return dst, err
	}
	b = append(b, '"')
	b = appendField(b, `,"issuerOrgId":`, m.IssuerOrgID)
	b = appendField(b, `,"actingUserId":`, m.ActingUserID)
	for _, f := range [...]struct{ key, val string }{
		{`,"$correlationId":`, m.CorrelationID},
		{`,"$causationId":`, m.CausationID},
		{`,"source":`, m.Source},
		{`,"prevHash":`, m.PrevHash},
		{`,"hash":`, m.Hash},
	} {
		if f.val != "" { // omitempty
			b = appendField(b, f.key, f.val)
		}
	}
	return append(b, '}'), nil
}

// appendField appends key (with its comma and colon) and the string v as
// json.Marshal writes it.
func appendField(b []byte, key, v string) []byte {
	b = append(b, key...)
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(v) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, v...)
	return append(b, '"')
}

// DecodeMetadata decodes an event's metadata. Metadata written by
// EncodeMetadata or chain.Seal (canonical: known fields in order, no
// escapes) is read by a fast scanner; anything else goes through
// encoding/json, with the same result.
func DecodeMetadata(b []byte) (Metadata, error) {
	if m, ok := scanMetadata(b); ok {
		return m, nil
	}
	var m Metadata
	if err := json.Unmarshal(b, &m); err != nil {
		return Metadata{}, Prefix("metadata", jsonFieldError(err))
	}
	return m, nil
}

// scanMetadata reads canonical metadata; ok is false when b is not in the
// canonical shape (the caller then uses encoding/json).
func scanMetadata(b []byte) (m Metadata, ok bool) {
	if bytes.IndexByte(b, '\\') >= 0 || len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return m, false
	}
	rest := b[1 : len(b)-1]
	field := func(name string) (string, bool) {
		// "name":"value" or "name":number, then ',' or end.
		if !bytes.HasPrefix(rest, []byte(`"`+name+`":`)) {
			return "", false
		}
		v := rest[len(name)+3:]
		var val []byte
		if len(v) > 0 && v[0] == '"' {
			end := bytes.IndexByte(v[1:], '"')
			if end < 0 {
				return "", false
			}
			val, v = v[1:1+end], v[2+end:]
		} else {
			end := bytes.IndexByte(v, ',')
			if end < 0 {
				end = len(v)
			}
			val, v = v[:end], v[end:]
		}
		if len(v) > 0 {
			if v[0] != ',' {
				return "", false
			}
			v = v[1:]
		}
		rest = v
		return string(val), true
	}
	optional := func(name string, dst *string) bool {
		if bytes.HasPrefix(rest, []byte(`"`+name+`":`)) {
			v, ok := field(name)
			*dst = v
			return ok
		}
		return true
	}
	sv, ok1 := field("schemaVersion")
	n, err := strconv.Atoi(sv)
	if !ok1 || err != nil || (len(sv) > 1 && sv[0] == '0') || sv[0] == '+' {
		return m, false
	}
	m.SchemaVersion = n
	at, ok2 := field("occurredAt")
	t, err := time.Parse(time.RFC3339Nano, at)
	if !ok2 || err != nil {
		return m, false
	}
	m.OccurredAt = t
	var ok3, ok4 bool
	m.IssuerOrgID, ok3 = field("issuerOrgId")
	m.ActingUserID, ok4 = field("actingUserId")
	if !ok3 || !ok4 ||
		!optional("$correlationId", &m.CorrelationID) || !optional("$causationId", &m.CausationID) ||
		!optional("source", &m.Source) || !optional("prevHash", &m.PrevHash) || !optional("hash", &m.Hash) {
		return Metadata{}, false
	}
	if len(rest) != 0 {
		return Metadata{}, false
	}
	return m, true
}
