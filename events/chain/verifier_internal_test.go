package chain

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
)

// verifyEventRef is VerifyEvent as it was before Verifier (a metadata
// copy, a new SHA-256 state and a hex string per event): the reference
// the Verifier must agree with on every input.
func verifyEventRef(prev string, e events.Raw) (string, *Break) {
	brk := func(format string, args ...any) (string, *Break) {
		return "", &Break{Stream: e.Stream, Revision: e.Revision, EventID: e.ID, Reason: fmt.Sprintf(format, args...)}
	}
	meta := e.Metadata
	i := bytes.LastIndex(meta, hashField)
	if i < 0 || len(meta) < i+len(hashField)+2 || !bytes.HasSuffix(meta, []byte(`"}`)) {
		return brk("event is not sealed (no trailing hash in its metadata)")
	}
	stored := string(meta[i+len(hashField) : len(meta)-2])
	body := make([]byte, 0, i+1)
	body = append(append(body, meta[:i]...), '}')
	got, err := prevHashOf(body)
	if err != nil {
		return brk("metadata is not valid JSON: %v", err)
	}
	if got != prev {
		return brk("prevHash %s does not match the previous event's hash %s", short(got), short(prev))
	}
	if want := hashBytes(prev, e.Type, e.Data, body); want != stored {
		return brk("hash %s does not match the content (%s)", short(stored), short(want))
	}
	return stored, nil
}

func sealedStream(t testing.TB, n int) []events.Raw {
	t.Helper()
	var out []events.Raw
	prev := ""
	for i := range n {
		p := events.TrainingCompleted{CraftsmanID: "c-1", AcademyID: "a-1", CourseID: fmt.Sprintf("k-%d", i),
			Trade: events.Trade{Code: "6-18-02-04"}, Hours: float64(8 + i), Mode: events.ModeOnTheJob, Passed: true}
		typ, data, err := events.Encode(p)
		if err != nil {
			t.Fatal(err)
		}
		m := events.NewMetadata(typ, time.Date(2020, 1, 1+i, 0, 0, 0, 0, time.UTC), "a-1", "u-1")
		m.CorrelationID = fmt.Sprintf("corr-%d", i)
		sealed, meta, err := Seal(prev, typ, data, m)
		if err != nil {
			t.Fatal(err)
		}
		prev = sealed.Hash
		out = append(out, events.Raw{Stream: "craftsman-c-1", Revision: uint64(i), ID: fmt.Sprintf("id-%d", i), Type: typ, Data: data, Metadata: meta})
	}
	return out
}

func sameVerdict(t *testing.T, v *Verifier, prev string, e events.Raw) {
	t.Helper()
	wh, wb := verifyEventRef(prev, e)
	gh, gb := v.VerifyEvent(prev, e)
	if gh != wh || (gb == nil) != (wb == nil) || (gb != nil && *gb != *wb) {
		t.Fatalf("metadata %q prev %q: Verifier (%q, %v), reference (%q, %v)", e.Metadata, prev, gh, gb, wh, wb)
	}
	if h, b := VerifyEvent(prev, e); h != wh || (b == nil) != (wb == nil) {
		t.Fatalf("VerifyEvent differs from the reference on %q", e.Metadata)
	}
	// VerifySum takes the predecessor as a Sum: only "" and hashes in
	// Seal's form have one.
	var ps *Sum
	if prev != "" {
		s, ok := sumOf(prev)
		if !ok {
			return
		}
		ps = &s
	}
	sh, sb := v.VerifySum(ps, e)
	if (sb == nil) != (wb == nil) || (sb != nil && *sb != *wb) || (sb == nil && sh.String() != wh) || (sb != nil && sh != Sum{}) {
		t.Fatalf("metadata %q prev %q: VerifySum (%s, %v), reference (%q, %v)", e.Metadata, prev, sh, sb, wh, wb)
	}
}

