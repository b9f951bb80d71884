// Package commandtest is the test harness of the write-side services: the
// embedded store on a loopback port reached over real gRPC through the
// adapter (no mocks), a stop/restart on the same address for breaker
// tests, development tokens, and a small JSON HTTP client.
package commandtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/esdbserver"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// Store is an embedded server and an adapter connected to it.
type Store struct {
	*eventstore.Client
	Server *esdbserver.Server
	dir    string
	addr   string
}

// StartStore starts the embedded server on 127.0.0.1:0 in a temporary
// directory and opens the adapter with a quick breaker (opens after 2
// failures, half-opens after 300 ms, 2 s call timeout). Both are closed
// when the test ends.
func StartStore(t testing.TB) *Store {
	t.Helper()
	s := &Store{dir: t.TempDir(), addr: "127.0.0.1:0"}
	s.start(t)
	s.addr = s.Server.Addr()
	c, err := eventstore.Open(context.Background(), eventstore.Config{URL: s.Server.URL(), Timeout: 2 * time.Second,
		Breaker: eventstore.BreakerConfig{Name: "test", Failures: 2, OpenFor: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	s.Client = c
	t.Cleanup(func() {
		_ = c.Close()
		if s.Server != nil {
			_ = s.Server.Close()
		}
	})
	return s
}

func (s *Store) start(t testing.TB) {
	t.Helper()
	srv, err := esdbserver.Start(esdbserver.Config{DataDir: s.dir, Addr: s.addr, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Server = srv
}

// Stop closes the server (the adapter stays open and fails fast).
func (s *Store) Stop(t testing.TB) {
	t.Helper()
	if err := s.Server.Close(); err != nil {
		t.Fatal(err)
	}
	s.Server = nil
}

// Restart starts the server again on the same address and data.
func (s *Store) Restart(t testing.TB) {
	t.Helper()
	var err error
	for i := 0; i < 50; i++ { // the port may linger for a moment
		s.Server, err = esdbserver.Start(esdbserver.Config{DataDir: s.dir, Addr: s.addr, Insecure: true})
		if err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal(err)
}

// Token mints a development token (auth.DevKey) for role, organisation
// and craftsman (either may be empty).
func Token(t testing.TB, role auth.Role, org, craftsman string) string {
	t.Helper()
	tok, err := auth.Mint(auth.DevKey(), auth.Claims{Subject: string(role) + "-" + org + craftsman + "-user", Role: role, OrgID: org, CraftsmanID: craftsman}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Response is an HTTP answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Error is the error body's code and field.
func (r Response) Error(t testing.TB) (code, field string) {
	t.Helper()
	var b struct {
		Error struct{ Code, Message, Field string }
	}
	r.JSON(t, &b)
	return b.Error.Code, b.Error.Field
}

// Do sends a request: body is JSON-encoded unless it is a string or
// []byte (sent as is); headers are name, value pairs.
func Do(t testing.TB, method, url, token string, body any, headers ...string) Response {
	t.Helper()
	var rd io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Unplaced returns back-fill line results without their positions, to
// compare a file run batched with the same file run line by line: a
// batched line answers its append's position, a line alone its own.
func Unplaced(lines map[int]command.LineResult) map[int]command.LineResult {
	out := make(map[int]command.LineResult, len(lines))
	for k, v := range lines {
		v.Position = nil
		out[k] = v
	}
	return out
}
