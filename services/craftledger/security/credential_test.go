package security_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/credential"
	"github.com/craftledger/craftledger/services/craftledger/security/sectest"
)

type credAnswer struct {
	Valid    bool     `json:"valid"`
	Issuer   *string  `json:"issuer"`
	Subject  *string  `json:"subject"`
	Claims   int      `json:"claims"`
	Problems []string `json:"problems"`
}

// verifyOverGraphQL asks verifyCredential (credential passed as a
// variable) as caller.
func verifyOverGraphQL(t *testing.T, e *sectest.Env, caller sectest.Caller, cred []byte) (sectest.Response, credAnswer) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"query":     `query($c: String!) { verifyCredential(credential: $c) { valid issuer subject claims problems } }`,
		"variables": map[string]any{"c": string(cred)},
	})
	r := e.Do(caller, "POST", "/graphql", "application/json", string(body))
	var a struct {
		Data struct {
			VerifyCredential credAnswer `json:"verifyCredential"`
		} `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(r.Body, &a); err != nil || len(a.Errors) > 0 {
		t.Fatalf("verifyCredential as %s: %s", caller, r)
	}
	return r, a.Data.VerifyCredential
}

// TestCredentialsOverHTTPAndGraphQL: the all-in-one issues a worker's
// signed credential over HTTP (GET /credentials/{id}: the worker, an
// auditor or an admin; others 403, no or a bad token 401) and anyone can
// verify it without a token, over POST /credentials/verify and over the
// GraphQL field verifyCredential (an offline signature check): the
// credential as issued is valid, and changing any one byte of it makes it
// invalid with a reason, on both.
func TestCredentialsOverHTTPAndGraphQL(t *testing.T) {
	e := sectest.Start(t, sectest.Options{})
	path := "/credentials/" + sectest.Worker

	// Who may export the record.
	allowed := []sectest.Caller{sectest.WorkerC, sectest.Auditor, sectest.Admin}
	for _, c := range sectest.Callers() {
		r := e.Do(c, "GET", path, "", "")
		switch {
		case c.Invalid():
			if r.Status != 401 {
				t.Errorf("GET %s as %s: %s, want 401", path, c, r)
			}
		case slices.Contains(allowed, c):
			if r.Status != 200 {
				t.Errorf("GET %s as %s: %s, want 200", path, c, r)
			}
		default:
			if r.Status != 403 || r.Err().Code != "PERMISSION_DENIED" {
				t.Errorf("GET %s as %s: %s, want 403 PERMISSION_DENIED", path, c, r)
			}
		}
	}
	if r := e.Do(sectest.WorkerC, "GET", "/credentials/"+sectest.Stranger, "", ""); r.Status != 403 {
		t.Errorf("the worker exports another craftsman's record: %s, want 403", r)
	}

	r := e.Do(sectest.WorkerC, "GET", path, "", "")
	cred := r.Body
	if r.Status != 200 || len(cred) == 0 {
		t.Fatalf("issue: %s", r)
	}
	// The test's own offline check: the credential is signed by the
	// deployment's key and carries the worker's claims.
	c, err := credential.Verify(cred, e.CredentialKey.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatalf("the issued credential does not verify offline: %v", err)
	}
	claims := len(c.CredentialSubject.VerifiableCredential)
	if claims == 0 {
		t.Fatal("the worker's credential carries no claims; the fixture records some")
	}

	verifyHTTP := func(caller sectest.Caller, b []byte) credential.VerifyResult {
		t.Helper()
		r := e.Do(caller, "POST", "/credentials/verify", "application/json", string(b))
		var v credential.VerifyResult
		if r.Status != 200 || json.Unmarshal(r.Body, &v) != nil {
			t.Fatalf("POST /credentials/verify as %s: %s", caller, r)
		}
		return v
	}
	// As issued: valid everywhere, for anyone (no token needed).
	for _, caller := range []sectest.Caller{sectest.Anonymous, sectest.HRA} {
		if v := verifyHTTP(caller, cred); !v.Valid || v.CraftsmanID != sectest.Worker || v.Claims != claims {
			t.Errorf("HTTP verify as %s: %+v, want valid for %s with %d claims", caller, v, sectest.Worker, claims)
		}
		_, g := verifyOverGraphQL(t, e, caller, cred)
		if !g.Valid || g.Subject == nil || *g.Subject != sectest.Worker || g.Claims != claims || g.Issuer == nil || len(g.Problems) != 0 {
			t.Errorf("GraphQL verifyCredential as %s: %+v, want valid for %s with %d claims and no problems", caller, g, sectest.Worker, claims)
		}
	}
	// Tampered: one byte changed (a digit of a claim, a letter of the
	// subject, a byte of the signature) — invalid, with a reason, on both.
	for _, at := range []int{bytes.Index(cred, []byte(sectest.Worker)) + 2, bytes.LastIndex(cred, []byte(`"proofValue"`)) + 20, len(cred) / 2} {
		bad := slices.Clone(cred)
		if bad[at] == 'a' {
			bad[at] = 'b'
		} else {
			bad[at] = 'a'
		}
		if v := verifyHTTP(sectest.Anonymous, bad); v.Valid || v.Reason == "" {
			t.Errorf("HTTP verify of a credential with byte %d changed: %+v, want invalid with a reason", at, v)
		}
		_, g := verifyOverGraphQL(t, e, sectest.Anonymous, bad)
		if g.Valid || len(g.Problems) == 0 || g.Subject != nil {
			t.Errorf("GraphQL verifyCredential of a credential with byte %d changed: %+v, want invalid with problems", at, g)
		}
	}
	// Re-issued under another key (a forger's own, valid in itself):
	// invalid against this deployment's key.
	otherPub, other, _ := ed25519.GenerateKey(rand.Reader)
	c.Issuer.ID, c.Proof = credential.DID(otherPub), nil
	forged, err := credential.Sign(c, other, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := credential.Verify(forged, otherPub); err != nil {
		t.Fatalf("control: the forged credential does not verify under its own key: %v", err)
	}
	if _, g := verifyOverGraphQL(t, e, sectest.Anonymous, forged); g.Valid {
		t.Errorf("a credential re-signed with another key verifies: %+v", g)
	}
}
