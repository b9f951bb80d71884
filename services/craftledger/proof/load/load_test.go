package load_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/services/craftledger/app"
	"github.com/craftledger/craftledger/services/craftledger/proof/load"
	"github.com/craftledger/craftledger/services/registry"
)

// TestHarnessAgainstAllInOne runs a short mixed workload against the
// all-in-one in-process: every operation answers 2xx, the read operations
// see what the commands wrote (HR sees the academy's craftsmen, the audit
// reads their streams), and the SVG is well-formed with one line per
// operation in each latency panel.
func TestHarnessAgainstAllInOne(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the all-in-one and runs load for a few seconds")
	}
	ctx := context.Background()
	l, err := load.StartLocal(ctx, t.TempDir(), "", 0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	}()
	c, err := load.NewClient(l.App.BaseURL(), auth.DevKey(), "acad-load", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	res, err := load.Run(ctx, c, load.Config{Rate: 60, Duration: 3 * time.Second, Pool: 20, RunID: "t1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + res.Table())
	for _, op := range load.Ops {
		o := res.Ops[op]
		if o.OK == 0 || o.Failed != 0 {
			t.Errorf("%s: %d ok, %d failed (%v)", op, o.OK, o.Failed, o.Statuses)
		}
		if o.Hist.TotalCount() != o.OK {
			t.Errorf("%s: histogram holds %d values for %d answers", op, o.Hist.TotalCount(), o.OK)
		}
	}
	if got := res.Total.OK + res.Total.Failed + res.Total.Dropped; got != 180 {
		t.Errorf("scheduled %d operations at 60/s for 3 s, want 180", got)
	}

	// The HR population query sees the harness's craftsmen once they trained
	// at its academy; the registrations are all there for the auditor.
	g, err := c.GraphQL(ctx, c.HR, load.PopulationQuery, map[string]any{"trade": load.Trade})
	if err != nil || len(g.Errors) > 0 {
		t.Fatalf("population: %v %+v", err, g.Errors)
	}
	var pop struct {
		Craftsmen struct{ TotalCount int } `json:"craftsmen"`
	}
	if err := json.Unmarshal(g.Data, &pop); err != nil || pop.Craftsmen.TotalCount == 0 {
		t.Errorf("HR population empty: %s", g.Data)
	}

	var buf bytes.Buffer
	if err := res.WriteSVG(&buf, "test <run>"); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
	lines := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "polyline" {
			lines++
		}
	}
	if want := 2*len(load.Ops) + 1; lines != want {
		t.Errorf("SVG has %d lines, want %d (p50 and p99 per operation, throughput)", lines, want)
	}
	if !strings.Contains(buf.String(), "test &lt;run&gt;") {
		t.Error("title not escaped")
	}
}

// TestNationalIDs: the harness's national ID numbers pass the registry's
// own check (GB 11643 check character) and are distinct, so the registry accepts every one.
func TestNationalIDs(t *testing.T) {
	seen := map[string]int{}
	for _, n := range append(seqRange(0, 5000), seqRange(15_999_000, 16_001_000)...) {
		id := load.NationalID(n)
		if err := registry.ValidNationalID(id); err != nil {
			t.Fatalf("NationalID(%d) = %q: %v", n, id, err)
		}
		if _, err := time.Parse("20060102", id[6:14]); err != nil {
			t.Errorf("NationalID(%d) = %s: birth date %v", n, id, err)
		}
		if m, dup := seen[id]; dup && (m%16_000_000) != (n%16_000_000) {
			t.Errorf("NationalID(%d) = NationalID(%d) = %s", n, m, id)
		}
		seen[id] = n
	}
}

func seqRange(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// TestPoolWaitsOutTheRateLimit: against an all-in-one that limits each
// caller to 20 requests a second (bursts of 5), the pool of 40 craftsmen
// is still registered, each 429 waited out (Retry-After), instead of the
// run failing on the first.
func TestPoolWaitsOutTheRateLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the all-in-one")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := app.New(ctx, app.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", StoreAddr: "127.0.0.1:0",
		Key: auth.DevKey(), NationalIDKey: []byte(registry.DevNationalIDKey), RateLimit: 20, RateBurst: 5})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		<-done
		a.Close()
	}()
	if err := a.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := load.NewClient(a.BaseURL(), auth.DevKey(), "acad-rate", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	res, err := load.Run(ctx, c, load.Config{Rate: 1, Duration: time.Second, Pool: 40, RunID: "rate"})
	if err != nil {
		t.Fatalf("the pool was not registered under the rate limit: %v", err)
	}
	if res.Total.OK+res.Total.Failed+res.Total.Dropped == 0 {
		t.Fatal("nothing was scheduled after the pool")
	}
}
