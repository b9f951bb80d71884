package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/esdbserver"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// BenchmarkAppend compares one-event appends through the adapter (breaker,
// deadline, classification) with the bare official client, against the
// embedded server, with 16 concurrent writers (b.SetParallelism).
//
//	go test -run '^$' -bench Append -benchtime 3s ./pkg/eventstore/
func BenchmarkAppend(b *testing.B) {
	srv, err := esdbserver.Start(esdbserver.Config{DataDir: b.TempDir(), Addr: "127.0.0.1:0", Insecure: true})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	data := []byte(`{"hours":8,"course":"welding basics"}`)

	b.Run("adapter", func(b *testing.B) {
		c, err := eventstore.Open(ctx, eventstore.Config{URL: srv.URL()})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		var n atomic.Int64
		b.SetParallelism(8) // 16 writers on 2 cores
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			stream := fmt.Sprintf("bench-adapter-%d", n.Add(1))
			for pb.Next() {
				if _, err := c.Append(ctx, stream, eventstore.Any(), eventstore.EventData{Type: "Bench.v1", Data: data}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("official-client", func(b *testing.B) {
		db := connectRaw(b, srv.URL())
		var n atomic.Int64
		b.SetParallelism(8)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			stream := fmt.Sprintf("bench-raw-%d", n.Add(1))
			for pb.Next() {
				ev := esdb.EventData{EventID: uuid.New(), EventType: "Bench.v1", ContentType: esdb.ContentTypeJson, Data: data}
				if _, err := db.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{}, ev); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkSubscribeCatchUp measures catch-up delivery of a $all
// subscription through the adapter and through the bare client: b.N events
// are stored first (batches of 100, not timed), then read from the start
// until caught up. Reported as events/s.
//
//	go test -run '^$' -bench SubscribeCatchUp -benchtime 200000x ./pkg/eventstore/
func BenchmarkSubscribeCatchUp(b *testing.B) {
	b.Run("adapter", func(b *testing.B) {
		_, c := storeWith(b, b.N)
		ctx := context.Background()
		sub, err := c.SubscribeAll(ctx, eventstore.SubscribeOptions{})
		if err != nil {
			b.Fatal(err)
		}
		defer sub.Close()
		b.ResetTimer()
		n := 0
		for {
			m, err := sub.Recv(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if m.Event != nil {
				n++
			}
			if m.CaughtUp {
				break
			}
		}
		b.StopTimer()
		if n < b.N {
			b.Fatalf("caught up after %d events, stored %d", n, b.N)
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("official-client", func(b *testing.B) {
		url, _ := storeWith(b, b.N)
		ctx := context.Background()
		db := connectRaw(b, url)
		sub, err := db.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: esdb.Start{}, Filter: esdb.ExcludeSystemEventsFilter()})
		if err != nil {
			b.Fatal(err)
		}
		defer sub.Close()
		b.ResetTimer()
		n := 0
		for {
			ev := sub.Recv()
			if ev.SubscriptionDropped != nil {
				b.Fatal(ev.SubscriptionDropped.Error)
			}
			if ev.EventAppeared != nil {
				n++
			}
			if ev.CaughtUp != nil {
				break
			}
		}
		b.StopTimer()
		if n < b.N {
			b.Fatalf("caught up after %d events, stored %d", n, b.N)
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	})
}

// storeWith starts a server holding n events and an adapter client on it.
func storeWith(b *testing.B, n int) (string, *eventstore.Client) {
	b.Helper()
	srv, err := esdbserver.Start(esdbserver.Config{DataDir: b.TempDir(), Addr: "127.0.0.1:0", Insecure: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Close() })
	ctx := context.Background()
	c, err := eventstore.Open(ctx, eventstore.Config{URL: srv.URL(), Timeout: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	data := []byte(`{"hours":8,"course":"welding basics"}`)
	batch := make([]eventstore.EventData, 100)
	for i := 0; i < n; i += len(batch) {
		k := min(len(batch), n-i)
		for j := range batch[:k] {
			batch[j] = eventstore.EventData{Type: "Bench.v1", Data: data}
		}
		if _, err := c.Append(ctx, fmt.Sprintf("bench-%d", i%1000), eventstore.Any(), batch[:k]...); err != nil {
			b.Fatal(err)
		}
	}
	return srv.URL(), c
}

// BenchmarkCall measures one store call at a time — an append of one event,
// a read of a three-event stream, a read of a stream that does not exist
// (errs.NotFound) — through the adapter and through the bare official
// client, against the embedded server in the same process. The difference
// of the two paths' allocs/op and ns/op is what the adapter adds per call
// (breaker, deadline, worker, conversion, classification).
//
//	go test -run '^$' -bench Call -benchmem -benchtime 20000x ./pkg/eventstore/
func BenchmarkCall(b *testing.B) {
	url, c := storeWith(b, 0)
	db := connectRaw(b, url)
	ctx := context.Background()
	data := []byte(`{"hours":8,"course":"welding basics"}`)
	three := []eventstore.EventData{{Type: "Bench.v1", Data: data}, {Type: "Bench.v1", Data: data}, {Type: "Bench.v1", Data: data}}
	if _, err := c.Append(ctx, "bench-three", eventstore.NoStream(), three...); err != nil {
		b.Fatal(err)
	}
	b.Run("append/adapter", func(b *testing.B) {
		for b.Loop() {
			if _, err := c.Append(ctx, "bench-append-adapter", eventstore.Any(), eventstore.EventData{Type: "Bench.v1", Data: data}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("append/official-client", func(b *testing.B) {
		for b.Loop() {
			ev := esdb.EventData{EventID: uuid.New(), EventType: "Bench.v1", ContentType: esdb.ContentTypeJson, Data: data}
			if _, err := db.AppendToStream(ctx, "bench-append-raw", esdb.AppendToStreamOptions{}, ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read/adapter", func(b *testing.B) {
		for b.Loop() {
			if evs, err := c.ReadStream(ctx, "bench-three", eventstore.ReadOptions{}); err != nil || len(evs) != 3 {
				b.Fatal(len(evs), err)
			}
		}
	})
	b.Run("read/official-client", func(b *testing.B) {
		for b.Loop() {
			rs, err := db.ReadStream(ctx, "bench-three", esdb.ReadStreamOptions{From: esdb.Start{}}, 1<<62)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for {
				ev, err := rs.Recv()
				if err != nil {
					break
				}
				_ = eventstore.RecordedEvent{Stream: ev.Event.StreamID, ID: ev.Event.EventID.String(), Type: ev.Event.EventType, Data: ev.Event.Data}
				n++
			}
			rs.Close()
			if n != 3 {
				b.Fatal(n)
			}
		}
	})
	b.Run("missing/adapter", func(b *testing.B) {
		for b.Loop() {
			if _, err := c.ReadStream(ctx, "bench-missing", eventstore.ReadOptions{}); !errors.Is(err, errs.NotFound) {
				b.Fatal(err)
			}
		}
	})
	b.Run("missing/official-client", func(b *testing.B) {
		for b.Loop() {
			rs, err := db.ReadStream(ctx, "bench-missing", esdb.ReadStreamOptions{From: esdb.Start{}}, 1<<62)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := rs.Recv(); err == nil {
				b.Fatal("read a missing stream")
			}
			rs.Close()
		}
	})
}
