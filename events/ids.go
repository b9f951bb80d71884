package events

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"
)

// idNamespace is the UUID namespace of craftledger's deterministic event ids.
var idNamespace = [16]byte{0x6b, 0x1e, 0x3a, 0x50, 0x8c, 0x2d, 0x4f, 0x11, 0x9a, 0x77, 0x1c, 0x4e, 0x52, 0x0d, 0x3b, 0x81}

// DeterministicID returns a name-based (version 5) UUID of parts, so that
// retrying a command appends events with the same ids and the store
// deduplicates them (e.g. a published competition result:
// DeterministicID("placement", placementID)).
func DeterministicID(parts ...string) string {
	h := sha1.New()
	h.Write(idNamespace[:])
	h.Write([]byte(strings.Join(parts, "\x00")))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}
