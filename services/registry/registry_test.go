package registry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/chain"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/command/commandtest"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
	"github.com/craftledger/craftledger/services/registry"
)

var now = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

type env struct {
	store *commandtest.Store
	url   string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvBackfill(t, command.Backfill{})
}

// newEnvBackfill is newEnv with the back-fill endpoints configured by bf.
func newEnvBackfill(t testing.TB, bf command.Backfill) *env {
	t.Helper()
	st := commandtest.StartStore(t)
	svc, err := registry.New(st, func() time.Time { return now }, registry.Options{NationalIDKey: []byte(registry.DevNationalIDKey)})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	svc = registry.LoggingMiddleware(logger)(registry.InstrumentingMiddleware(kit.NewMetrics("registry"))(svc))
	srv := httptest.NewServer(registry.NewHTTPHandler(svc, logger, auth.DevKey(), registry.HTTPOptions{Backfill: bf}))
	t.Cleanup(srv.Close)
	return &env{store: st, url: srv.URL}
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

var (
	admin  = func(t testing.TB) string { return commandtest.Token(t, auth.RoleAdmin, "", "") }
	issuer = func(t testing.TB, org string) string { return commandtest.Token(t, auth.RoleIssuer, org, "") }
)

func (e *env) do(t testing.TB, method, path, token string, body any, headers ...string) commandtest.Response {
	t.Helper()
	return commandtest.Do(t, method, e.url+path, token, body, headers...)
}

func (e *env) register(t testing.TB, id string, n int) command.Result {
	t.Helper()
	r := e.do(t, "POST", "/v1/craftsmen", issuer(t, "academy-a"), map[string]any{
		"craftsmanId": id, "nationalId": nationalID(n), "birthDate": "1990-01-01", "region": "120000",
		"personal": map[string]any{"name": "张伟"},
	})
	if r.Status != http.StatusCreated {
		t.Fatalf("register %s: %d %s", id, r.Status, r.Body)
	}
	var res command.Result
	r.JSON(t, &res)
	return res
}

func (e *env) events(t testing.TB, stream string) []eventstore.RecordedEvent {
	t.Helper()
	evs, err := e.store.ReadStream(context.Background(), stream, eventstore.ReadOptions{})
	if err != nil {
		t.Fatalf("read %s: %v", stream, err)
	}
	return evs
}

func (e *env) count(t testing.TB, stream string) int {
	t.Helper()
	h, err := command.Load(context.Background(), e.store, stream)
	if err != nil {
		t.Fatal(err)
	}
	return len(h.Events)
}

func TestRegisterCraftsman(t *testing.T) {
	e := newEnv(t)
	id := nationalID(7)
	res := e.register(t, "c1", 7)
	if res.Stream != "craftsman-c1" || res.Revision != 0 || len(res.EventIDs) != 1 || res.Position == (eventstore.Position{}) {
		t.Fatalf("result %+v", res)
	}
	evs := e.events(t, "craftsman-c1")
	if evs[0].Type != events.TypeCraftsmanRegistered {
		t.Fatalf("type %s", evs[0].Type)
	}
	if bytes.Contains(evs[0].Data, []byte(id)) || bytes.Contains(evs[0].Metadata, []byte(id)) {
		t.Fatal("the national ID number is stored in clear")
	}
	want := events.HashNationalID([]byte(registry.DevNationalIDKey), id)
	if !bytes.Contains(evs[0].Data, []byte(want)) {
		t.Fatalf("data %s lacks the keyed hash", evs[0].Data)
	}
	m, _ := command.DecodeMetadata(evs[0].Metadata)
	if m.IssuerOrgID != "academy-a" || m.ActingUserID == "" || !m.OccurredAt.Equal(now) || m.Hash == "" {
		t.Fatalf("metadata %+v", m)
	}
	raw := []events.Raw{{Stream: evs[0].Stream, Revision: evs[0].Revision, ID: evs[0].ID, Type: evs[0].Type, Data: evs[0].Data, Metadata: evs[0].Metadata}}
	if brk := chain.Verify(raw, chain.Options{}); brk != nil {
		t.Fatalf("hash chain: %v", brk)
	}
	// Registering the same id again is a conflict.
	r := e.do(t, "POST", "/v1/craftsmen", issuer(t, "academy-a"), map[string]any{"craftsmanId": "c1", "nationalId": nationalID(8), "personal": map[string]any{"name": "李娜"}})
	if code, _ := r.Error(t); r.Status != http.StatusConflict || code != "CONFLICT" {
		t.Fatalf("second registration: %d %s", r.Status, r.Body)
	}
}

func TestRegisterCraftsmanRejections(t *testing.T) {
	e := newEnv(t)
	good := func() map[string]any {
		return map[string]any{"craftsmanId": "c2", "nationalId": nationalID(2), "personal": map[string]any{"name": "王芳"}}
	}
	with := func(k string, v any) map[string]any { b := good(); b[k] = v; return b }
	without := func(k string) map[string]any { b := good(); delete(b, k); return b }
	worker := commandtest.Token(t, auth.RoleWorker, "", "c2")
	hr := commandtest.Token(t, auth.RoleHR, "employer-1", "")
	for _, tc := range []struct {
		name   string
		token  string
		body   any
		status int
		code   string
		field  string
	}{
		{"malformed JSON", issuer(t, "a"), `{"craftsmanId":`, 400, "INVALID_ARGUMENT", ""},
		{"unknown field", issuer(t, "a"), with("nickname", "x"), 400, "INVALID_ARGUMENT", "nickname"},
		{"wrong type", issuer(t, "a"), with("region", 12), 400, "INVALID_ARGUMENT", "region"},
		{"missing id", issuer(t, "a"), without("craftsmanId"), 400, "INVALID_ARGUMENT", "craftsmanId"},
		{"missing national id", issuer(t, "a"), without("nationalId"), 400, "INVALID_ARGUMENT", "nationalId"},
		{"bad check digit", issuer(t, "a"), with("nationalId", "110101199001010000"), 400, "INVALID_ARGUMENT", "nationalId"},
		{"missing name", issuer(t, "a"), without("personal"), 400, "INVALID_ARGUMENT", "sealedPersonal"},
		{"birth date in the future", issuer(t, "a"), with("birthDate", "2030-01-01"), 400, "INVALID_ARGUMENT", "birthDate"},
		{"occurred in the future", issuer(t, "a"), with("occurredAt", "2027-01-01"), 400, "INVALID_ARGUMENT", "occurredAt"},
		{"bad id characters", issuer(t, "a"), with("craftsmanId", "c 2"), 400, "INVALID_ARGUMENT", "craftsmanId"},
		{"no token", "", good(), 401, "UNAUTHENTICATED", ""},
		{"forged token", "eyJhbGciOiJIUzI1NiJ9.e30.x", good(), 401, "UNAUTHENTICATED", ""},
		{"worker may not write", worker, good(), 403, "PERMISSION_DENIED", ""},
		{"hr may not write", hr, good(), 403, "PERMISSION_DENIED", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, "POST", "/v1/craftsmen", tc.token, tc.body)
			code, field := r.Error(t)
			if r.Status != tc.status || code != tc.code || field != tc.field {
				t.Fatalf("got %d %s field %q (%s), want %d %s field %q", r.Status, code, field, r.Body, tc.status, tc.code, tc.field)
			}
			if n := e.count(t, "craftsman-c2"); n != 0 {
				t.Fatalf("%d events written by a rejected command", n)
			}
		})
	}
}

