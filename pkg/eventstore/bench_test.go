package eventstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

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
		conf, err := esdb.ParseConnectionString(srv.URL())
		if err != nil {
			b.Fatal(err)
		}
		conf.Logger = esdb.NoopLogging()
		db, err := esdb.NewClient(conf)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
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