// sumOf parses a hash in Seal's form (Prefix, 64 lower-case hex digits).
func sumOf(h string) (Sum, bool) {
	var s Sum
	t, ok := strings.CutPrefix(h, Prefix)
	if !ok || len(t) != 2*len(s) || strings.ToLower(t) != t {
		return s, false
	}
	if _, err := hex.Decode(s[:], []byte(t)); err != nil {
		return s, false
	}
	return s, true
}

// TestVerifierMatchesReference: one reused Verifier gives the reference's
// hash and break (reason included) on intact events, every single-byte
// change of the metadata, every truncation, and metadata whose prevHash
// is not where Seal writes it (the parsed path).
func TestVerifierMatchesReference(t *testing.T) {
	evs := sealedStream(t, 5)
	var v Verifier
	prev := ""
	for _, e := range evs {
		sameVerdict(t, &v, prev, e)
		sameVerdict(t, &v, "sha256:wrong", e)
		for i := range e.Metadata {
			for _, c := range []byte{'x', '"', '\\', '}', ',', ' ', e.Metadata[i] ^ 1} {
				m := bytes.Clone(e.Metadata)
				m[i] = c
				sameVerdict(t, &v, prev, events.Raw{Stream: e.Stream, Revision: e.Revision, ID: e.ID, Type: e.Type, Data: e.Data, Metadata: m})
			}
			sameVerdict(t, &v, prev, events.Raw{Stream: e.Stream, Type: e.Type, Data: e.Data, Metadata: e.Metadata[:i]})
		}
		d := bytes.Clone(e.Data)
		d[len(d)/2] ^= 1
		sameVerdict(t, &v, prev, events.Raw{Stream: e.Stream, Type: e.Type, Data: d, Metadata: e.Metadata})
		sameVerdict(t, &v, prev, events.Raw{Stream: e.Stream, Type: e.Type + "x", Data: e.Data, Metadata: e.Metadata})
		h, _ := verifyEventRef(prev, e)
		prev = h
	}
	// prevHash not last, escaped, or spaced: the parsed path.
	for _, meta := range []string{
		`{"prevHash":"p","schemaVersion":1,"hash":"sha256:00"}`,
		`{"schemaVersion":1,"prevHash":"p\u0041","hash":"sha256:00"}`,
		`{"schemaVersion":1, "prevHash" : "p","hash":"sha256:00"}`,
		`{"schemaVersion":1,"prevHash":"","hash":"sha256:00"}`,
		`{"prevHash":1,"hash":"sha256:00"}`,
		`{"hash":"sha256:00"}`,
	} {
		for _, prev := range []string{"", "p", "pA"} {
			sameVerdict(t, &v, prev, events.Raw{Type: "T.v1", Data: []byte(`{}`), Metadata: []byte(meta)})
		}
	}
}

// FuzzVerifier: on any metadata, data and predecessor hash the Verifier
// agrees with the reference implementation.
func FuzzVerifier(f *testing.F) {
	for _, e := range sealedStream(f, 2) {
		f.Add("", e.Type, e.Data, e.Metadata)
	}
	f.Add("p", "T.v1", []byte(`{}`), []byte(`{"schemaVersion":1,"prevHash":"p","hash":"sha256:00"}`))
	f.Fuzz(func(t *testing.T, prev, typ string, data, meta []byte) {
		var v Verifier
		e := events.Raw{Type: typ, Data: data, Metadata: meta}
		sameVerdict(t, &v, prev, e)
		sameVerdict(t, &v, prev, e) // reused state
	})
}

// TestVerifierRandomStreams: random valid streams verify to Seal's hashes
// with one Verifier across them.
func TestVerifierRandomStreams(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var v Verifier
	for range 20 {
		evs := sealedStream(t, 1+r.IntN(8))
		prev := ""
		for _, e := range evs {
			sameVerdict(t, &v, prev, e)
			prev, _ = v.VerifyEvent(prev, e)
		}
	}
}
