package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/chain"
	"github.com/craftledger/craftledger/graphql/readmodel"
	"github.com/craftledger/craftledger/graphql/server"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

var scaleTrades = []events.Trade{
	{Code: "6-18-02-04", Name: "welder"}, {Code: "6-20-01-01", Name: "fitter"}, {Code: "6-31-01-03", Name: "electrician"},
	{Code: "6-18-01-01", Name: "turner"}, {Code: "6-29-02-01", Name: "bricklayer"},
}

// population generates a realistic ledger for n craftsmen, ~20 events
// each: registration, employment, trade entry, a dozen training
// completions, the certificates of the levels they reached (ages spread
// over 2005..2024), and for some a competition placement, an honour and
// an innovation. Deterministic for a given n.
func population(tb testing.TB, n int) []eventstore.RecordedEvent {
	tb.Helper()
	out := make([]eventstore.RecordedEvent, 0, n*20)
	var pos uint64
	add := func(stream string, rev *uint64, head *string, p events.Payload, occurred time.Time, issuer string) {
		typ, data, err := events.Encode(p)
		if err != nil {
			tb.Fatal(err)
		}
		sealed, meta, err := chain.Seal(*head, typ, data, events.NewMetadata(typ, occurred, issuer, "import"))
		if err != nil {
			tb.Fatal(err)
		}
		*head = sealed.Hash
		pos += 400
		out = append(out, eventstore.RecordedEvent{Stream: stream, ID: fmt.Sprintf("%032x", pos), Type: typ, Revision: *rev,
			Position: eventstore.Position{Commit: pos, Prepare: pos}, Data: data, Metadata: meta, Created: time.Unix(1_700_000_000+int64(pos/400), 0).UTC()})
		*rev++
	}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("p%07d", i)
		s := events.CraftsmanStream(id)
		var rev uint64
		var head string
		trade := scaleTrades[i%len(scaleTrades)]
		emp := fmt.Sprintf("emp%02d", i%50)
		acad := fmt.Sprintf("acad%02d", i%20)
		start := time.Date(2005+i%15, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC)
		add(s, &rev, &head, events.CraftsmanRegistered{CraftsmanID: id, NationalIDHash: fmt.Sprintf("%064x", i), BirthDate: "1985-05-05", Region: fmt.Sprintf("R%d", i%10), Personal: &events.Personal{Name: "Worker " + id}}, start, emp)
		add(s, &rev, &head, events.EmploymentStarted{CraftsmanID: id, EmploymentID: "e" + id, EmployerOrgID: emp, Trade: trade}, start, emp)
		add(s, &rev, &head, events.TradeEntered{CraftsmanID: id, Trade: trade}, start, emp)
		for k := 0; k < 11; k++ {
			add(s, &rev, &head, events.TrainingCompleted{CraftsmanID: id, AcademyID: acad, CourseID: fmt.Sprintf("course%d", k), Trade: trade, Hours: float64(8 + k%5*8), Mode: "classroom", Passed: true}, start.AddDate(0, 4*k+1, 0), acad)
		}
		top := events.Level(1 + i%5)
		for lv := events.Junior; lv <= top; lv++ {
			add(s, &rev, &head, events.SkillLevelCertified{CraftsmanID: id, Trade: trade, Level: lv, CertificateNumber: fmt.Sprintf("%s-%d", id, lv), Family: events.FamilySkillLevel, EvaluatingOrgID: acad, IssuingOrg: events.Org{ID: acad, Kind: events.IssuerThirdParty}, Route: events.RouteRegular}, start.AddDate(int(lv)*3-2, 0, 0), acad)
		}
		if i%7 == 0 {
			add(s, &rev, &head, events.CompetitionPlaced{CraftsmanID: id, CompetitionID: "city2020", PlacementID: "pl" + id, Tier: events.TierCity, Track: events.TrackEmployees, TeamSize: 1, Trade: trade, Rank: 1 + i%30, Award: events.AwardNone}, start.AddDate(6, 0, 0), "city")
		}
		if i%11 == 0 {
			add(s, &rev, &head, events.HonourConferred{CraftsmanID: id, HonourID: "h" + id, Code: "city_craftsman", Level: "city", ConferringBody: "city union"}, start.AddDate(8, 0, 0), "city")
		}
	}
	return out
}

func heapMB() float64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}

func scaleN() int {
	if v, err := strconv.Atoi(os.Getenv("CRAFTLEDGER_BENCH_CRAFTSMEN")); err == nil && v > 0 {
		return v
	}
	return 20000
}

