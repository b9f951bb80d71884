package auth

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var vt0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// mintWindow signs an issuer token valid from nbf (none when zero) until exp.
func mintWindow(t *testing.T, key Key, sub string, nbf, exp time.Time) string {
	t.Helper()
	jc := jwtClaims{Role: RoleIssuer, OrgID: "academy-7", RegisteredClaims: jwt.RegisteredClaims{
		Issuer: Issuer, Subject: sub, IssuedAt: jwt.NewNumericDate(vt0), ExpiresAt: jwt.NewNumericDate(exp)}}
	if !nbf.IsZero() {
		jc.NotBefore = jwt.NewNumericDate(nbf)
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jc).SignedString([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestVerifierAnswersAsVerifyAt checks that a Verifier answers every
// token at every instant exactly as VerifyAt does — claims and error — on
// the first call and again once it may answer from memory, in an order
// that has it remember a token and then ask for it outside its window
// (after "exp", before "nbf", before "iat" beyond IssuedAtSkew).
func TestVerifierAnswersAsVerifyAt(t *testing.T) {
	key := DevKey()
	good, err := MintAt(key, Claims{Subject: "u-1", Role: RoleIssuer, OrgID: "academy-7"}, vt0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	wrongKey, err := MintAt(Key(strings.Repeat("k", 40)), Claims{Subject: "u-1", Role: RoleIssuer, OrgID: "academy-7"}, vt0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	later := mintWindow(t, key, "u-2", vt0.Add(10*time.Minute), vt0.Add(time.Hour))
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + parts[1] + "x." + parts[2]

	steps := []struct {
		token string
		at    time.Time
	}{
		{good, vt0.Add(time.Minute)},
		{good, vt0.Add(59 * time.Minute)},
		{good, vt0.Add(time.Hour)}, // exp: expired from this instant on
		{good, vt0.Add(2 * time.Hour)},
		{good, vt0.Add(time.Minute)}, // remembered again, then asked again
		{good, vt0.Add(time.Hour + time.Second)},
		{later, vt0.Add(20 * time.Minute)},
		{later, vt0.Add(5 * time.Minute)}, // before nbf
		{later, vt0.Add(10 * time.Minute)},
		{later, vt0.Add(time.Hour)},
		{good, vt0.Add(-IssuedAtSkew)}, // remembered, then asked for before it was issued
		{good, vt0.Add(-IssuedAtSkew - time.Second)},
		{good, vt0.Add(-time.Hour)},
		{wrongKey, vt0},
		{wrongKey, vt0},
		{tampered, vt0},
		{"", vt0},
		{"not-a-jwt", vt0},
	}
	v := NewVerifier(key)
	for i, s := range steps {
		for round := range 2 {
			want, wantErr := VerifyAt(key, s.token, s.at)
			got, gotErr := v.VerifyAt(s.token, s.at)
			if fmt.Sprint(wantErr) != fmt.Sprint(gotErr) || want != got {
				t.Errorf("step %d round %d (at %s): Verifier = %+v, %v; VerifyAt = %+v, %v", i, round, s.at.Format(time.TimeOnly), got, gotErr, want, wantErr)
			}
		}
	}
	if n := len(v.seen); n != 0 {
		t.Errorf("remembers %d tokens, want none: the two that verified were last asked for after they expired", n)
	}
}

// TestVerifierRemembers checks that a remembered token is answered from
// memory (here: after the key changed, which a real Verifier never sees)
// and that the memory is bounded.
func TestVerifierRemembers(t *testing.T) {
	key := DevKey()
	v := NewVerifier(key)
	v.max = 4
	var toks []string
	for i := range 10 {
		tok := mintWindow(t, key, fmt.Sprintf("u-%d", i), time.Time{}, vt0.Add(time.Hour))
		toks = append(toks, tok)
		if _, err := v.VerifyAt(tok, vt0); err != nil {
			t.Fatal(err)
		}
		if n := len(v.seen); n > v.max {
			t.Fatalf("after %d tokens it remembers %d, more than %d", i+1, n, v.max)
		}
	}
	if n := len(v.seen); n != v.max {
		t.Errorf("remembers %d tokens, want %d", n, v.max)
	}
	for _, tok := range toks {
		if c, err := v.VerifyAt(tok, vt0); err != nil || c.Subject == "" {
			t.Fatalf("a token verified before: %+v, %v", c, err)
		}
	}
	last := toks[len(toks)-1]
	v.key = Key(strings.Repeat("z", 40))
	if _, err := v.VerifyAt(last, vt0.Add(time.Minute)); err != nil {
		t.Errorf("a remembered token inside its window was checked again: %v", err)
	}
	if _, err := v.VerifyAt(last, vt0.Add(time.Hour)); err == nil {
		t.Error("a remembered token was accepted after its expiry")
	}
}

// BenchmarkVerify compares a full verification with a Verifier's answer
// for a token it remembers.
//
//	go test -run '^$' -bench Verify ./pkg/auth/
func BenchmarkVerify(b *testing.B) {
	key := DevKey()
	tok, err := Mint(key, Claims{Subject: "u-1", Role: RoleIssuer, OrgID: "academy-7"}, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("VerifyAt", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Verify(key, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Verifier", func(b *testing.B) {
		v := NewVerifier(key)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}
