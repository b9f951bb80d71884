package esdbserver_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/craftledger/craftledger/pkg/esdbserver"
	"github.com/craftledger/craftledger/pkg/internal/esdbtest"
)

// target is what a contract test talks to: the embedded server, or the real
// KurrentDB named by KURRENTDB_URL.
type target struct {
	client   *esdb.Client
	srv      *esdbserver.Server // nil against a real KurrentDB
	embedded bool
}

func startServer(t testing.TB, cfg esdbserver.Config) *esdbserver.Server {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	srv, err := esdbserver.Start(cfg)
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// connect opens the bare official client on url (closed when t ends).
var connect = esdbtest.Connect

// newTarget starts an insecure embedded server, unless KURRENTDB_URL names a
// real KurrentDB to run the same contract against.
func newTarget(t *testing.T) *target {
	t.Helper()
	if url := os.Getenv("KURRENTDB_URL"); url != "" {
		return &target{client: connect(t, url)}
	}
	srv := startServer(t, esdbserver.Config{Insecure: true})
	return &target{client: connect(t, srv.URL()), srv: srv, embedded: true}
}

// streamName is unique per call, so runs against a shared KurrentDB never collide.
func streamName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func event(typ string, data string) esdb.EventData {
	return esdb.EventData{EventID: uuid.New(), EventType: typ, ContentType: esdb.ContentTypeJson, Data: []byte(data)}
}

func events(n int, typ string) []esdb.EventData {
	out := make([]esdb.EventData, n)
	for i := range out {
		out[i] = event(typ, `{"i":`+itoa(i)+`}`)
	}
	return out
}

func itoa(i int) string {
	return string(appendInt(nil, i))
}

func appendInt(b []byte, i int) []byte {
	if i >= 10 {
		b = appendInt(b, i/10)
	}
	return append(b, byte('0'+i%10))
}

// readAllOf reads a stream to its end (forwards unless opts say otherwise).
func readStream(t testing.TB, c *esdb.Client, stream string, opts esdb.ReadStreamOptions, count uint64) ([]*esdb.ResolvedEvent, error) {
	t.Helper()
	rs, err := c.ReadStream(ctxT(t), stream, opts, count)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []*esdb.ResolvedEvent
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, ev)
	}
}

func errCode(err error) esdb.ErrorCode {
	var e *esdb.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return -1
}