// BenchmarkScale builds a population of CRAFTSMEN_BENCH_CRAFTSMEN
// craftsmen (default 20,000, ~20 events each) and reports: apply rate,
// heap per craftsman, snapshot write and restart-from-snapshot times, an
// HR population query over everyone, and pathway + eligibility latency
// percentiles under 64 concurrent clients.
func BenchmarkScale(b *testing.B) {
	n := scaleN()
	evs := population(b, n)
	base := heapMB()
	m := readmodel.NewMemory()
	start, cpu0 := time.Now(), cpuTime()
	for i := 0; i < len(evs); i += 4096 {
		j := min(i+4096, len(evs))
		if err := m.Apply(evs[i:j], evs[j-1].Position); err != nil {
			b.Fatal(err)
		}
	}
	applyRate := float64(len(evs)) / time.Since(start).Seconds()
	applyCPU := float64(len(evs)) / (cpuTime() - cpu0).Seconds()
	evs = nil
	heap := heapMB() - base
	dir := b.TempDir()
	snap := filepath.Join(dir, "readmodel.snap")
	t0 := time.Now()
	if err := m.WriteSnapshot(snap, "bench"); err != nil {
		b.Fatal(err)
	}
	writeTook := time.Since(t0)
	fi, _ := os.Stat(snap)
	t0, c0 := time.Now(), cpuTime()
	back := readmodel.NewMemory()
	if err := back.LoadSnapshot(snap, "bench"); err != nil {
		b.Fatal(err)
	}
	loadTook, loadCPU := time.Since(t0), cpuTime()-c0
	b.Logf("%d craftsmen, %d events: apply %.0f events/s (%.0f per CPU-second); heap %.0f MB (%.1f KB/craftsman); snapshot %.0f MB written in %s, restart from it in %s (%s CPU)",
		n, m.Len(), applyRate, applyCPU, heap, heap*1024/float64(n), float64(fi.Size())/(1<<20), writeTook.Round(time.Millisecond), loadTook.Round(time.Millisecond), loadCPU.Round(time.Millisecond))
	back = nil

	l := startStore(b)
	srv, err := server.New(server.Config{Store: l.store, Key: devKey(), Limits: server.Limits{}})
	if err != nil {
		b.Fatal(err)
	}
	// Fill the server's model directly (no projector): the store stays empty.
	snapModel := srv.Model()
	if err := snapModel.LoadSnapshot(snap, "bench"); err != nil {
		b.Fatal(err)
	}
	hs := newHTTP(srv)
	defer hs.Close()
	tok := token(b, auditor)
	post := func(c *http.Client, q string, vars map[string]any) (time.Duration, []byte) {
		body, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
		req, _ := http.NewRequest(http.MethodPost, hs.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		t0 := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return time.Since(t0), raw
	}
	c := &http.Client{}
	popQ := `{ populationStats(trade: "6-18-02-04") { total byLevel { key count } } craftsmen(trade: "6-18-02-04", minLevel: "senior", sort: "level_desc", first: 50) { totalCount nodes { id } } }`
	var popTimes, popCPU []time.Duration
	for i := 0; i < 5; i++ {
		c0 := cpuTime()
		d, raw := post(c, popQ, nil)
		popCPU = append(popCPU, cpuTime()-c0)
		if bytes.Contains(raw, []byte(`"errors"`)) {
			b.Fatalf("population: %s", raw)
		}
		popTimes = append(popTimes, d)
	}
	eligQ := `{ craftsmen(trade: "6-18-02-04", eligibleFor: "technician", first: 50) { totalCount nodes { id eligibility { eligible policyVersion } } } }`
	var eligTimes, eligCPU []time.Duration
	for i := 0; i < 4; i++ {
		c0 := cpuTime()
		d, raw := post(c, eligQ, nil)
		eligCPU = append(eligCPU, cpuTime()-c0)
		if bytes.Contains(raw, []byte(`"errors"`)) {
			b.Fatalf("eligible population: %s", raw)
		}
		eligTimes = append(eligTimes, d)
	}
	sort.Slice(popTimes, func(i, j int) bool { return popTimes[i] < popTimes[j] })
	sort.Slice(popCPU, func(i, j int) bool { return popCPU[i] < popCPU[j] })
	r := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	b.Logf("HR population query over all %d (stats + sorted page of seniors): median %s (%s CPU); eligible-for-technician over the whole trade: first %s (%s CPU; index built), then %s, %s, %s (%s CPU)",
		n, popTimes[2].Round(time.Microsecond), popCPU[2].Round(time.Microsecond), r(eligTimes[0]), r(eligCPU[0]), r(eligTimes[1]), r(eligTimes[2]), r(eligTimes[3]), r(eligCPU[3]))

	pathQ := `query($id: ID!) { craftsman(id: $id) { trades { level { api } }
		pathway(trade: "6-18-02-04") { current { api } next { target { api } eligible earliestDate policyVersion routes { id met missing } } }
		eligibility(trade: "6-18-02-04", target: "technician") { eligible earliestDate policy policyVersion routes { id met criteria { kind required actual met evidence { stream revision } } } } } }`
	// Steady state: every craftsman decoded once (a snapshot load leaves
	// that to the first query of each).
	for i := 0; i < n; i++ {
		snapModel.Records(fmt.Sprintf("p%07d", i))
	}
	b.Run("pathway+eligibility", func(b *testing.B) {
		lat := make(chan time.Duration, b.N+64)
		b.SetParallelism(32)
		b.ResetTimer()
		cpu0 := cpuTime()
		var clients atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			// Each client walks the welders (every 5th craftsman) from its
			// own starting point, so that clients do not ask for the same
			// craftsman at the same moment (a per-craftsman cache would
			// otherwise answer 63 of 64 requests).
			i := int(clients.Add(1)) * (n / 5 / 64)
			for pb.Next() {
				id := fmt.Sprintf("p%07d", (i*5)%n)
				d, raw := post(c, pathQ, map[string]any{"id": id})
				if !bytes.Contains(raw, []byte(`"pathway"`)) || bytes.Contains(raw, []byte(`"errors"`)) {
					b.Errorf("answer %s", raw)
					return
				}
				lat <- d
				i++
			}
		})
		b.StopTimer()
		// Server and the 64 HTTP clients share this process's CPU time.
		b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/query")
		close(lat)
		var all []time.Duration
		for d := range lat {
			all = append(all, d)
		}
		sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
		if len(all) > 0 {
			b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
	})
}
