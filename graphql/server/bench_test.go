package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/chain"
	"github.com/craftledger/craftledger/graphql/projector"
	"github.com/craftledger/craftledger/graphql/readmodel"
	"github.com/craftledger/craftledger/graphql/server"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// synthetic returns n sealed craftsman events (8 per craftsman) as the
// store would deliver them, without a store.
func synthetic(b *testing.B, n int) []eventstore.RecordedEvent {
	b.Helper()
	out := make([]eventstore.RecordedEvent, 0, n)
	heads := map[string]string{}
	revs := map[string]uint64{}
	for i := 0; len(out) < n; i++ {
		id := fmt.Sprintf("b%07d", i/8)
		var p events.Payload
		switch i % 8 {
		case 0:
			p = events.CraftsmanRegistered{CraftsmanID: id, NationalIDHash: strings.Repeat("ab", 32), Region: "HLJ", Personal: &events.Personal{Name: id}}
		case 1:
			p = events.EmploymentStarted{CraftsmanID: id, EmploymentID: "e" + id, EmployerOrgID: "emp1", Trade: welder}
		case 2, 3, 4:
			p = events.TrainingCompleted{CraftsmanID: id, AcademyID: "acad1", CourseID: "c", Trade: welder, Hours: 8, Mode: "classroom", Passed: true}
		default:
			p = events.SkillLevelCertified{CraftsmanID: id, Trade: welder, Level: events.Level(i%8 - 4), CertificateNumber: "n" + id, Family: events.FamilySkillLevel, EvaluatingOrgID: "acad1", IssuingOrg: events.Org{ID: "acad1", Kind: events.IssuerThirdParty}, Route: events.RouteRegular}
		}
		typ, data, _ := events.Encode(p)
		stream := events.CraftsmanStream(id)
		sealed, meta, err := chain.Seal(heads[stream], typ, data, events.NewMetadata(typ, time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC), "acad1", "u"))
		if err != nil {
			b.Fatal(err)
		}
		heads[stream] = sealed.Hash
		pos := uint64(len(out)+1) * 100
		out = append(out, eventstore.RecordedEvent{Stream: stream, ID: fmt.Sprintf("%032x", len(out)), Type: typ, Revision: revs[stream],
			Position: eventstore.Position{Commit: pos, Prepare: pos}, Data: data, Metadata: meta, Created: time.Unix(int64(pos), 0)})
		revs[stream]++
	}
	return out
}

// BenchmarkProjectionApply measures the read model's apply rate: decode,
// hash-chain verification, indexing and the per-craftsman summary, in
// batches of 4096 as the projector applies them.
func BenchmarkProjectionApply(b *testing.B) {
	evs := synthetic(b, b.N)
	m := readmodel.NewMemory()
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for i := 0; i < len(evs); i += 4096 {
		j := min(i+4096, len(evs))
		if err := m.Apply(evs[i:j], evs[j-1].Position); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(evs))/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64(len(evs))/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
}

// cpuTime is the process's user+system CPU time: work per CPU-second is a
// figure the shared machine's load does not distort.
func cpuTime() time.Duration {
	user, sys := rusage()
	return user + sys
}

