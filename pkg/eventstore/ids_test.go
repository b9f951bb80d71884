package eventstore

import (
	"testing"

	"github.com/google/uuid"
)

// TestIDArenaFormatsAsUUIDString: the arena's strings are uuid's own
// String, and those formatted earlier are not disturbed by later ones
// or by the arena moving on to a new chunk.
func TestIDArenaFormatsAsUUIDString(t *testing.T) {
	var a idArena
	var ids []uuid.UUID
	var got []string
	for i := 0; i < 3*idChunk/36; i++ {
		u := uuid.New()
		if i%7 == 0 {
			u = uuid.UUID{} // all zeros
		}
		if i%11 == 0 {
			for k := range u {
				u[k] = 0xff
			}
		}
		ids, got = append(ids, u), append(got, a.format(u))
	}
	for i, u := range ids {
		if got[i] != u.String() {
			t.Fatalf("id %d: %q, want %q", i, got[i], u.String())
		}
	}
}

func BenchmarkFormatID(b *testing.B) {
	u := uuid.New()
	b.Run("uuid.String", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_ = u.String()
		}
	})
	b.Run("arena/one-id-reads", func(b *testing.B) { // a fresh arena per id: a one-event read
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var a idArena
			_ = a.format(u)
		}
	})
	b.Run("arena", func(b *testing.B) {
		b.ReportAllocs()
		var a idArena
		for i := 0; i < b.N; i++ {
			_ = a.format(u)
		}
	})
}