func TestIdempotentRetry(t *testing.T) {
	e := newEnv(t)
	body := map[string]any{"craftsmanId": "c3", "nationalId": nationalID(3), "personal": map[string]any{"name": "刘洋"}}
	first := e.do(t, "POST", "/v1/craftsmen", issuer(t, "a"), body, "Idempotency-Key", "reg-c3")
	again := e.do(t, "POST", "/v1/craftsmen", issuer(t, "a"), body, "Idempotency-Key", "reg-c3")
	if first.Status != 201 || again.Status != 200 {
		t.Fatalf("statuses %d %s / %d %s", first.Status, first.Body, again.Status, again.Body)
	}
	var a, b command.Result
	first.JSON(t, &a)
	again.JSON(t, &b)
	if !b.Replayed || a.Revision != b.Revision || a.Position != b.Position || a.EventIDs[0] != b.EventIDs[0] {
		t.Fatalf("replay %+v differs from %+v", b, a)
	}
	// A keyed trade entry retried after other writes still answers the original.
	trade := map[string]any{"trade": map[string]any{"code": "6-31-01-03", "name": "电工"}}
	t1 := e.do(t, "POST", "/v1/craftsmen/c3/trades", issuer(t, "a"), trade, "Idempotency-Key", "trade-1")
	e.do(t, "POST", "/v1/craftsmen/c3/trades", issuer(t, "a"), map[string]any{"trade": map[string]any{"code": "6-18-02-04"}})
	t2 := e.do(t, "POST", "/v1/craftsmen/c3/trades", issuer(t, "a"), trade, "Idempotency-Key", "trade-1")
	var r1, r2 command.Result
	t1.JSON(t, &r1)
	t2.JSON(t, &r2)
	if t2.Status != 200 || r1.Revision != r2.Revision || !r2.Replayed {
		t.Fatalf("trade replay %d %+v, first %+v", t2.Status, r2, r1)
	}
	if n := e.count(t, "craftsman-c3"); n != 3 {
		t.Fatalf("%d events, want 3", n)
	}
}

