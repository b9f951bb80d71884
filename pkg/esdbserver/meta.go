package esdbserver

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/craftledger/craftledger/pkg/internal/streammeta"
)

// streamMeta is the part of a stream's metadata ($$stream, latest $metadata
// event) the server enforces, read by streammeta (shared with the audit
// verifier, which reports what it hides), and the JSON as written.
type streamMeta struct {
	streammeta.Meta
	raw []byte // the JSON as written, for rewriting $tb on re-creation
}

// streamACL is a stream's (or $settings') ACL; aclOp an operation it
// governs.
type (
	streamACL = streammeta.ACL
	aclOp     = streammeta.Op
)

// The operations a stream ACL governs.
const (
	aclRead      = streammeta.Read
	aclWrite     = streammeta.Write
	aclDelete    = streammeta.Delete
	aclMetaRead  = streammeta.MetaRead
	aclMetaWrite = streammeta.MetaWrite
)

var noMeta = streamMeta{Meta: streammeta.None}

// parseStreamMeta reads the data of a metadata stream's last event as
// KurrentDB does (streammeta.Parse: all or nothing, none without the JSON
// flag). raw keeps the data as written whatever it holds (the undelete
// rewrites it).
func parseStreamMeta(isJSON bool, data []byte) streamMeta {
	return streamMeta{Meta: streammeta.Parse(isJSON, data), raw: data}
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
