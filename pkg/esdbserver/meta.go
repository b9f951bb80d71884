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

// parseStreamMeta reads a $metadata payload. Anything unparseable counts as
// empty metadata, as KurrentDB treats it.
func parseStreamMeta(data []byte) streamMeta {
	m := noMeta
	m.raw = data
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		return m
	}
	m.MaxCount = jsonInt(obj["$maxCount"])
	m.MaxAge = jsonInt(obj["$maxAge"])
	m.TB = jsonInt(obj["$tb"])
	if raw, ok := obj["$acl"]; ok {
		var acl map[string]json.RawMessage
		if json.Unmarshal(raw, &acl) == nil {
			a := &streamACL{}
			for i, k := range aclKeys {
				if v, ok := acl[k]; ok {
					a.setRoles(aclOp(i), jsonRoles(v))
				}
			}
			m.ACL = a
		}
	}
	return m
}

func jsonInt(raw json.RawMessage) int64 {
	if len(raw) == 0 {
		return -1
	}
	s := strings.TrimSpace(string(raw))
	s = strings.Trim(s, `"`)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

func jsonRoles(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		return many
	}
	return nil
}

// withTB returns the metadata JSON with $tb replaced by tb, keeping every
// other key.
func withTB(raw []byte, tb int64) []byte {
	obj := map[string]json.RawMessage{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	_ = dec.Decode(&obj) // unparseable metadata is replaced
	if obj == nil {
		obj = map[string]json.RawMessage{}
	}
	obj["$tb"] = json.RawMessage(strconv.FormatInt(tb, 10))
	out, err := json.Marshal(obj)
	if err != nil {
		return []byte(`{"$tb":` + strconv.FormatInt(tb, 10) + `}`)
	}
	return out
}

// metaStreamOf returns the stream whose metadata stream is s, and whether s
// is a metadata stream at all.
func metaStreamOf(s string) (string, bool) {
	if strings.HasPrefix(s, "$$") && len(s) > 2 {
		return s[2:], true
	}
	return "", false
}