func TestProfileTradesAndEmployment(t *testing.T) {
	e := newEnv(t)
	e.register(t, "c4", 4)
	iss := issuer(t, "steelworks")
	other := issuer(t, "academy-x")
	reg := issuer(t, "academy-a") // registered c4
	steps := []struct {
		name, method, path, token string
		body                      any
		status                    int
		code, field               string
	}{
		{"profile of unknown craftsman", "PATCH", "/v1/craftsmen/nobody", iss, map[string]any{"region": "310000"}, 404, "NOT_FOUND", ""},
		{"empty profile change", "PATCH", "/v1/craftsmen/c4", iss, map[string]any{}, 400, "INVALID_ARGUMENT", ""},
		{"profile change by an unrelated issuer", "PATCH", "/v1/craftsmen/c4", iss, map[string]any{"region": "310000"}, 403, "PERMISSION_DENIED", ""},
		{"trade by an unrelated issuer", "POST", "/v1/craftsmen/c4/trades", other, map[string]any{"trade": map[string]any{"code": "6-31-01-03"}}, 403, "PERMISSION_DENIED", ""},
		{"profile change by the registering academy", "PATCH", "/v1/craftsmen/c4", reg, map[string]any{"region": "310000", "nationalId": nationalID(40)}, 201, "", ""},
		{"bad trade code", "POST", "/v1/craftsmen/c4/trades", reg, map[string]any{"trade": map[string]any{"code": "electrician"}}, 400, "INVALID_ARGUMENT", "trade.code"},
		{"trade entered", "POST", "/v1/craftsmen/c4/trades", reg, map[string]any{"trade": map[string]any{"code": "6-31-01-03"}, "occurredAt": "2015-07-01"}, 201, "", ""},
		{"trade again is a no-op", "POST", "/v1/craftsmen/c4/trades", reg, map[string]any{"trade": map[string]any{"code": "6-31-01-03"}}, 200, "", ""},
		{"employment for another employer", "POST", "/v1/craftsmen/c4/employments", other,
			map[string]any{"employmentId": "e1", "employerOrgId": "steelworks", "trade": map[string]any{"code": "6-31-01-03"}}, 403, "PERMISSION_DENIED", ""},
		{"employment missing employer", "POST", "/v1/craftsmen/c4/employments", iss,
			map[string]any{"employmentId": "e1", "trade": map[string]any{"code": "6-31-01-03"}}, 400, "INVALID_ARGUMENT", "employerOrgId"},
		{"employment started", "POST", "/v1/craftsmen/c4/employments", iss,
			map[string]any{"employmentId": "e1", "employerOrgId": "steelworks", "trade": map[string]any{"code": "6-31-01-03"}, "occurredAt": "2015-07-01"}, 201, "", ""},
		{"employment id reused", "POST", "/v1/craftsmen/c4/employments", iss,
			map[string]any{"employmentId": "e1", "employerOrgId": "steelworks", "trade": map[string]any{"code": "6-31-01-03"}}, 409, "CONFLICT", ""},
		// An employer records employments and trades but never renames:
		// any issuer can make itself an employer (the review's attack).
		{"profile change by the current employer", "PATCH", "/v1/craftsmen/c4", iss, map[string]any{"region": "火星", "personal": map[string]any{"name": "被改名"}}, 403, "PERMISSION_DENIED", ""},
		{"region change by the current employer", "PATCH", "/v1/craftsmen/c4", iss, map[string]any{"region": "120000"}, 403, "PERMISSION_DENIED", ""},
		{"birth date change by the current employer", "PATCH", "/v1/craftsmen/c4", iss, map[string]any{"birthDate": "1991-01-01"}, 403, "PERMISSION_DENIED", ""},
		{"national ID change by the current employer", "PATCH", "/v1/craftsmen/c4", iss, map[string]any{"nationalId": nationalID(41)}, 403, "PERMISSION_DENIED", ""},
		{"name change by the registering academy", "PATCH", "/v1/craftsmen/c4", reg, map[string]any{"personal": map[string]any{"name": "张伟明"}}, 201, "", ""},
		{"trade by the current employer", "POST", "/v1/craftsmen/c4/trades", iss, map[string]any{"trade": map[string]any{"code": "6-31-01-02"}}, 201, "", ""},
		{"end by another organisation", "POST", "/v1/craftsmen/c4/employments/e1/end", other, map[string]any{}, 403, "PERMISSION_DENIED", ""},
		{"end unknown employment", "POST", "/v1/craftsmen/c4/employments/e9/end", iss, nil, 404, "NOT_FOUND", ""},
		{"end before start", "POST", "/v1/craftsmen/c4/employments/e1/end", iss, map[string]any{"occurredAt": "2014-01-01"}, 400, "INVALID_ARGUMENT", "occurredAt"},
		{"employment ended", "POST", "/v1/craftsmen/c4/employments/e1/end", iss, map[string]any{"reason": "moved", "occurredAt": "2020-06-30"}, 201, "", ""},
		{"ended twice", "POST", "/v1/craftsmen/c4/employments/e1/end", iss, nil, 422, "FAILED_PRECONDITION", ""},
		{"profile change by a former employer", "PATCH", "/v1/craftsmen/c4", iss, map[string]any{"region": "310000"}, 403, "PERMISSION_DENIED", ""},
		{"profile change by an admin", "PATCH", "/v1/craftsmen/c4", admin(t), map[string]any{"region": "310000"}, 201, "", ""},
		{"no route", "POST", "/v1/craftsmen/c4/holidays", iss, map[string]any{}, 404, "NOT_FOUND", ""},
	}
	for _, s := range steps {
		before := e.count(t, "craftsman-c4")
		r := e.do(t, s.method, s.path, s.token, s.body)
		if r.Status != s.status {
			t.Fatalf("%s: %d %s, want %d", s.name, r.Status, r.Body, s.status)
		}
		after := e.count(t, "craftsman-c4")
		if s.status >= 400 {
			if code, field := r.Error(t); code != s.code || field != s.field {
				t.Fatalf("%s: code %s field %q, want %s %q", s.name, code, field, s.code, s.field)
			}
			if after != before {
				t.Fatalf("%s: a rejected command wrote %d events", s.name, after-before)
			}
		} else if want := before + map[int]int{201: 1, 200: 0}[s.status]; after != want {
			t.Fatalf("%s: %d events, want %d", s.name, after, want)
		}
	}
}