// rusage is the process's user and system CPU time so far (0, 0 when it
// cannot be read).
func rusage() (user, sys time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// BenchmarkCatchUpOverGRPC measures a projector catching up from zero
// over real gRPC from the embedded store (store read + transfer + apply),
// and the filtered subscription alone:
// a generated population (CRAFTLEDGER_BENCH_CATCHUP craftsmen, default
// 2,000, ~17 events each) is appended one stream per append, then each
// iteration projects all of it into a fresh model.
func BenchmarkCatchUpOverGRPC(b *testing.B) {
	l := startStore(b)
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("CRAFTLEDGER_BENCH_CATCHUP")); err == nil && v > 0 {
		n = v
	}
	evs := population(b, n)
	ctx := context.Background()
	for i := 0; i < len(evs); {
		j := i
		for j < len(evs) && evs[j].Stream == evs[i].Stream {
			j++
		}
		batch := make([]eventstore.EventData, 0, j-i)
		for _, e := range evs[i:j] {
			batch = append(batch, eventstore.EventData{Type: e.Type, Data: e.Data, Metadata: e.Metadata})
		}
		res, err := l.store.Append(ctx, evs[i].Stream, eventstore.NoStream(), batch...)
		if err != nil {
			b.Fatal(err)
		}
		l.last = res.Position
		i = j
	}
	// The subscription alone (store read + gRPC + adapter, same filter,
	// nothing applied): what bounds the projector from above.
	b.Run("subscription", func(b *testing.B) {
		total := 0
		start, cpu0 := time.Now(), cpuTime()
		for i := 0; i < b.N; i++ {
			sub, err := l.store.SubscribeAll(ctx, eventstore.SubscribeOptions{Filter: &eventstore.Filter{Prefixes: readmodel.Prefixes()}})
			if err != nil {
				b.Fatal(err)
			}
			for {
				m, err := sub.Recv(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if m.Event != nil {
					total++
				}
				if m.CaughtUp {
					break
				}
			}
			_ = sub.Close()
		}
		b.ReportMetric(float64(total)/time.Since(start).Seconds(), "events/s")
		b.ReportMetric(float64(total)/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
	})
	b.Run("projector", func(b *testing.B) {
		total := 0
		start, cpu0 := time.Now(), cpuTime()
		for i := 0; i < b.N; i++ {
			m := readmodel.NewMemory()
			p, err := projector.New(projector.Config{Store: l.store, Model: m})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- p.Run(ctx) }()
			wctx, wcancel := context.WithTimeout(ctx, 10*time.Minute)
			if err := p.WaitFor(wctx, l.last); err != nil {
				b.Fatal(err)
			}
			wcancel()
			cancel()
			<-done
			total += m.Len()
		}
		b.ReportMetric(float64(total)/time.Since(start).Seconds(), "events/s")
		// The store runs in this process: CPU time counts both ends.
		b.ReportMetric(float64(total)/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
	})
}

const benchQuery = `query($id: ID!) { craftsman(id: $id) { id name region
	trades { trade { code name } level { api rank } since evidence { stream revision } }
	certificates { number level { api } issuedOn }
	training { totalHours count } } }`

// plainView is the same data the GraphQL query returns, for the plain
// encoding/json handler.
type plainView struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Region string `json:"region"`
	Trades []struct {
		Trade events.Trade `json:"trade"`
		Level struct {
			API  string `json:"api"`
			Rank int    `json:"rank"`
		} `json:"level"`
		Since    time.Time  `json:"since"`
		Evidence events.Ref `json:"evidence"`
	} `json:"trades"`
	Certificates []struct {
		Number   string    `json:"number"`
		Level    string    `json:"level"`
		IssuedOn time.Time `json:"issuedOn"`
	} `json:"certificates"`
	Training struct {
		TotalHours float64 `json:"totalHours"`
		Count      int     `json:"count"`
	} `json:"training"`
}

// plainHandler does the same work as the GraphQL path: verifies the
// token, checks the caller may read the record, reads the model, encodes.
func plainHandler(m *readmodel.Memory) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := auth.FromRequest(auth.DevKey(), r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		id := r.URL.Query().Get("id")
		v, s, ok := m.Craftsman(id, time.Time{}, time.Time{})
		if !ok {
			http.NotFound(w, r)
			return
		}
		if !auth.CanRead(c, id, s.Orgs()...) {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		out := plainView{ID: v.ID, Name: v.Name, Region: v.Region}
		for _, t := range v.Trades {
			e := out.Trades
			e = append(e, struct {
				Trade events.Trade `json:"trade"`
				Level struct {
					API  string `json:"api"`
					Rank int    `json:"rank"`
				} `json:"level"`
				Since    time.Time  `json:"since"`
				Evidence events.Ref `json:"evidence"`
			}{Trade: t.Trade, Since: t.Since, Evidence: t.Evidence})
			e[len(e)-1].Level.API, e[len(e)-1].Level.Rank = t.Level.String(), int(t.Level)
			out.Trades = e
		}
		for _, r := range v.Effective {
			switch p := r.Payload.(type) {
			case events.SkillLevelCertified:
				out.Certificates = append(out.Certificates, struct {
					Number   string    `json:"number"`
					Level    string    `json:"level"`
					IssuedOn time.Time `json:"issuedOn"`
				}{p.CertificateNumber, p.Level.String(), r.Meta.OccurredAt})
			case events.TrainingCompleted:
				out.Training.TotalHours += p.Hours
				out.Training.Count++
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"craftsman": out}})
	})
}

