package eventstore

import (
	"unsafe"

	"github.com/google/uuid"

	"github.com/craftledger/craftledger/events"
)

// idChunk is the largest block of event ids an idArena formats into one
// allocation (455 ids); its first block holds one id, and each next one twice
// the last, so that a short read (a stream's tail, one probe) allocates
// little and keeps little alive with the strings it returns.
const (
	idChunk      = 16 << 10
	idFirstChunk = 36
)

// idArena formats the client's event ids (uuid.UUID) as the port's
// strings. The official client hands each event's id over as a UUID, and
// uuid.UUID.String allocates per event; a read or subscription of millions
// of events (the auditors' verify and replay, the projector's catch-up)
// formats them into shared, growing chunks instead, one allocation per
// 455 ids once a read is long.
// Bytes once written are never written again (the arena only appends, and
// a full chunk is replaced, not reused), so the strings over them stay
// immutable. An arena belongs to one goroutine.
type idArena struct{ buf []byte }

// format returns u in its canonical 36-character form (as u.String(),
// events.EncodeUUID).
func (a *idArena) format(u uuid.UUID) string {
	if cap(a.buf)-len(a.buf) < 36 {
		a.buf = make([]byte, 0, min(idChunk, max(idFirstChunk, 2*cap(a.buf))))
	}
	start := len(a.buf)
	a.buf = a.buf[:start+36]
	b := a.buf[start:]
	events.EncodeUUID(b, u)
	return unsafe.String(&b[0], 36)
}