func TestAcademiesAndIssuers(t *testing.T) {
	e := newEnv(t)
	academy := map[string]any{"academyId": "tj-college", "name": "天津职业技术学院工匠学院", "kind": "college", "region": "120000"}
	course := map[string]any{"courseId": "weld-101", "title": "焊接基础", "trade": map[string]any{"code": "6-18-02-04", "name": "焊工"}, "hours": 40, "mode": "classroom"}
	steps := []struct {
		name, path, token string
		body              any
		status            int
		code, field       string
	}{
		{"academy by issuer of another organisation", "/v1/academies", issuer(t, "other"), academy, 403, "PERMISSION_DENIED", ""},
		{"academy bad kind", "/v1/academies", admin(t), map[string]any{"academyId": "x", "name": "x", "kind": "university", "region": "1"}, 400, "INVALID_ARGUMENT", "kind"},
		{"course of unknown academy", "/v1/academies/tj-college/courses", issuer(t, "tj-college"), course, 404, "NOT_FOUND", ""},
		{"academy by its own issuer", "/v1/academies", issuer(t, "tj-college"), academy, 201, "", ""},
		{"academy twice", "/v1/academies", admin(t), academy, 409, "CONFLICT", ""},
		{"course by another academy", "/v1/academies/tj-college/courses", issuer(t, "other"), course, 403, "PERMISSION_DENIED", ""},
		{"course with no hours", "/v1/academies/tj-college/courses", issuer(t, "tj-college"),
			map[string]any{"courseId": "c", "title": "t", "trade": map[string]any{"code": "6-18-02-04"}, "mode": "classroom"}, 400, "INVALID_ARGUMENT", "hours"},
		{"course added", "/v1/academies/tj-college/courses", issuer(t, "tj-college"), course, 201, "", ""},
		{"course twice", "/v1/academies/tj-college/courses", admin(t), course, 409, "CONFLICT", ""},
		{"issuer by an issuer", "/v1/issuers", issuer(t, "tj-college"), map[string]any{"issuerId": "hr-tj", "name": "天津市人社局", "kind": "hr_authority"}, 403, "PERMISSION_DENIED", ""},
		{"issuer bad kind", "/v1/issuers", admin(t), map[string]any{"issuerId": "hr-tj", "name": "x", "kind": "bank"}, 400, "INVALID_ARGUMENT", "kind"},
		{"user of unknown issuer", "/v1/issuers/hr-tj/users", admin(t), map[string]any{"userId": "u1", "role": "hr"}, 404, "NOT_FOUND", ""},
		{"issuer registered", "/v1/issuers", admin(t), map[string]any{"issuerId": "hr-tj", "name": "天津市人社局", "kind": "hr_authority", "region": "120000"}, 201, "", ""},
		{"user bad role", "/v1/issuers/hr-tj/users", admin(t), map[string]any{"userId": "u1", "role": "admin"}, 400, "INVALID_ARGUMENT", "role"},
		{"user by an issuer", "/v1/issuers/hr-tj/users", issuer(t, "hr-tj"), map[string]any{"userId": "u1", "role": "hr"}, 403, "PERMISSION_DENIED", ""},
		{"user added", "/v1/issuers/hr-tj/users", admin(t), map[string]any{"userId": "u1", "role": "hr", "displayName": "审核员"}, 201, "", ""},
		{"user added again", "/v1/issuers/hr-tj/users", admin(t), map[string]any{"userId": "u1", "role": "hr"}, 200, "", ""},
		{"user with another role", "/v1/issuers/hr-tj/users", admin(t), map[string]any{"userId": "u1", "role": "issuer"}, 409, "CONFLICT", ""},
	}
	for _, s := range steps {
		r := e.do(t, "POST", s.path, s.token, s.body)
		if r.Status != s.status {
			t.Fatalf("%s: %d %s, want %d", s.name, r.Status, r.Body, s.status)
		}
		if s.status >= 400 {
			if code, field := r.Error(t); code != s.code || field != s.field {
				t.Fatalf("%s: code %s field %q, want %s %q", s.name, code, field, s.code, s.field)
			}
		}
	}
	// What the registry writes is the catalogue's: every event decodes
	// with events.NewRegistry (no type of the registry's own).
	reg := events.NewRegistry()
	for _, stream := range []string{"academy-tj-college", events.IssuerStream("hr-tj")} {
		evs, err := e.store.ReadStream(context.Background(), stream, eventstore.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if _, err := reg.Decode(ev.Type, ev.Data); err != nil {
				t.Errorf("%s@%d %s does not decode with the catalogue: %v", stream, ev.Revision, ev.Type, err)
			}
		}
	}
	if n := e.count(t, "academy-tj-college"); n != 2 {
		t.Fatalf("academy stream has %d events, want 2", n)
	}
	if n := e.count(t, "issuer-hr-tj"); n != 2 {
		t.Fatalf("issuer stream has %d events, want 2", n)
	}
}

