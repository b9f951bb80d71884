package events

import (
	"crypto/sha1"
	"encoding/hex"
)

// idNamespace is the UUID namespace of craftledger's deterministic event ids.
var idNamespace = [16]byte{0x6b, 0x1e, 0x3a, 0x50, 0x8c, 0x2d, 0x4f, 0x11, 0x9a, 0x77, 0x1c, 0x4e, 0x52, 0x0d, 0x3b, 0x81}

// DeterministicID returns a name-based (version 5) UUID of parts, so that
// retrying a command appends events with the same ids and the store
// deduplicates them (e.g. a published competition result:
// DeterministicID("placement", placementID)).
func DeterministicID(parts ...string) string {
	// SHA-1 of the namespace and the parts joined by NUL, hashed from a
	// buffer on the stack when they fit (no allocation but the result).
	n := len(idNamespace) + max(len(parts)-1, 0)
	for _, p := range parts {
		n += len(p)
	}
	var stack [256]byte
	buf := stack[:0]
	if n > len(stack) {
		buf = make([]byte, 0, n)
	}
	buf = append(buf, idNamespace[:]...)
	for i, p := range parts {
		if i > 0 {
			buf = append(buf, 0)
		}
		buf = append(buf, p...)
	}
	sum := sha1.Sum(buf)
	var u [16]byte
	copy(u[:], sum[:])
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	EncodeUUID(b[:], u)
	return string(b[:])
}

// EncodeUUID writes u into dst[:36] in the canonical text form of a UUID:
// lower-case hex in groups of 8-4-4-4-12 characters joined by '-' (what
// github.com/google/uuid's String gives). It is the one place that spells
// the layout; pkg/eventstore formats the ids it reads with it, without an
// allocation per id. dst must hold at least 36 bytes.
func EncodeUUID(dst []byte, u [16]byte) {
	_ = dst[35]
	hex.Encode(dst[0:8], u[0:4])
	dst[8] = '-'
	hex.Encode(dst[9:13], u[4:6])
	dst[13] = '-'
	hex.Encode(dst[14:18], u[6:8])
	dst[18] = '-'
	hex.Encode(dst[19:23], u[8:10])
	dst[23] = '-'
	hex.Encode(dst[24:36], u[10:])
}