// BenchmarkCraftsmanQuery compares a craftsman query through GraphQL with
// a plain encoding/json handler serving the same data from the same read
// model, both over real HTTP, 64 concurrent clients.
func BenchmarkCraftsmanQuery(b *testing.B) {
	l := startStore(b)
	seed(l, 64)
	h := startServer(b, l, "", server.Limits{})
	h.caughtUp()
	tok := token(b, auditor)
	plain := httptest.NewServer(plainHandler(h.srv.Model()))
	defer plain.Close()
	body := func(i int) string {
		v, _ := json.Marshal(map[string]any{"query": benchQuery, "variables": map[string]any{"id": fmt.Sprintf("c%03d", i%64)}})
		return string(v)
	}
	run := func(b *testing.B, do func(c *http.Client, i int) (*http.Response, error)) {
		b.SetParallelism(32) // 2 cores × 32 = 64 clients
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			i := 0
			for pb.Next() {
				resp, err := do(c, i)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
				i++
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
	}
	// In process: the two handlers' own cost, without sockets (the load
	// generator shares the machine with the server in the HTTP variants).
	inProcess := func(b *testing.B, h http.Handler, req func(i int) *http.Request) {
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req(i))
				if rec.Code != http.StatusOK {
					b.Errorf("status %d: %s", rec.Code, rec.Body)
					return
				}
				i++
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
	}
	plainH := plainHandler(h.srv.Model())
	b.Run("in-process/graphql", func(b *testing.B) {
		inProcess(b, h.srv.Handler(), func(i int) *http.Request {
			req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body(i)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tok)
			return req
		})
	})
	b.Run("in-process/plain-json", func(b *testing.B) {
		inProcess(b, plainH, func(i int) *http.Request {
			req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/?id=c%03d", i%64), nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			return req
		})
	})
	// Interleaved: each iteration asks both handlers for the same craftsman,
	// one after the other, so both see the same machine load; the ratio is
	// of their summed wall times.
	b.Run("in-process/interleaved", func(b *testing.B) {
		var gq, pl time.Duration
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			for k, h := range []http.Handler{h.srv.Handler(), plainH} {
				var req *http.Request
				if k == 0 {
					req = httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body(i)))
					req.Header.Set("Content-Type", "application/json")
				} else {
					req = httptest.NewRequest(http.MethodGet, fmt.Sprintf("/?id=c%03d", i%64), nil)
				}
				req.Header.Set("Authorization", "Bearer "+tok)
				rec := httptest.NewRecorder()
				t0 := time.Now()
				h.ServeHTTP(rec, req)
				d := time.Since(t0)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
				if k == 0 {
					gq += d
				} else {
					pl += d
				}
			}
		}
		b.ReportMetric(float64(gq.Microseconds())/float64(b.N), "graphql-µs/op")
		b.ReportMetric(float64(pl.Microseconds())/float64(b.N), "plain-µs/op")
		b.ReportMetric(float64(gq)/float64(pl), "ratio")
	})
	b.Run("graphql", func(b *testing.B) {
		run(b, func(c *http.Client, i int) (*http.Response, error) {
			req, _ := http.NewRequest(http.MethodPost, h.http.URL+"/graphql", strings.NewReader(body(i)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tok)
			return c.Do(req)
		})
	})
	b.Run("plain-json", func(b *testing.B) {
		run(b, func(c *http.Client, i int) (*http.Response, error) {
			req, _ := http.NewRequest(http.MethodGet, plain.URL+fmt.Sprintf("/?id=c%03d", i%64), nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			return c.Do(req)
		})
	})
}

func devKey() auth.Key { return auth.DevKey() }

func newHTTP(s *server.Server) *httptest.Server { return httptest.NewServer(s.Handler()) }