func TestConcurrentCommandsOnOneWorker(t *testing.T) {
	e := newEnv(t)
	e.register(t, "c5", 5)
	// A second instance of the service on the same store: the two share no
	// lock and no cache, so their commands really race on the revision.
	svc2, err := registry.New(e.store, func() time.Time { return now }, registry.Options{NationalIDKey: []byte(registry.DevNationalIDKey), MaxRetries: 30})
	if err != nil {
		t.Fatal(err)
	}
	srv2 := httptest.NewServer(registry.NewHTTPHandler(svc2, slog.New(slog.DiscardHandler), auth.DevKey(), registry.HTTPOptions{}))
	defer srv2.Close()
	urls := []string{e.url, srv2.URL}
	const n = 24
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := commandtest.Do(t, "POST", urls[i%2]+"/v1/craftsmen/c5/employments", issuer(t, "works"), map[string]any{
				"employmentId": fmt.Sprintf("e%d", i), "employerOrgId": "works", "trade": map[string]any{"code": "6-31-01-03"},
			})
			statuses[i] = r.Status
		}()
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusCreated {
			t.Fatalf("command %d: status %d", i, s)
		}
	}
	evs := e.events(t, "craftsman-c5")
	if len(evs) != n+1 {
		t.Fatalf("%d events, want %d", len(evs), n+1)
	}
	raw := make([]events.Raw, len(evs))
	for i, ev := range evs {
		raw[i] = events.Raw{Stream: ev.Stream, Revision: ev.Revision, ID: ev.ID, Type: ev.Type, Data: ev.Data, Metadata: ev.Metadata}
	}
	if brk := chain.Verify(raw, chain.Options{}); brk != nil {
		t.Fatalf("hash chain after concurrent appends: %v", brk)
	}
}

func TestStoreDownAndBack(t *testing.T) {
	e := newEnv(t)
	e.register(t, "c6", 6)
	e.store.Stop(t)
	trade := map[string]any{"trade": map[string]any{"code": "6-31-01-03"}}
	sawOpen := false
	for i := 0; i < 6; i++ {
		r := e.do(t, "POST", "/v1/craftsmen/c6/trades", issuer(t, "academy-a"), trade)
		if code, _ := r.Error(t); r.Status != http.StatusServiceUnavailable || code != "UNAVAILABLE" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("store down: %d %s (Retry-After %q)", r.Status, r.Body, r.Header.Get("Retry-After"))
		}
		if bytes.Contains(r.Body, []byte("breaker")) {
			sawOpen = true
		}
	}
	if !sawOpen {
		t.Error("the breaker never opened")
	}
	e.store.Restart(t)
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := e.do(t, "POST", "/v1/craftsmen/c6/trades", issuer(t, "academy-a"), trade, "Idempotency-Key", "after-restart")
		if r.Status == http.StatusCreated {
			break
		}
		if r.Status != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("after restart: %d %s", r.Status, r.Body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := e.count(t, "craftsman-c6"); n != 2 {
		t.Fatalf("%d events after recovery, want 2 (nothing half-written)", n)
	}
}

