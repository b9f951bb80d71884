package pgcompare

import (
	"context"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/craftledger/craftledger/pkg/esdbserver"
	"github.com/craftledger/craftledger/pkg/gctune"
)

// backend is one event store under test.
type backend interface {
	appendEvents(ctx context.Context, stream string, n int) error
	readAll(ctx context.Context) (int, error)
	// latency appends one event and returns how long until a live
	// subscriber had it.
	latency(ctx context.Context) (time.Duration, error)
}

func payload(i int) []byte {
	return []byte(fmt.Sprintf(`{"craftsman":"c-%d","skill":"welding","level":3}`, i))
}

// --- the embedded store, through the official client ---

type storeBackend struct {
	c   *esdb.Client
	sub *esdb.Subscription
}

func newStore(b *testing.B) *storeBackend {
	// The collector settings bin/eventstore runs with (PostgreSQL's side
	// keeps Go's default, as a Go team would run it).
	b.Cleanup(gctune.Saved())
	esdbserver.TuneGC(os.LookupEnv)
	srv, err := esdbserver.Start(esdbserver.Config{DataDir: b.TempDir(), Addr: "127.0.0.1:0", Insecure: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	conf, err := esdb.ParseConnectionString(srv.URL())
	if err != nil {
		b.Fatal(err)
	}
	conf.Logger = esdb.NoopLogging()
	c, err := esdb.NewClient(conf)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return &storeBackend{c: c}
}

func (s *storeBackend) appendEvents(ctx context.Context, stream string, n int) error {
	evs := make([]esdb.EventData, n)
	for i := range evs {
		evs[i] = esdb.EventData{EventID: uuid.New(), EventType: "Bench.v1", ContentType: esdb.ContentTypeJson, Data: payload(i)}
	}
	_, err := s.c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{}, evs...)
	return err
}

func (s *storeBackend) readAll(ctx context.Context) (int, error) {
	rs, err := s.c.ReadAll(ctx, esdb.ReadAllOptions{}, math.MaxUint64)
	if err != nil {
		return 0, err
	}
	defer rs.Close()
	n := 0
	for {
		if _, err := rs.Recv(); err != nil {
			return n, nil
		}
		n++
	}
}

func (s *storeBackend) latency(ctx context.Context) (time.Duration, error) {
	if s.sub == nil {
		sub, err := s.c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: esdb.End{}})
		if err != nil {
			return 0, err
		}
		for ev := sub.Recv(); ev.CaughtUp == nil; ev = sub.Recv() {
			if ev.SubscriptionDropped != nil {
				return 0, ev.SubscriptionDropped.Error
			}
		}
		s.sub = sub
	}
	id := uuid.New()
	start := time.Now()
	if _, err := s.c.AppendToStream(ctx, "latency", esdb.AppendToStreamOptions{}, esdb.EventData{EventID: id, EventType: "Ping", ContentType: esdb.ContentTypeJson, Data: []byte("{}")}); err != nil {
		return 0, err
	}
	for {
		ev := s.sub.Recv()
		if ev.SubscriptionDropped != nil {
			return 0, ev.SubscriptionDropped.Error
		}
		if ev.EventAppeared != nil && ev.EventAppeared.Event.EventID == id {
			return time.Since(start), nil
		}
	}
}

// --- PostgreSQL ---

type pgBackend struct {
	pool   *pgxpool.Pool
	listen *pgx.Conn
}

const schema = `
DROP TABLE IF EXISTS events;
CREATE TABLE events (
	global_pos bigserial PRIMARY KEY,
	stream     text        NOT NULL,
	revision   bigint      NOT NULL,
	id         uuid        NOT NULL,
	type       text        NOT NULL,
	data       bytea       NOT NULL,
	metadata   bytea       NOT NULL DEFAULT '',
	created    timestamptz NOT NULL DEFAULT now(),
	UNIQUE (stream, revision)
);`

func newPG(b *testing.B) *pgBackend {
	url := os.Getenv("PG_URL")
	if url == "" {
		b.Skip("PG_URL not set: run ./run.sh")
	}
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = 80
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, schema); err != nil {
		b.Fatal(err)
	}
	return &pgBackend{pool: pool}
}

