package auth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/kit"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func issuer() auth.Claims {
	return auth.Claims{Subject: "u-1", Role: auth.RoleIssuer, OrgID: "academy-7"}
}

func TestMintVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	for _, c := range auth.DevClaims() {
		t.Run(string(c.Role), func(t *testing.T) {
			tok, err := auth.MintAt(auth.DevKey(), c, t0, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			got, err := auth.VerifyAt(auth.DevKey(), tok, t0.Add(59*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			want := c
			want.IssuedAt, want.ExpiresAt = t0, t0.Add(time.Hour)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	key := auth.DevKey()
	good, err := auth.MintAt(key, issuer(), t0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other := auth.Key(strings.Repeat("k", 40))
	wrongKey, err := auth.MintAt(other, issuer(), t0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	// Re-sign nothing: swap in a payload claiming admin with the old signature.
	forged := parts[0] + "." + b64(`{"role":"admin","sub":"u-1","iss":"craftledger","exp":9999999999}`) + "." + parts[2]
	noneAlg := b64(`{"alg":"none","typ":"JWT"}`) + "." + parts[1] + "."

	tests := []struct {
		name, token, msg string
		at               time.Time
	}{
		{"empty", "", "missing bearer token", t0},
		{"garbage", "not-a-jwt", "token malformed", t0},
		{"expired", good, "token expired", t0.Add(time.Hour + time.Second)},
		{"wrong key", wrongKey, "token signature invalid", t0},
		{"tampered payload", forged, "token signature invalid", t0},
		{"alg none", noneAlg, "token", t0},
		{"issued in the future", good, "token issued in the future", t0.Add(-auth.IssuedAtSkew - time.Second)},
		{"issued an hour ahead", good, "token issued in the future", t0.Add(-time.Hour)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := auth.VerifyAt(key, tc.token, tc.at)
			if !errors.Is(err, errs.Unauthenticated) {
				t.Fatalf("VerifyAt = %v, want errs.Unauthenticated", err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not mention %q", err, tc.msg)
			}
		})
	}
}

// TestVerifyAllowsIssuedAtSkew checks that a token whose "iat" lies up to
// auth.IssuedAtSkew ahead of the verifier's clock verifies (the minting
// service's clock may run a little fast), and that expiry gets no leeway.
func TestVerifyAllowsIssuedAtSkew(t *testing.T) {
	t.Parallel()
	key := auth.DevKey()
	tok, err := auth.MintAt(key, issuer(), t0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{t0.Add(-auth.IssuedAtSkew), t0.Add(-time.Second), t0} {
		if _, err := auth.VerifyAt(key, tok, at); err != nil {
			t.Errorf("VerifyAt %s before iat = %v, want the claims", t0.Sub(at), err)
		}
	}
	if _, err := auth.VerifyAt(key, tok, t0.Add(time.Hour)); err == nil || !strings.Contains(err.Error(), "token expired") {
		t.Errorf("VerifyAt at exp = %v, want token expired", err)
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestMintValidatesClaims(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c    auth.Claims
	}{
		{"no subject", auth.Claims{Role: auth.RoleAdmin}},
		{"unknown role", auth.Claims{Subject: "x", Role: "boss"}},
		{"worker without craftsman", auth.Claims{Subject: "x", Role: auth.RoleWorker}},
		{"issuer without org", auth.Claims{Subject: "x", Role: auth.RoleIssuer}},
		{"hr without org", auth.Claims{Subject: "x", Role: auth.RoleHR}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := auth.Mint(auth.DevKey(), tc.c, time.Hour); !errors.Is(err, errs.InvalidArgument) {
				t.Errorf("Mint = %v, want errs.InvalidArgument", err)
			}
		})
	}
	if _, err := auth.Mint(auth.Key("short"), issuer(), time.Hour); !errors.Is(err, errs.InvalidArgument) {
		t.Errorf("Mint with short key = %v, want errs.InvalidArgument", err)
	}
}

func TestKeyNeverPrinted(t *testing.T) {
	t.Parallel()
	k := auth.DevKey()
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %s %x %q %#v", k, k, k, k, k)} {
		if strings.Contains(s, "craftledger-development") || strings.Contains(s, "6372") {
			t.Errorf("key leaked: %s", s)
		}
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "key")
	secret := strings.Repeat("s", 48)
	if err := os.WriteFile(file, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := auth.LoadKey(file, "")
	if err != nil || string(k) != secret {
		t.Fatalf("LoadKey(file) = %d bytes, %v", len(k), err)
	}
	t.Setenv("TEST_CRAFTLEDGER_KEY", secret)
	if k, err = auth.LoadKey("", "TEST_CRAFTLEDGER_KEY"); err != nil || string(k) != secret {
		t.Fatalf("LoadKey(env) = %d bytes, %v", len(k), err)
	}
	if _, err := auth.LoadKey("", "TEST_CRAFTLEDGER_UNSET_KEY"); !errors.Is(err, errs.InvalidArgument) {
		t.Errorf("unset env: %v", err)
	}
	if _, err := auth.LoadKey(filepath.Join(dir, "missing"), ""); err == nil {
		t.Error("missing file accepted")
	}
	t.Setenv("TEST_CRAFTLEDGER_KEY", "short")
	if _, err := auth.LoadKey("", "TEST_CRAFTLEDGER_KEY"); !errors.Is(err, errs.InvalidArgument) {
		t.Errorf("short key: %v", err)
	}
}

func TestPermissions(t *testing.T) {
	t.Parallel()
	worker := auth.Claims{Subject: "w", Role: auth.RoleWorker, CraftsmanID: "c-1"}
	hr := auth.Claims{Subject: "h", Role: auth.RoleHR, OrgID: "emp-1"}
	iss := auth.Claims{Subject: "i", Role: auth.RoleIssuer, OrgID: "academy-7"}
	aud := auth.Claims{Subject: "a", Role: auth.RoleAuditor}
	adm := auth.Claims{Subject: "x", Role: auth.RoleAdmin}

	write := []struct {
		name string
		c    auth.Claims
		org  string
		want bool
	}{
		{"issuer own org", iss, "academy-7", true},
		{"issuer other org", iss, "academy-8", false},
		{"issuer empty org", iss, "", false},
		{"hr own org", hr, "emp-1", true},
		{"hr other org", hr, "academy-7", false},
		{"admin any", adm, "academy-8", true},
		{"auditor", aud, "academy-7", false},
		{"worker", worker, "academy-7", false},
	}
	for _, tc := range write {
		if got := auth.CanWriteFor(tc.c, tc.org); got != tc.want {
			t.Errorf("CanWriteFor %s = %v, want %v", tc.name, got, tc.want)
		}
		err := auth.RequireWriteFor(tc.c, tc.org)
		if tc.want != (err == nil) || (err != nil && !errors.Is(err, errs.PermissionDenied)) {
			t.Errorf("RequireWriteFor %s = %v", tc.name, err)
		}
	}

	read := []struct {
		name      string
		c         auth.Claims
		craftsman string
		orgs      []string
		want      bool
	}{
		{"worker self", worker, "c-1", nil, true},
		{"worker other", worker, "c-2", nil, false},
		{"hr employer", hr, "c-2", []string{"academy-7", "emp-1"}, true},
		{"hr not linked", hr, "c-2", []string{"academy-7"}, false},
		{"issuer academy", iss, "c-2", []string{"academy-7"}, true},
		{"auditor", aud, "c-9", nil, true},
		{"admin", adm, "c-9", nil, true},
	}
	for _, tc := range read {
		if got := auth.CanRead(tc.c, tc.craftsman, tc.orgs...); got != tc.want {
			t.Errorf("CanRead %s = %v, want %v", tc.name, got, tc.want)
		}
		if err := auth.RequireRead(tc.c, tc.craftsman, tc.orgs...); tc.want != (err == nil) {
			t.Errorf("RequireRead %s = %v", tc.name, err)
		}
	}
	if !auth.CanAudit(aud) || !auth.CanAudit(adm) || auth.CanAudit(hr) {
		t.Error("CanAudit wrong")
	}
	if err := worker.RequireRole(auth.RoleAdmin); !errors.Is(err, errs.PermissionDenied) {
		t.Errorf("RequireRole = %v", err)
	}
}

func TestHTTPMiddleware(t *testing.T) {
	t.Parallel()
	key := auth.DevKey()
	h := auth.HTTPMiddleware(key, kit.EncodeError)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := auth.FromContext(r.Context())
		if !ok {
			t.Error("no claims in context")
		}
		fmt.Fprintf(w, "%s/%s", c.Role, c.OrgID)
	}))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	tok, err := auth.Mint(key, issuer(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := auth.MintAt(key, issuer(), time.Now().Add(-2*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, header string
		status       int
		body         string
	}{
		{"valid", "Bearer " + tok, 200, "issuer/academy-7"},
		{"lower-case scheme", "bearer " + tok, 200, "issuer/academy-7"},
		{"missing", "", 401, "UNAUTHENTICATED"},
		{"basic scheme", "Basic " + tok, 401, "UNAUTHENTICATED"},
		{"expired", "Bearer " + expired, 401, "token expired"},
		{"tampered", "Bearer " + tok[:len(tok)-2] + "xx", 401, "UNAUTHENTICATED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL, nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body := readAll(t, resp)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.body) {
				t.Errorf("got %d %q, want %d containing %q", resp.StatusCode, body, tc.status, tc.body)
			}
			if tc.status == 401 {
				var eb kit.ErrorBody
				if err := json.Unmarshal([]byte(body), &eb); err != nil || eb.Error.Code != "UNAUTHENTICATED" {
					t.Errorf("error body %q: %v", body, err)
				}
			}
		})
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEndpointMiddleware(t *testing.T) {
	t.Parallel()
	key := auth.DevKey()
	var seen auth.Claims
	ep := auth.EndpointMiddleware(key)(auth.RequireRoles(auth.RoleIssuer, auth.RoleAdmin)(func(ctx context.Context, req any) (any, error) {
		seen, _ = auth.FromContext(ctx)
		return "ok", nil
	}))
	tok, _ := auth.Mint(key, issuer(), time.Hour)
	wtok, _ := auth.Mint(key, auth.Claims{Subject: "w", Role: auth.RoleWorker, CraftsmanID: "c-1"}, time.Hour)

	r := httptest.NewRequest("POST", "/x", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	if _, err := ep(auth.HTTPToContext(context.Background(), r), nil); err != nil {
		t.Fatalf("issuer: %v", err)
	}
	if seen.Subject != "u-1" {
		t.Errorf("claims not passed on: %+v", seen)
	}
	if _, err := ep(context.Background(), nil); !errors.Is(err, errs.Unauthenticated) {
		t.Errorf("no token: %v", err)
	}
	if _, err := ep(auth.WithToken(context.Background(), wtok), nil); !errors.Is(err, errs.PermissionDenied) {
		t.Errorf("worker: %v", err)
	}
	if _, err := ep(auth.WithToken(context.Background(), "x.y.z"), nil); !errors.Is(err, errs.Unauthenticated) {
		t.Errorf("bad token: %v", err)
	}
}

func TestDevTokens(t *testing.T) {
	t.Parallel()
	toks, err := auth.DevTokens(auth.DevKey(), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(toks) != len(auth.Roles()) {
		t.Fatalf("%d tokens, want one per role", len(toks))
	}
	for i, dt := range toks {
		c, err := auth.Verify(auth.DevKey(), dt.Token)
		if err != nil {
			t.Fatalf("%s: %v", dt.Claims.Role, err)
		}
		if c.Role != auth.Roles()[i] || c.Subject != dt.Claims.Subject {
			t.Errorf("token %d: %+v", i, c)
		}
	}
}
