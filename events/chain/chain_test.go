package chain_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/chain"
)

func stream(t testing.TB, n int) []events.Raw {
	t.Helper()
	var out []events.Raw
	prev := ""
	for i := 0; i < n; i++ {
		p := events.TrainingCompleted{CraftsmanID: "c-1", AcademyID: "a-1", CourseID: fmt.Sprintf("k-%d", i),
			Trade: events.Trade{Code: "6-18-02-04"}, Hours: float64(8 + i), Mode: events.ModeOnTheJob, Passed: true}
		typ, data, err := events.Encode(p)
		if err != nil {
			t.Fatal(err)
		}
		m := events.NewMetadata(typ, time.Date(2020, 1, 1+i, 0, 0, 0, 0, time.UTC), "a-1", "u-1")
		m.CorrelationID = fmt.Sprintf("corr-%d", i)
		sealed, meta, err := chain.Seal(prev, typ, data, m)
		if err != nil {
			t.Fatal(err)
		}
		prev = sealed.Hash
		out = append(out, events.Raw{Stream: "craftsman-c-1", Revision: uint64(i), ID: fmt.Sprintf("id-%d", i), Type: typ, Data: data, Metadata: meta})
	}
	return out
}

func clone(evs []events.Raw) []events.Raw {
	out := make([]events.Raw, len(evs))
	for i, e := range evs {
		e.Data = append([]byte(nil), e.Data...)
		e.Metadata = append([]byte(nil), e.Metadata...)
		out[i] = e
	}
	return out
}

func TestVerifyIntact(t *testing.T) {
	evs := stream(t, 6)
	if b := chain.Verify(evs, chain.Options{}); b != nil {
		t.Fatalf("intact chain broken: %v", b)
	}
	// A suffix verifies from its predecessor's hash.
	var m events.Metadata
	if err := jsonUnmarshal(evs[2].Metadata, &m); err != nil {
		t.Fatal(err)
	}
	if b := chain.Verify(evs[3:], chain.Options{PrevHash: m.Hash}); b != nil {
		t.Fatalf("suffix: %v", b)
	}
	if b := chain.Verify(evs[3:], chain.Options{}); b == nil {
		t.Fatal("suffix without anchor verified")
	}
}

// TestEveryByteMatters flips every single byte of type, data and metadata
// of every event and expects the chain to break at that event.
func TestEveryByteMatters(t *testing.T) {
	evs := stream(t, 3)
	for i := range evs {
		for _, part := range []string{"type", "data", "metadata"} {
			n := map[string]int{"type": len(evs[i].Type), "data": len(evs[i].Data), "metadata": len(evs[i].Metadata)}[part]
			for j := 0; j < n; j++ {
				c := clone(evs)
				switch part {
				case "type":
					b := []byte(c[i].Type)
					b[j] ^= 0x01
					c[i].Type = string(b)
				case "data":
					c[i].Data[j] ^= 0x01
				case "metadata":
					c[i].Metadata[j] ^= 0x01
				}
				b := chain.Verify(c, chain.Options{})
				if b == nil {
					t.Fatalf("event %d %s byte %d changed: chain still verifies", i, part, j)
				}
				if b.Index != i {
					t.Fatalf("event %d %s byte %d changed: break reported at %d (%s)", i, part, j, b.Index, b.Reason)
				}
			}
		}
	}
}

func TestDroppedReorderedTruncated(t *testing.T) {
	evs := stream(t, 5)
	for i := range evs {
		dropped := append(clone(evs[:i]), clone(evs[i+1:])...)
		if b := chain.Verify(dropped, chain.Options{}); b == nil && i != len(evs)-1 {
			t.Errorf("dropping event %d not detected", i)
		}
		// Even with revisions renumbered, the hashes catch it.
		for k := range dropped {
			dropped[k].Revision = uint64(k)
		}
		if b := chain.Verify(dropped, chain.Options{}); b == nil && i != len(evs)-1 {
			t.Errorf("dropping event %d with renumbered revisions not detected", i)
		}
	}
	for i := 0; i+1 < len(evs); i++ {
		c := clone(evs)
		c[i], c[i+1] = c[i+1], c[i]
		c[i].Revision, c[i+1].Revision = uint64(i), uint64(i+1)
		if b := chain.Verify(c, chain.Options{}); b == nil || b.Index != i {
			t.Errorf("swapping %d and %d: break %v", i, i+1, b)
		}
	}
	var last events.Metadata
	if err := jsonUnmarshal(evs[4].Metadata, &last); err != nil {
		t.Fatal(err)
	}
	if b := chain.Verify(evs[:4], chain.Options{Head: last.Hash}); b == nil {
		t.Error("truncated tail not detected with a head anchor")
	}
	if b := chain.Verify(evs, chain.Options{Head: last.Hash}); b != nil {
		t.Errorf("full stream with head: %v", b)
	}
}

func BenchmarkSeal(b *testing.B) {
	evs := stream(b, 1)
	var m events.Metadata
	_ = jsonUnmarshal(evs[0].Metadata, &m)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := chain.Seal("", evs[0].Type, evs[0].Data, m); err != nil {
			b.Fatal(err)
		}
	}
}

// TestVerifyEventIncremental: verifying event by event gives the same
// verdicts as Verify, and the hash of each event is what Seal wrote.
func TestVerifyEventIncremental(t *testing.T) {
	evs := stream(t, 4)
	prev := ""
	for _, e := range evs {
		var m events.Metadata
		if err := jsonUnmarshal(e.Metadata, &m); err != nil {
			t.Fatal(err)
		}
		h, b := chain.VerifyEvent(prev, e)
		if b != nil || h != m.Hash {
			t.Fatalf("event %d: %v, hash %s want %s", e.Revision, b, h, m.Hash)
		}
		prev = h
	}
	if _, b := chain.VerifyEvent("", evs[1]); b == nil {
		t.Error("event 1 verified without its predecessor's hash")
	}
}

func BenchmarkVerify(b *testing.B) {
	evs := stream(b, 100)
	b.ReportAllocs()
	for b.Loop() {
		if brk := chain.Verify(evs, chain.Options{}); brk != nil {
			b.Fatal(brk)
		}
	}
	b.ReportMetric(float64(len(evs)*b.N)/b.Elapsed().Seconds(), "events/s")
}