// appendEvents is one transaction: find the stream's revision, insert the
// events after it (the unique key rejects a concurrent writer), notify.
func (p *pgBackend) appendEvents(ctx context.Context, stream string, n int) error {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	var last int64
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(revision), -1) FROM events WHERE stream = $1`, stream).Scan(&last); err != nil {
		return err
	}
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{stream, last + 1 + int64(i), uuid.New(), "Bench.v1", payload(i)}
	}
	var pos int64
	if n == 1 {
		err = tx.QueryRow(ctx, `INSERT INTO events (stream, revision, id, type, data) VALUES ($1, $2, $3, $4, $5) RETURNING global_pos`, rows[0]...).Scan(&pos)
	} else {
		args := []any{}
		q := `INSERT INTO events (stream, revision, id, type, data) VALUES `
		for i, r := range rows {
			if i > 0 {
				q += ","
			}
			q += fmt.Sprintf("($%d,$%d,$%d,$%d,$%d)", 5*i+1, 5*i+2, 5*i+3, 5*i+4, 5*i+5)
			args = append(args, r...)
		}
		err = tx.QueryRow(ctx, q+` RETURNING global_pos`, args...).Scan(&pos)
	}
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `SELECT pg_notify('events', $1)`, strconv.FormatInt(pos, 10)); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

type pgEvent struct {
	pos, rev       int64
	stream, typ    string
	id             uuid.UUID
	data, metadata []byte
	created        time.Time
}

func (p *pgBackend) readAll(ctx context.Context) (int, error) {
	rows, err := p.pool.Query(ctx, `SELECT global_pos, stream, revision, id, type, data, metadata, created FROM events ORDER BY global_pos`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var e pgEvent
		if err := rows.Scan(&e.pos, &e.stream, &e.rev, &e.id, &e.typ, &e.data, &e.metadata, &e.created); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// latency: LISTEN on a dedicated connection; on a notification fetch the
// event it names, as a subscriber would.
func (p *pgBackend) latency(ctx context.Context) (time.Duration, error) {
	if p.listen == nil {
		c, err := pgx.Connect(ctx, p.pool.Config().ConnConfig.ConnString())
		if err != nil {
			return 0, err
		}
		if _, err := c.Exec(ctx, `LISTEN events`); err != nil {
			return 0, err
		}
		p.listen = c
	}
	start := time.Now()
	if err := p.appendEvents(ctx, "latency", 1); err != nil {
		return 0, err
	}
	n, err := p.listen.WaitForNotification(ctx)
	if err != nil {
		return 0, err
	}
	var e pgEvent
	if err := p.listen.QueryRow(ctx, `SELECT global_pos, stream, revision, id, type, data, metadata, created FROM events WHERE global_pos = $1`, n.Payload).
		Scan(&e.pos, &e.stream, &e.rev, &e.id, &e.typ, &e.data, &e.metadata, &e.created); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

var backends = []struct {
	name string
	open func(*testing.B) backend
}{
	{"store", func(b *testing.B) backend { return newStore(b) }},
	{"postgres", func(b *testing.B) backend { return newPG(b) }},
}

func BenchmarkAppend(b *testing.B) {
	for _, writers := range []int{1, 16, 64} {
		for _, perAppend := range []int{1, 10} {
			for _, be := range backends {
				b.Run(fmt.Sprintf("writers=%d/events=%d/%s", writers, perAppend, be.name), func(b *testing.B) {
					db := be.open(b)
					var next atomic.Int64
					var wg sync.WaitGroup
					b.ResetTimer()
					start := time.Now()
					for w := 0; w < writers; w++ {
						wg.Add(1)
						go func(w int) {
							defer wg.Done()
							for next.Add(1) <= int64(b.N) {
								if err := db.appendEvents(context.Background(), fmt.Sprintf("bench-%d", w), perAppend); err != nil {
									b.Error(err)
									return
								}
							}
						}(w)
					}
					wg.Wait()
					secs := time.Since(start).Seconds()
					b.ReportMetric(float64(b.N)/secs, "appends/s")
					b.ReportMetric(float64(b.N*perAppend)/secs, "events/s")
				})
			}
		}
	}
}

func BenchmarkReadAll(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			db := be.open(b)
			const total, batch = 200_000, 500
			var wg sync.WaitGroup
			for w := 0; w < 8; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for i := w; i < total/batch; i += 8 {
						if err := db.appendEvents(context.Background(), fmt.Sprintf("fill-%d", i), batch); err != nil {
							b.Error(err)
						}
					}
				}(w)
			}
			wg.Wait()
			b.ResetTimer()
			start := time.Now()
			n := 0
			for i := 0; i < b.N; i++ {
				got, err := db.readAll(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				n += got
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
		})
	}
}

func BenchmarkSubscriptionLatency(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			db := be.open(b)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				d, err := db.latency(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, d)
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
		})
	}
}
