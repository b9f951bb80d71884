package chain

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
)

// sealRef is Seal as it was before it encoded the metadata once: the
// hash over EncodeMetadata of the metadata without its hash, then
// EncodeMetadata of the sealed metadata.
func sealRef(prev, typ string, data []byte, m events.Metadata) (events.Metadata, []byte, error) {
	m.PrevHash = prev
	m.Hash = ""
	body, err := events.EncodeMetadata(m)
	if err != nil {
		return m, nil, fmt.Errorf("hash %s: %w", typ, err)
	}
	m.Hash = hashBytes(prev, typ, data, body)
	meta, err := events.EncodeMetadata(m)
	if err != nil {
		return m, nil, fmt.Errorf("seal %s: %w", typ, err)
	}
	return m, meta, nil
}

// TestSealMatchesEncodeMetadata: Seal, Hash and SealAll give the bytes,
// hashes and errors of the encoding/json reference on random metadata,
// escapes and unwritable times included, and what Seal writes verifies.
func TestSealMatchesEncodeMetadata(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 2))
	parts := []string{"acad-1", "u-1", "corr-9", "\"", "\\", "<>&", "\n\x00\x1f", "\u2028", "学院", "\xff", "é", "sha256:0f"}
	str := func() string {
		s := ""
		for n := r.IntN(4); n > 0; n-- {
			s += parts[r.IntN(len(parts))]
		}
		return s
	}
	var prev string
	var v Verifier
	for i := 0; i < 5000; i++ {
		year := 2000 + r.IntN(30)
		if r.IntN(100) == 0 {
			year = 10000
		}
		m := events.Metadata{SchemaVersion: 1 + r.IntN(2), OccurredAt: time.Date(year, 3, 1+r.IntN(28), 8, 0, r.IntN(60), r.IntN(2)*r.IntN(1e9), time.FixedZone("", 8*3600)),
			IssuerOrgID: str(), ActingUserID: str(), CorrelationID: str(), CausationID: str(), Source: str(), PrevHash: str(), Hash: str()}
		typ, data := "MentorshipStarted.v1", []byte(fmt.Sprintf(`{"mentorshipId":"m-%d"}`, i))
		wm, wb, werr := sealRef(prev, typ, data, m)
		gm, gb, err := Seal(prev, typ, data, m)
		if (err == nil) != (werr == nil) || (err != nil && err.Error() != werr.Error()) {
			t.Fatalf("%+v: error %v, reference %v", m, err, werr)
		}
		if err != nil {
			continue
		}
		if string(gb) != string(wb) || gm != wm {
			t.Fatalf("%+v:\n got %s %+v\nwant %s %+v", m, gb, gm, wb, wm)
		}
		if h, err := Hash(prev, typ, data, gm); err != nil || h != gm.Hash {
			t.Fatalf("Hash %s, %v; sealed with %s", h, err, gm.Hash)
		}
		if _, brk := v.VerifyEvent(prev, events.Raw{Stream: "s", Type: typ, Data: data, Metadata: gb}); brk != nil {
			t.Fatalf("sealed event does not verify: %v", brk)
		}
		prev = gm.Hash
	}
	// A batch: the same bytes as sealing one by one with the reference.
	types := []string{"A.v1", "B.v1", "C.v1"}
	data := [][]byte{[]byte(`{}`), []byte(`{"a":1}`), nil}
	metas := make([]events.Metadata, 3)
	for i := range metas {
		metas[i] = events.Metadata{SchemaVersion: 1, OccurredAt: time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC), IssuerOrgID: str(), ActingUserID: "u", CorrelationID: str()}
	}
	got, head, err := SealAll(prev, types, data, metas)
	if err != nil {
		t.Fatal(err)
	}
	p := prev
	for i := range types {
		wm, wb, err := sealRef(p, types[i], data[i], metas[i])
		if err != nil || string(got[i]) != string(wb) {
			t.Fatalf("batch %d: %s, reference %s (%v)", i, got[i], wb, err)
		}
		p = wm.Hash
	}
	if head != p {
		t.Fatalf("batch head %s, reference %s", head, p)
	}
}