func TestNationalIDBelongsToOneCraftsman(t *testing.T) {
	e := newEnv(t)
	reg := func(url, id string, n int) commandtest.Response {
		return commandtest.Do(t, "POST", url+"/v1/craftsmen", issuer(t, "a"), map[string]any{
			"craftsmanId": id, "nationalId": nationalID(n), "personal": map[string]any{"name": "周杰"}})
	}
	if r := reg(e.url, "u1", 500); r.Status != 201 {
		t.Fatalf("first registration: %d %s", r.Status, r.Body)
	}
	r := reg(e.url, "u2", 500)
	if code, field := r.Error(t); r.Status != 409 || code != "CONFLICT" || field != "nationalId" {
		t.Fatalf("same number for another craftsman: %d %s", r.Status, r.Body)
	}
	if n := e.count(t, "craftsman-u2"); n != 0 {
		t.Fatalf("refused registration wrote %d events", n)
	}
	// The same craftsman again is a conflict on the craftsman, not the number.
	if r := reg(e.url, "u1", 500); r.Status != 409 || bytes.Contains(r.Body, []byte("nationalId")) {
		t.Fatalf("repeat: %d %s", r.Status, r.Body)
	}
	// A profile change to someone else's number is refused too.
	r = commandtest.Do(t, "PATCH", e.url+"/v1/craftsmen/u1", issuer(t, "a"), map[string]any{"nationalId": nationalID(500)})
	if r.Status != 201 { // its own number: fine
		t.Fatalf("own number: %d %s", r.Status, r.Body)
	}
	e.register(t, "u3", 501) // by academy-a, who may change u3's profile
	r = commandtest.Do(t, "PATCH", e.url+"/v1/craftsmen/u3", issuer(t, "academy-a"), map[string]any{"nationalId": nationalID(500)})
	if code, _ := r.Error(t); r.Status != 409 || code != "CONFLICT" {
		t.Fatalf("someone else's number: %d %s", r.Status, r.Body)
	}

	// A refused registration claims nothing.
	if r := reg(e.url, "u1", 502); r.Status != 409 {
		t.Fatalf("u1 again: %d %s", r.Status, r.Body)
	}
	hash := events.HashNationalID([]byte(registry.DevNationalIDKey), nationalID(502))
	if n := e.count(t, events.NationalIDStream(hash)); n != 0 {
		t.Fatalf("a refused registration left %d reservations", n)
	}
	// A registration that failed after claiming (a race) leaves a
	// reservation; it blocks others for ReservationGrace only.
	seed := command.New(e.store, command.Options{Seal: servicekit.Seal})
	if _, err := seed.Execute(context.Background(), command.Command{Name: "orphan", Stream: events.NationalIDStream(hash),
		Meta: command.Meta{Issuer: "a", Actor: "t"},
		Decide: func(context.Context, command.History) ([]command.Event, error) {
			return []command.Event{{Type: events.TypeNationalIDReserved, Data: events.NationalIDReserved{NationalIDHash: hash, CraftsmanID: "ghost"}}}, nil
		}}); err != nil {
		t.Fatal(err)
	}
	if r := reg(e.url, "u4", 502); r.Status != 409 {
		t.Fatalf("within grace: %d %s", r.Status, r.Body)
	}
	later, err := registry.New(e.store, func() time.Time { return time.Now().Add(registry.ReservationGrace + time.Minute) },
		registry.Options{NationalIDKey: []byte(registry.DevNationalIDKey)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(registry.NewHTTPHandler(later, slog.New(slog.DiscardHandler), auth.DevKey(), registry.HTTPOptions{}))
	defer srv.Close()
	if r := reg(srv.URL, "u4", 502); r.Status != 201 {
		t.Fatalf("after grace: %d %s", r.Status, r.Body)
	}
}

// TestRefusedCommandsClaimNoNumber: a profile change or registration that
// is refused (unknown craftsman, a caller who may not change the profile,
// an idempotency key reused for another number) writes no reservation, so
// the number's rightful owner can still register it.
func TestRefusedCommandsClaimNoNumber(t *testing.T) {
	e := newEnv(t)
	e.register(t, "c2", 2)
	reservations := func(n int) int {
		return e.count(t, events.NationalIDStream(events.HashNationalID([]byte(registry.DevNationalIDKey), nationalID(n))))
	}
	refused := []struct {
		name, method, path string
		body               map[string]any
		key                string
		status             int
		number             int
	}{
		{"profile change by an unrelated issuer", "PATCH", "/v1/craftsmen/c2", map[string]any{"nationalId": nationalID(99)}, "", 403, 99},
		{"profile change of an unknown craftsman", "PATCH", "/v1/craftsmen/ghost", map[string]any{"nationalId": nationalID(98)}, "", 404, 98},
	}
	for _, s := range refused {
		r := e.do(t, s.method, s.path, issuer(t, "academy-z"), s.body)
		if r.Status != s.status {
			t.Fatalf("%s: %d %s, want %d", s.name, r.Status, r.Body, s.status)
		}
		if n := reservations(s.number); n != 0 {
			t.Fatalf("%s: refused, but %d reservation events written", s.name, n)
		}
	}
	// The number's rightful owner registers it right after.
	r := e.do(t, "POST", "/v1/craftsmen", issuer(t, "academy-a"), map[string]any{"craftsmanId": "owner", "nationalId": nationalID(99), "personal": map[string]any{"name": "王"}})
	if r.Status != 201 {
		t.Fatalf("rightful registration: %d %s", r.Status, r.Body)
	}

	// A keyed retry with another number is refused and claims nothing, for
	// a registration and for a profile change.
	body := map[string]any{"craftsmanId": "k1", "nationalId": nationalID(11), "personal": map[string]any{"name": "张"}}
	if r := e.do(t, "POST", "/v1/craftsmen", issuer(t, "academy-a"), body, "Idempotency-Key", "reg-k1"); r.Status != 201 {
		t.Fatalf("keyed registration: %d %s", r.Status, r.Body)
	}
	body["nationalId"] = nationalID(12)
	r = e.do(t, "POST", "/v1/craftsmen", issuer(t, "academy-a"), body, "Idempotency-Key", "reg-k1")
	if code, _ := r.Error(t); r.Status != 422 || code != "FAILED_PRECONDITION" {
		t.Fatalf("same key, other number: %d %s", r.Status, r.Body)
	}
	if n := reservations(12); n != 0 {
		t.Fatalf("same key, other number: %d reservation events written", n)
	}
	if r := e.do(t, "PATCH", "/v1/craftsmen/k1", issuer(t, "academy-a"), map[string]any{"nationalId": nationalID(13)}, "Idempotency-Key", "patch-k1"); r.Status != 201 {
		t.Fatalf("keyed profile change: %d %s", r.Status, r.Body)
	}
	r = e.do(t, "PATCH", "/v1/craftsmen/k1", issuer(t, "academy-a"), map[string]any{"nationalId": nationalID(14)}, "Idempotency-Key", "patch-k1")
	if code, _ := r.Error(t); r.Status != 422 || code != "FAILED_PRECONDITION" {
		t.Fatalf("same key, other number: %d %s", r.Status, r.Body)
	}
	if n := reservations(14); n != 0 {
		t.Fatalf("profile change, same key, other number: %d reservation events written", n)
	}
	// The same keyed requests again replay their first results.
	body["nationalId"] = nationalID(11)
	if r := e.do(t, "POST", "/v1/craftsmen", issuer(t, "academy-a"), body, "Idempotency-Key", "reg-k1"); r.Status != 200 {
		t.Fatalf("keyed registration replayed: %d %s", r.Status, r.Body)
	}
	if r := e.do(t, "PATCH", "/v1/craftsmen/k1", issuer(t, "academy-a"), map[string]any{"nationalId": nationalID(13)}, "Idempotency-Key", "patch-k1"); r.Status != 200 {
		t.Fatalf("keyed profile change replayed: %d %s", r.Status, r.Body)
	}
	if n := e.count(t, "craftsman-k1"); n != 2 {
		t.Fatalf("craftsman-k1 has %d events, want 2", n)
	}
}

func TestPersonalDataSealedAndForgotten(t *testing.T) {
	st := commandtest.StartStore(t)
	kr, err := registry.NewDirKeyring(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := registry.New(st, func() time.Time { return now }, registry.Options{NationalIDKey: []byte(registry.DevNationalIDKey), Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(registry.NewHTTPHandler(svc, slog.New(slog.DiscardHandler), auth.DevKey(), registry.HTTPOptions{}))
	defer srv.Close()
	r := commandtest.Do(t, "POST", srv.URL+"/v1/craftsmen", issuer(t, "a"), map[string]any{
		"craftsmanId": "s1", "nationalId": nationalID(900), "personal": map[string]any{"name": "欧阳娜娜", "phone": "13900000000"}})
	if r.Status != 201 {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	evs, err := st.ReadStream(context.Background(), "craftsman-s1", eventstore.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(evs[0].Data, []byte("欧阳娜娜")) || bytes.Contains(evs[0].Data, []byte("13900000000")) {
		t.Fatalf("personal data in clear: %s", evs[0].Data)
	}
	var p events.CraftsmanRegistered
	if err := json.Unmarshal(evs[0].Data, &p); err != nil || p.SealedPersonal == nil || p.Personal != nil {
		t.Fatalf("event %s (%v)", evs[0].Data, err)
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("sealed event does not validate: %v", err)
	}
	got, err := kr.Open(*p.SealedPersonal)
	if err != nil || got.Name != "欧阳娜娜" || got.Phone != "13900000000" {
		t.Fatalf("open: %+v %v", got, err)
	}
	// A sealed value moved to another key does not open.
	moved := *p.SealedPersonal
	other, _ := kr.Seal("s2", events.Personal{Name: "x"})
	moved.KeyID = other.KeyID
	if _, err := kr.Open(moved); err == nil {
		t.Fatal("a sealed value opened under another craftsman's key")
	}
	// Forgetting is admin-only, needs a reason, records the fact and
	// destroys the key: the event stays, the data is gone.
	forget := func(tok string, body any) commandtest.Response {
		return commandtest.Do(t, "POST", srv.URL+"/v1/craftsmen/s1/forget", tok, body)
	}
	if r := forget(issuer(t, "a"), map[string]any{"reason": "x"}); r.Status != 403 {
		t.Fatalf("issuer forget: %d %s", r.Status, r.Body)
	}
	if r := forget(admin(t), map[string]any{}); r.Status != 400 {
		t.Fatalf("no reason: %d %s", r.Status, r.Body)
	}
	if _, err := kr.Open(*p.SealedPersonal); err != nil {
		t.Fatalf("refused forgets destroyed the key: %v", err)
	}
	if r := forget(admin(t), map[string]any{"reason": "erasure request 118"}); r.Status != 201 {
		t.Fatalf("forget: %d %s", r.Status, r.Body)
	}
	if _, err := kr.Open(*p.SealedPersonal); !errors.Is(err, errs.NotFound) {
		t.Fatalf("after forgetting: %v", err)
	}
	if r := forget(admin(t), map[string]any{"reason": "again"}); r.Status != 200 {
		t.Fatalf("forget again: %d %s", r.Status, r.Body)
	}
	evs, _ = st.ReadStream(context.Background(), "craftsman-s1", eventstore.ReadOptions{})
	if last := evs[len(evs)-1]; last.Type != events.TypePersonalDataErased || len(evs) != 2 {
		t.Fatalf("%d events, last %s", len(evs), last.Type)
	}
	if p, err := events.NewRegistry().Decode(evs[1].Type, evs[1].Data); err != nil || p.(events.PersonalDataErased).Reason != "erasure request 118" {
		t.Fatalf("the erasure does not decode with the catalogue: %v %v", p, err)
	}
	// Forgetting cannot be undone: personal data for a forgotten craftsman
	// is refused, writes nothing and does not bring the key back.
	before := len(evs)
	for _, tok := range []string{issuer(t, "a"), admin(t)} {
		r := commandtest.Do(t, "PATCH", srv.URL+"/v1/craftsmen/s1", tok, map[string]any{"personal": map[string]any{"name": "欧阳娜娜"}})
		if code, field := r.Error(t); r.Status != 422 || code != "FAILED_PRECONDITION" || field != "personal" {
			t.Fatalf("personal data after forgetting: %d %s", r.Status, r.Body)
		}
	}
	if _, err := kr.Seal("s1", events.Personal{Name: "欧阳娜娜"}); !errors.Is(err, errs.FailedPrecondition) {
		t.Fatalf("the keyring sealed for a forgotten craftsman: %v", err)
	}
	if _, err := kr.Open(*p.SealedPersonal); !errors.Is(err, errs.NotFound) {
		t.Fatalf("the key came back: %v", err)
	}
	if r := commandtest.Do(t, "PATCH", srv.URL+"/v1/craftsmen/s1", admin(t), map[string]any{"region": "310000"}); r.Status != 201 {
		t.Fatalf("a profile change without personal data after forgetting: %d %s", r.Status, r.Body)
	}
	if evs, _ = st.ReadStream(context.Background(), "craftsman-s1", eventstore.ReadOptions{}); len(evs) != before+1 {
		t.Fatalf("%d events, want %d", len(evs), before+1)
	}
	// Sealing is deterministic (a re-decided command decides the same event).
	s1, err1 := kr.Seal("s3", events.Personal{Name: "x"})
	s2, err2 := kr.Seal("s3", events.Personal{Name: "x"})
	s3, err3 := kr.Seal("s3", events.Personal{Name: "y"})
	if err := errors.Join(err1, err2, err3); err != nil || *s1 != *s2 || s1.Nonce == s3.Nonce {
		t.Fatalf("sealing: %+v %+v %+v %v", s1, s2, s3, err)
	}
	// A keyed registration with personal data replays (same sealed value).
	body := map[string]any{"craftsmanId": "s4", "nationalId": nationalID(904), "personal": map[string]any{"name": "李娜"}}
	r1 := commandtest.Do(t, "POST", srv.URL+"/v1/craftsmen", issuer(t, "a"), body, "Idempotency-Key", "reg-s4")
	r2 := commandtest.Do(t, "POST", srv.URL+"/v1/craftsmen", issuer(t, "a"), body, "Idempotency-Key", "reg-s4")
	if r1.Status != 201 || r2.Status != 200 {
		t.Fatalf("keyed sealed registration: %d %s / %d %s", r1.Status, r1.Body, r2.Status, r2.Body)
	}
	// A registry that keeps personal data in clear cannot forget.
	e := newEnv(t)
	e.register(t, "s9", 909)
	if r := commandtest.Do(t, "POST", e.url+"/v1/craftsmen/s9/forget", admin(t), map[string]any{"reason": "x"}); r.Status != 422 {
		t.Fatalf("forget in clear: %d %s", r.Status, r.Body)
	}
}

// TestIdempotencyKeyOfAnotherOrganisation: another academy reusing an
// academy's key is not answered with the first academy's result: a
// registration of the same craftsman is refused (409) without claiming
// its national ID number, and a keyed trade entry is its own command.
func TestIdempotencyKeyOfAnotherOrganisation(t *testing.T) {
	e := newEnv(t)
	body := map[string]any{"craftsmanId": "c31", "nationalId": nationalID(31), "personal": map[string]any{"name": "王芳"}}
	if r := e.do(t, "POST", "/v1/craftsmen", issuer(t, "academy-a"), body, "Idempotency-Key", "reg-31"); r.Status != 201 {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	other := map[string]any{"craftsmanId": "c31", "nationalId": nationalID(32), "personal": map[string]any{"name": "王芳"}}
	r := e.do(t, "POST", "/v1/craftsmen", issuer(t, "academy-b"), other, "Idempotency-Key", "reg-31")
	if code, _ := r.Error(t); r.Status != 409 || code != "CONFLICT" {
		t.Fatalf("academy B with A's key: %d %s, want 409", r.Status, r.Body)
	}
	if n := e.count(t, events.NationalIDStream(events.HashNationalID([]byte(registry.DevNationalIDKey), nationalID(32)))); n != 0 {
		t.Fatalf("the refused registration claimed its number (%d events)", n)
	}
	// A's own repeat with another body is refused, not replayed.
	r = e.do(t, "POST", "/v1/craftsmen", issuer(t, "academy-a"), map[string]any{"craftsmanId": "c31", "nationalId": nationalID(31), "region": "310000", "personal": map[string]any{"name": "王芳"}}, "Idempotency-Key", "reg-31")
	if code, _ := r.Error(t); r.Status != 422 || code != "FAILED_PRECONDITION" {
		t.Fatalf("same key, other body: %d %s, want 422", r.Status, r.Body)
	}
	// A's true repeat replays.
	r = e.do(t, "POST", "/v1/craftsmen", issuer(t, "academy-a"), body, "Idempotency-Key", "reg-31")
	var res command.Result
	r.JSON(t, &res)
	if r.Status != 200 || !res.Replayed {
		t.Fatalf("true repeat: %d %s", r.Status, r.Body)
	}
	if n := e.count(t, "craftsman-c31"); n != 1 {
		t.Fatalf("%d events, want 1", n)
	}
}
