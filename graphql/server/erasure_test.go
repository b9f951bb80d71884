package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/graphql/server"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/services/registry"
)

// TestForgottenCraftsmanShowsAsErased: craftsmen registered through the
// real registry service (personal data sealed under a per-craftsman key),
// one of them forgotten (POST /v1/craftsmen/{id}/forget records
// PersonalDataErased.v1 and destroys the key). Every view shows that one
// as erased and never a name — live, as of a moment before the erasure,
// in HR lists, after a restart from snapshot — while its history stays
// countable and its hash chain verifies.
func TestForgottenCraftsmanShowsAsErased(t *testing.T) {
	l := startStore(t)
	kr, err := registry.NewDirKeyring(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC) }
	svc, err := registry.New(l.store, clock, registry.Options{NationalIDKey: []byte(registry.DevNationalIDKey), Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	reg := httptest.NewServer(registry.NewHTTPHandler(svc, slog.New(slog.DiscardHandler), auth.DevKey(), registry.HTTPOptions{}))
	defer reg.Close()
	post := func(tok, path string, body any) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, reg.URL+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := reg.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, raw)
		}
	}
	issuer := token(t, auth.Claims{Subject: "iss", Role: auth.RoleIssuer, OrgID: "emp1"})
	admin := token(t, auth.Claims{Subject: "adm", Role: auth.RoleAdmin})
	names := map[string]string{"s1": "欧阳娜娜", "s2": "司马光"}
	for i, id := range []string{"s1", "s2"} {
		post(issuer, "/v1/craftsmen", map[string]any{"craftsmanId": id, "nationalId": nationalID(900 + i),
			"region": "HLJ", "personal": map[string]any{"name": names[id], "phone": "13900000000"}})
	}
	post(admin, "/v1/craftsmen/s1/forget", map[string]any{"reason": "erasure request 118"})

	dir := t.TempDir()
	h := startServer(t, l, dir, server.Limits{})
	last, err := l.store.ReadAll(context.Background(), eventstore.ReadAllOptions{Direction: eventstore.Backwards, FromEnd: true, Max: 1})
	if err != nil || len(last) == 0 {
		t.Fatalf("last event: %v", err)
	}
	l.last = last[0].Position
	h.caughtUp()

	aud := token(t, auditor)
	hr := token(t, hrEmp1)
	const one = `query($id: ID!, $asOf: String) { craftsman(id: $id, asOf: $asOf) { id name personalData erased
		timeline(first: 20) { totalCount edges { node { kind title zh: title(lang: "zh") } } } } }`
	const many = `{ craftsmen(first: 10) { totalCount edges { node { id name personalData erased } } } }`
	const audit = `{ audit(stream: "craftsman-s1", first: 10) { totalCount edges { node { type recordedAt chain } } }
		streamIntegrity(stream: "craftsman-s1") { status } }`
	check := func(when string) {
		t.Helper()
		var answers []string
		for _, id := range []string{"s1", "s2"} {
			r := h.query(aud, one, map[string]any{"id": id})
			mustOK(t, r)
			c := path(r.Data, "craftsman")
			want, erased := "sealed", false
			if id == "s1" {
				want, erased = "erased", true
			}
			if path(c, "name") != nil || path(c, "personalData") != want || path(c, "erased") != erased {
				t.Fatalf("%s: craftsman %s = %v, want personalData %s, erased %v, no name", when, id, c, want, erased)
			}
			b, _ := json.Marshal(r.Data)
			answers = append(answers, string(b))
		}
		tl := h.query(aud, one, map[string]any{"id": "s1"})
		if n := path(tl.Data, "craftsman", "timeline", "totalCount"); n != float64(2) {
			t.Fatalf("%s: timeline of s1 has %v entries, want registration and erasure", when, n)
		}
		if k, zh := path(tl.Data, "craftsman", "timeline", "edges", 1, "node", "kind"), path(tl.Data, "craftsman", "timeline", "edges", 1, "node", "zh"); k != "erasure" || zh != "个人信息已删除：erasure request 118" {
			t.Fatalf("%s: erasure entry %v %v", when, k, zh)
		}
		r := h.query(hr, many, nil)
		mustOK(t, r)
		if path(r.Data, "craftsmen", "totalCount") != float64(2) {
			t.Fatalf("%s: HR sees %v", when, r.Data)
		}
		for i := 0; i < 2; i++ {
			n := path(r.Data, "craftsmen", "edges", i, "node")
			want := map[string]any{"s1": "erased", "s2": "sealed"}[path(n, "id").(string)]
			if path(n, "name") != nil || path(n, "personalData") != want || path(n, "erased") != (want == "erased") {
				t.Fatalf("%s: HR member %v, want %s and no name", when, n, want)
			}
		}
		b, _ := json.Marshal(r.Data)
		answers = append(answers, string(b))
		a := h.query(aud, audit, nil)
		mustOK(t, a)
		if path(a.Data, "audit", "totalCount") != float64(2) || path(a.Data, "streamIntegrity", "status") != "ok" {
			t.Fatalf("%s: audit %v", when, a.Data)
		}
		for i, typ := range []string{"CraftsmanRegistered.v1", "PersonalDataErased.v1"} {
			if n := path(a.Data, "audit", "edges", i, "node"); path(n, "type") != typ || path(n, "chain") != "ok" {
				t.Fatalf("%s: audit event %d = %v, want %s with chain ok", when, i, n, typ)
			}
		}
		// As of the registration (before the erasure was recorded): still erased.
		regAt := path(a.Data, "audit", "edges", 0, "node", "recordedAt").(string)
		r = h.query(aud, one, map[string]any{"id": "s1", "asOf": regAt})
		mustOK(t, r)
		if c := path(r.Data, "craftsman"); path(c, "name") != nil || path(c, "erased") != true || path(c, "timeline", "totalCount") != float64(1) {
			t.Fatalf("%s: s1 as of its registration = %v, want erased", when, c)
		}
		b, _ = json.Marshal(a.Data)
		answers = append(answers, string(b))
		for _, ans := range answers {
			for _, name := range names {
				if strings.Contains(ans, name) {
					t.Fatalf("%s: a name in an answer: %s", when, ans)
				}
			}
		}
	}
	check("live")
	if r := h.query(aud, `{ craftsman(id: "s1") { timeline(first: 1) { edges { node { title(lang: "fr") } } } } }`, nil); r.code() != "INVALID_ARGUMENT" {
		t.Fatalf("title in an unknown language: %+v", r)
	}
	h.stop()
	h = startServer(t, l, dir, server.Limits{})
	h.caughtUp()
	if st := h.srv.Projector().Status(); st.Applied != 0 {
		t.Fatalf("restart replayed %d events instead of loading the snapshot", st.Applied)
	}
	check("after a restart from snapshot")
}

// nationalID builds a valid 18-character ID number for sequence n.
func nationalID(n int) string {
	base := fmt.Sprintf("1101%013d", n)
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(base[i]-'0') * w
	}
	return base + string("10X98765432"[sum%11])
}
