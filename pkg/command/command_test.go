package command_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/esdbserver"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// startStore runs the embedded server on a free loopback port and connects
// the real adapter to it over gRPC.
func startStore(t *testing.T) eventstore.Store {
	t.Helper()
	return startStoreWith(t, esdbserver.Config{})
}

// startStoreWith is startStore with cfg's settings (its directory, address
// and security are the test's).
func startStoreWith(t *testing.T, cfg esdbserver.Config) eventstore.Store {
	t.Helper()
	cfg.DataDir, cfg.Addr, cfg.Insecure = t.TempDir(), "127.0.0.1:0", true
	srv, err := esdbserver.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	st, err := eventstore.Open(context.Background(), eventstore.Config{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

var fixed = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func clock() time.Time { return fixed }

type counted struct {
	N int `json:"n"`
}

// appendOne decides one "Counted.v1" event numbered after the history.
func appendOne(_ context.Context, h command.History) ([]command.Event, error) {
	return []command.Event{{Type: "Counted.v1", Data: counted{N: len(h.Events)}}}, nil
}

func TestExecuteAppendsAndFillsMetadata(t *testing.T) {
	st := startStore(t)
	h := command.New(st, command.Options{Clock: clock})
	ctx := context.Background()
	meta := command.Meta{Issuer: "academy-1", Actor: "u1", CorrelationID: "corr"}
	r1, err := h.Execute(ctx, command.Command{Name: "count", Stream: "test-1", Meta: meta, Decide: appendOne})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := h.Execute(ctx, command.Command{Name: "count", Stream: "test-1", Meta: meta, Decide: appendOne})
	if err != nil {
		t.Fatal(err)
	}
	if r1.Revision != 0 || r2.Revision != 1 || !r1.Position.Less(r2.Position) || len(r2.EventIDs) != 1 {
		t.Fatalf("results %+v then %+v", r1, r2)
	}
	evs, err := st.ReadStream(ctx, "test-1", eventstore.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := command.DecodeMetadata(evs[1].Metadata)
	if err != nil {
		t.Fatal(err)
	}
	want := command.Metadata{SchemaVersion: 1, OccurredAt: fixed, IssuerOrgID: "academy-1", ActingUserID: "u1",
		CorrelationID: "corr", CausationID: r2.EventIDs[0], Source: "api"}
	if m != want {
		t.Fatalf("metadata\n got %+v\nwant %+v", m, want)
	}
	var c counted
	if err := json.Unmarshal(evs[1].Data, &c); err != nil || c.N != 1 {
		t.Fatalf("data %s (%v)", evs[1].Data, err)
	}
}

func TestExecuteKeyedReplayIsANoOp(t *testing.T) {
	st := startStore(t)
	h := command.New(st, command.Options{Clock: clock})
	ctx := context.Background()
	cmd := command.Command{Name: "count", Stream: "test-2", Meta: command.Meta{IdempotencyKey: "k-1"}, Decide: appendOne}
	first, err := h.Execute(ctx, cmd)
	if err != nil {
		t.Fatal(err)
	}
	// Someone else writes in between; the replay still answers the original.
	if _, err := h.Execute(ctx, command.Command{Name: "count", Stream: "test-2", Decide: appendOne}); err != nil {
		t.Fatal(err)
	}
	again, err := h.Execute(ctx, cmd)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Replayed || again.Revision != first.Revision || again.Position != first.Position || again.EventIDs[0] != first.EventIDs[0] {
		t.Fatalf("replay %+v, first %+v", again, first)
	}
	if first.EventIDs[0] != command.EventID("test-2", "k-1", 0) {
		t.Fatalf("event id %s is not derived from the key", first.EventIDs[0])
	}
	evs, _ := st.ReadStream(ctx, "test-2", eventstore.ReadOptions{})
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2", len(evs))
	}
}

func TestExecuteBusinessErrorWritesNothing(t *testing.T) {
	st := startStore(t)
	h := command.New(st, command.Options{Clock: clock})
	refuse := errs.E(errs.FailedPrecondition, "not now")
	_, err := h.Execute(context.Background(), command.Command{Name: "refuse", Stream: "test-3",
		Decide: func(context.Context, command.History) ([]command.Event, error) { return nil, refuse }})
	if !errors.Is(err, errs.FailedPrecondition) {
		t.Fatalf("err %v", err)
	}
	if _, err := st.ReadStream(context.Background(), "test-3", eventstore.ReadOptions{}); !errors.Is(err, errs.NotFound) {
		t.Fatalf("stream exists after a refused command: %v", err)
	}
}

// instances are handlers over one store, as separate service processes
// would be: they share no lock and no cache, so they really race.
func instances(st eventstore.Store, n, retries int) []*command.Handler {
	hs := make([]*command.Handler, n)
	for i := range hs {
		hs[i] = command.New(st, command.Options{Clock: clock, MaxRetries: retries})
	}
	return hs
}

func TestExecuteConcurrentRetries(t *testing.T) {
	st := startStore(t)
	hs := instances(st, 4, 50)
	ctx := context.Background()
	const n = 16
	var wg sync.WaitGroup
	errc := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := hs[i%len(hs)].Execute(ctx, command.Command{Name: "count", Stream: "test-4", RetryOnConflict: true, Decide: appendOne})
			errc <- err
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	evs, err := st.ReadStream(ctx, "test-4", eventstore.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Every decision saw the history it appended after: n events numbered 0..n-1.
	for i, e := range evs {
		var c counted
		_ = json.Unmarshal(e.Data, &c)
		if c.N != i {
			t.Fatalf("event %d decided on %d earlier events", i, c.N)
		}
	}
	if len(evs) != n {
		t.Fatalf("%d events, want %d", len(evs), n)
	}
}

func TestExecuteConcurrentSameKeyWritesOnce(t *testing.T) {
	st := startStore(t)
	hs := instances(st, 4, 0)
	h := hs[0]
	ctx := context.Background()
	// The stream exists so that every racer appends at the same revision.
	if _, err := h.Execute(ctx, command.Command{Name: "count", Stream: "test-5", Decide: appendOne}); err != nil {
		t.Fatal(err)
	}
	const n = 8
	results := make([]command.Result, n)
	errsOut := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errsOut[i] = hs[i%len(hs)].Execute(ctx, command.Command{Name: "count", Stream: "test-5",
				Meta: command.Meta{IdempotencyKey: "same"}, Decide: appendOne})
		}()
	}
	wg.Wait()
	for i := range results {
		if errsOut[i] != nil {
			t.Fatalf("racer %d: %v", i, errsOut[i])
		}
		if results[i].Revision != 1 || results[i].EventIDs[0] != results[0].EventIDs[0] {
			t.Fatalf("racer %d: %+v", i, results[i])
		}
	}
	evs, _ := st.ReadStream(ctx, "test-5", eventstore.ReadOptions{})
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2", len(evs))
	}
}

func TestExecuteConflictWithoutRetry(t *testing.T) {
	st := startStore(t)
	h := command.New(st, command.Options{Clock: clock})
	ctx := context.Background()
	if _, err := h.Execute(ctx, command.Command{Name: "count", Stream: "test-6", Decide: appendOne}); err != nil {
		t.Fatal(err)
	}
	// The decision writes behind the handler's back, so its append conflicts.
	_, err := h.Execute(ctx, command.Command{Name: "racy", Stream: "test-6",
		Decide: func(ctx context.Context, hist command.History) ([]command.Event, error) {
			if _, err := st.Append(ctx, "test-6", eventstore.Any(), eventstore.EventData{Type: "Other.v1", Data: []byte(`{}`)}); err != nil {
				return nil, err
			}
			return appendOne(ctx, hist)
		}})
	if !errors.Is(err, errs.Conflict) {
		t.Fatalf("err %v, want conflict", err)
	}
}

func TestExecuteSealChainsEvents(t *testing.T) {
	st := startStore(t)
	var prevs []string
	seal := func(prev, typ string, data []byte, m command.Metadata) ([]byte, string, error) {
		prevs = append(prevs, prev)
		m.PrevHash = prev
		m.Hash = fmt.Sprintf("h%d", len(prevs))
		b, err := json.Marshal(m)
		return b, m.Hash, err
	}
	h := command.New(st, command.Options{Clock: clock, Seal: seal})
	ctx := context.Background()
	two := func(context.Context, command.History) ([]command.Event, error) {
		return []command.Event{{Type: "A.v1", Data: counted{}}, {Type: "B.v2", Data: counted{}}}, nil
	}
	for i := 0; i < 2; i++ {
		if _, err := h.Execute(ctx, command.Command{Name: "two", Stream: "test-7", Decide: two}); err != nil {
			t.Fatal(err)
		}
	}
	if fmt.Sprint(prevs) != "[ h1 h2 h3]" {
		t.Fatalf("prev hashes %q", prevs)
	}
	evs, _ := st.ReadStream(ctx, "test-7", eventstore.ReadOptions{})
	m, _ := command.DecodeMetadata(evs[1].Metadata)
	if m.SchemaVersion != 2 || m.Hash != "h2" || m.PrevHash != "h1" {
		t.Fatalf("metadata %+v", m)
	}
}

// Two handlers over one store (two services, or two instances) keep their
// own caches; each must still decide on the store's current state.
func TestExecuteStaleCacheIsNeverTrusted(t *testing.T) {
	st := startStore(t)
	a := command.New(st, command.Options{Clock: clock})
	b := command.New(st, command.Options{Clock: clock})
	ctx := context.Background()
	run := func(h *command.Handler, decide command.DecideFunc) (command.Result, error) {
		return h.Execute(ctx, command.Command{Name: "t", Stream: "test-8", RetryOnConflict: true, Decide: decide})
	}
	if _, err := run(a, appendOne); err != nil { // a caches the stream at revision 0
		t.Fatal(err)
	}
	if _, err := run(b, appendOne); err != nil { // b writes revision 1 behind a's back
		t.Fatal(err)
	}
	// a's success path: its stale copy fails the append, it reloads and
	// decides on two events, not one.
	res, err := run(a, appendOne)
	if err != nil || res.Revision != 2 {
		t.Fatalf("%+v %v", res, err)
	}
	evs, _ := st.ReadStream(ctx, "test-8", eventstore.ReadOptions{})
	var c counted
	_ = json.Unmarshal(evs[2].Data, &c)
	if c.N != 2 {
		t.Fatalf("decided on %d events, want 2", c.N)
	}
	// a's refusal path: b writes the event a requires; a's cached copy
	// lacks it, yet a must not refuse.
	if _, err := run(b, func(context.Context, command.History) ([]command.Event, error) {
		return []command.Event{{Type: "Granted.v1", Data: counted{}}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	needsGrant := func(_ context.Context, h command.History) ([]command.Event, error) {
		for _, e := range h.Events {
			if e.Type == "Granted.v1" {
				return []command.Event{{Type: "Used.v1", Data: counted{}}}, nil
			}
		}
		return nil, errs.E(errs.FailedPrecondition, "no grant")
	}
	if _, err := run(a, needsGrant); err != nil {
		t.Fatalf("refused on a stale cache: %v", err)
	}
}

func TestExecuteBatch(t *testing.T) {
	st := startStore(t)
	h := command.New(st, command.Options{Clock: clock})
	ctx := context.Background()
	refuse := func(context.Context, command.History) ([]command.Event, error) {
		return nil, errs.E(errs.InvalidArgument, "bad line")
	}
	cmd := func(key string, d command.DecideFunc) command.Command {
		return command.Command{Name: "c", Stream: "test-9", Meta: command.Meta{IdempotencyKey: key}, Decide: d}
	}
	out := h.ExecuteBatch(ctx, "test-9", []command.Command{
		cmd("a", appendOne), cmd("b", refuse), cmd("c", appendOne), cmd("a", appendOne), cmd("", appendOne),
	})
	if out[1].Err == nil || !errors.Is(out[1].Err, errs.InvalidArgument) {
		t.Fatalf("refused command: %+v", out[1])
	}
	for _, i := range []int{0, 2, 3, 4} {
		if out[i].Err != nil {
			t.Fatalf("command %d: %v", i, out[i].Err)
		}
	}
	if out[0].Result.Revision != 0 || out[2].Result.Revision != 1 || out[4].Result.Revision != 2 {
		t.Fatalf("revisions %+v", out)
	}
	if !out[3].Result.Replayed || out[3].Result.Revision != 0 || out[3].Result.Position != out[0].Result.Position {
		t.Fatalf("in-batch replay %+v", out[3])
	}
	requireDecidedInOrder(t, st, "test-9", 3)
	// The whole batch again: every keyed command is a replay, nothing new
	// except the keyless one.
	again := h.ExecuteBatch(ctx, "test-9", []command.Command{cmd("a", appendOne), cmd("c", appendOne)})
	if !again[0].Result.Replayed || !again[1].Result.Replayed || again[1].Result.Revision != 1 {
		t.Fatalf("replayed batch %+v", again)
	}
}

// TestExecuteBatchNoOpAfterOwnEvent: a command that decides nothing after
// an event of its own batch answers at that event's revision and at the
// batch's append position, as it would run alone after it, not position 0.
func TestExecuteBatchNoOpAfterOwnEvent(t *testing.T) {
	st := startStore(t)
	h := command.New(st, command.Options{Clock: clock})
	noop := func(context.Context, command.History) ([]command.Event, error) { return nil, nil }
	cmd := func(d command.DecideFunc) command.Command {
		return command.Command{Name: "c", Stream: "test-noop", Decide: d}
	}
	out := h.ExecuteBatch(context.Background(), "test-noop", []command.Command{cmd(appendOne), cmd(noop)})
	for i, o := range out {
		if o.Err != nil {
			t.Fatalf("command %d: %v", i, o.Err)
		}
	}
	if out[1].Result.Revision != out[0].Result.Revision || out[1].Result.Position != out[0].Result.Position || out[1].Result.Position == (eventstore.Position{}) {
		t.Fatalf("no-op %+v after %+v", out[1].Result, out[0].Result)
	}
}

// TestExecuteBatchFailsTogether: when a batch's append fails for good (a
// lost race retried to the end: another writer appends to the stream each
// time the batch decides), every answer that depended on it fails too — an
// in-batch replay of a key, a no-op after the batch's own event, a refusal
// decided after that event — while a replay of a key stored before the
// batch stands, and nothing of the batch is written.
func TestExecuteBatchFailsTogether(t *testing.T) {
	st := startStore(t)
	h := command.New(st, command.Options{Clock: clock, MaxRetries: 2})
	ctx := context.Background()
	cmd := func(key string, d command.DecideFunc) command.Command {
		return command.Command{Name: "c", Stream: "test-fail", Meta: command.Meta{IdempotencyKey: key}, Decide: d}
	}
	old, err := h.Execute(ctx, cmd("old", appendOne))
	if err != nil {
		t.Fatal(err)
	}
	racing := func(ctx context.Context, hist command.History) ([]command.Event, error) {
		if _, err := st.Append(ctx, "test-fail", eventstore.Any(), eventstore.EventData{Type: "Outside.v1", Data: []byte(`{}`)}); err != nil {
			return nil, err
		}
		return appendOne(ctx, hist)
	}
	noop := func(context.Context, command.History) ([]command.Event, error) { return nil, nil }
	refuse := func(context.Context, command.History) ([]command.Event, error) {
		return nil, errs.E(errs.FailedPrecondition, "refused")
	}
	out := h.ExecuteBatch(ctx, "test-fail", []command.Command{
		cmd("k", racing), cmd("k", appendOne), cmd("", noop), cmd("", refuse), cmd("old", appendOne),
	})
	for i := 0; i < 4; i++ {
		if !errors.Is(out[i].Err, errs.Conflict) {
			t.Errorf("command %d answered %+v, %v on an append that failed", i, out[i].Result, out[i].Err)
		}
	}
	if r := out[4]; r.Err != nil || !r.Result.Replayed || r.Result.Position != old.Position {
		t.Errorf("the stored key's replay: %+v %v, want that of %+v", r.Result, r.Err, old)
	}
	evs, _ := st.ReadStream(ctx, "test-fail", eventstore.ReadOptions{})
	for _, e := range evs[1:] {
		if e.Type != "Outside.v1" {
			t.Fatalf("the batch wrote %s at revision %d", e.Type, e.Revision)
		}
	}
}

// TestExecuteBatchStoreLimit: when the store takes less per append than
// the batch gathers (here 64 KiB), the commands go one writer at a time
// and every one that fits alone is written, as one by one; a command whose
// events the store refuses alone fails alone, and a command decided after
// it is decided again without it.
func TestExecuteBatchStoreLimit(t *testing.T) {
	st := startStoreWith(t, esdbserver.Config{MaxAppendSize: 64 << 10})
	h := command.New(st, command.Options{Clock: clock})
	sized := func(kb int) command.DecideFunc {
		return func(_ context.Context, hist command.History) ([]command.Event, error) {
			return []command.Event{{Type: "Sized.v1", Data: map[string]any{"n": len(hist.Events), "s": strings.Repeat("x", kb<<10)}}}, nil
		}
	}
	onlyIfEmpty := func(_ context.Context, hist command.History) ([]command.Event, error) {
		if hist.Exists {
			return nil, errs.E(errs.FailedPrecondition, "the stream has begun")
		}
		return appendOne(context.Background(), hist)
	}
	cmd := func(stream string, d command.DecideFunc) command.Command {
		return command.Command{Name: "c", Stream: stream, Decide: d}
	}
	out := h.ExecuteBatch(context.Background(), "test-limit", []command.Command{
		cmd("test-limit", sized(40)), cmd("test-limit", sized(40)), cmd("test-limit", sized(40)),
	})
	for i, o := range out {
		if o.Err != nil || o.Result.Revision != uint64(i) {
			t.Fatalf("command %d: %+v %v", i, o.Result, o.Err)
		}
	}
	out = h.ExecuteBatch(context.Background(), "test-alone", []command.Command{
		cmd("test-alone", sized(100)), cmd("test-alone", onlyIfEmpty),
	})
	if !errors.Is(out[0].Err, errs.InvalidArgument) {
		t.Errorf("the oversize command: %+v %v", out[0].Result, out[0].Err)
	}
	if out[1].Err != nil || out[1].Result.Revision != 0 {
		t.Errorf("the command after it: %+v %v, want revision 0 as alone", out[1].Result, out[1].Err)
	}
}

// TestExecuteBatchSplitsLargeBatches: a batch whose events would pass the
// store's maximum append size (1 MiB) goes in several appends, each
// command still deciding after all the ones before it, so every command
// that fits alone is written.
func TestExecuteBatchSplitsLargeBatches(t *testing.T) {
	st := startStore(t)
	h := command.New(st, command.Options{Clock: clock})
	type sized struct {
		N int    `json:"n"`
		S string `json:"s"`
	}
	pad := strings.Repeat("x", 200<<10)
	cmds := make([]command.Command, 8)
	for i := range cmds {
		cmds[i] = command.Command{Name: "c", Stream: "test-split", Decide: func(_ context.Context, hist command.History) ([]command.Event, error) {
			return []command.Event{{Type: "Sized.v1", Data: sized{N: len(hist.Events), S: pad}}}, nil
		}}
	}
	out := h.ExecuteBatch(context.Background(), "test-split", cmds)
	appends := map[eventstore.Position]bool{}
	for i, o := range out {
		if o.Err != nil || o.Result.Revision != uint64(i) {
			t.Fatalf("command %d: %+v %v", i, o.Result, o.Err)
		}
		appends[o.Result.Position] = true
	}
	if len(appends) < 4 {
		t.Errorf("8 commands of 200 KiB in %d appends", len(appends))
	}
	requireDecidedInOrder(t, st, "test-split", 8)
}

// requireDecidedInOrder checks that stream holds n events, the i-th
// decided (its "n") after i earlier ones.
func requireDecidedInOrder(t *testing.T, st eventstore.Store, stream string, n int) {
	t.Helper()
	evs, err := st.ReadStream(context.Background(), stream, eventstore.ReadOptions{})
	if len(evs) != n {
		t.Fatalf("%d events, want %d (%v)", len(evs), n, err)
	}
	for i, e := range evs {
		var c counted
		_ = json.Unmarshal(e.Data, &c)
		if c.N != i {
			t.Fatalf("event %d decided on %d earlier events", i, c.N)
		}
	}
}

func TestBackfillBatchesAgainstTheStore(t *testing.T) {
	st := startStore(t)
	h := command.New(st, command.Options{Clock: clock})
	var in strings.Builder
	for w := 0; w < 3; w++ {
		for i := 0; i < 40; i++ {
			fmt.Fprintf(&in, `{"w":%d,"i":%d}`+"\n", w, i)
		}
	}
	in.WriteString(`{"w":1,"i":-1}` + "\n") // refused by its decision
	prepare := func(rec command.Record) (command.Job, error) {
		var v struct{ W, I int }
		if err := json.Unmarshal(rec.Raw, &v); err != nil {
			return command.Job{}, err
		}
		stream := fmt.Sprintf("bf-%d", v.W)
		return command.Job{Shard: stream, Handler: h, Command: func(_ context.Context, key string) (command.Command, error) {
			return command.Command{Name: "line", Stream: stream, Meta: command.Meta{IdempotencyKey: key}, RetryOnConflict: true,
				Decide: func(ctx context.Context, hist command.History) ([]command.Event, error) {
					if v.I < 0 {
						return nil, errs.E(errs.InvalidArgument, "i: negative")
					}
					if len(hist.Events) != v.I {
						return nil, errs.E(errs.FailedPrecondition, "line %d decided after %d events", v.I, len(hist.Events))
					}
					return appendOne(ctx, hist)
				}}, nil
		}}, nil
	}
	for run := 0; run < 2; run++ {
		sum, err := command.Backfill{Workers: 2}.JSONLines(context.Background(), strings.NewReader(in.String()), prepare, nil)
		if err != nil {
			t.Fatal(err)
		}
		if sum.OK != 120 || sum.Failed != 1 || (run == 1 && sum.Replayed != 120) {
			t.Fatalf("run %d: %+v", run, sum)
		}
	}
	for w := 0; w < 3; w++ {
		evs, _ := st.ReadStream(context.Background(), fmt.Sprintf("bf-%d", w), eventstore.ReadOptions{})
		if len(evs) != 40 {
			t.Fatalf("stream %d has %d events", w, len(evs))
		}
	}
}

// TestBackfillLookahead: the reader runs Lookahead lines ahead of a busy
// worker, and the worker appends together the lines of one craftsman that
// its queue then holds, however far apart they are in the file. The only
// worker takes line 1 alone and holds it until the reader has prepared
// every line (the 1,999 others fit in the queue); then each of the other
// 999 shards' two lines, 1,000 lines apart, share one append.
func TestBackfillLookahead(t *testing.T) {
	st := startStore(t)
	h := command.New(st, command.Options{Clock: clock})
	const shards = 1000
	var in strings.Builder
	for i := 0; i < 2*shards; i++ {
		fmt.Fprintf(&in, `{"w":%d,"i":%d}`+"\n", i%shards, i)
	}
	running := make(chan struct{}) // closed once the worker runs line 1
	read := make(chan struct{})    // closed once the last line is prepared
	wait := func(c chan struct{}, what string) {
		select {
		case <-c:
		case <-time.After(20 * time.Second):
			t.Error(what)
		}
	}
	prepare := func(rec command.Record) (command.Job, error) {
		var v struct{ W, I int }
		if err := json.Unmarshal(rec.Raw, &v); err != nil {
			return command.Job{}, err
		}
		switch v.I {
		case 1: // the worker took line 1 alone
			wait(running, "line 1 never ran")
		case 2*shards - 1:
			close(read)
		}
		stream := fmt.Sprintf("la-%d", v.W)
		return command.Job{Shard: stream, Handler: h, Command: func(_ context.Context, key string) (command.Command, error) {
			if v.I == 0 {
				close(running)
				wait(read, "the reader stopped before the last line while the worker was busy: the queue is shorter than Lookahead")
			}
			return command.Command{Name: "line", Stream: stream, Meta: command.Meta{IdempotencyKey: key}, RetryOnConflict: true, Decide: appendOne}, nil
		}}, nil
	}
	var mu sync.Mutex
	at := map[int]eventstore.Position{}
	sum, err := command.Backfill{Workers: 1, Lookahead: 2048}.JSONLines(context.Background(), strings.NewReader(in.String()), prepare,
		func(r command.LineResult) {
			mu.Lock()
			defer mu.Unlock()
			if r.OK {
				at[r.Line] = *r.Position
			}
		})
	if err != nil || sum.OK != 2*shards {
		t.Fatalf("%+v %v", sum, err)
	}
	apart := 0
	for w := 1; w < shards; w++ {
		if at[w+1] != at[w+1+shards] {
			apart++
		}
	}
	if apart > 0 {
		t.Fatalf("%d of %d craftsmen's two lines were appended apart", apart, shards-1)
	}
}

// TestBackfillLookaheadBytes: the reader stops reading ahead once the
// queued lines add up to LookaheadBytes. With room for three 100 KB lines
// and the only worker held on line 1 (lines 1-3 fill the look-ahead; line
// 4 is read and waits for room), line 5 is not read until line 1 is let go
// (after a second); every line is then run.
func TestBackfillLookaheadBytes(t *testing.T) {
	st := startStore(t)
	h := command.New(st, command.Options{Clock: clock})
	pad := strings.Repeat("x", 100<<10)
	var in strings.Builder
	for i := 0; i < 12; i++ {
		fmt.Fprintf(&in, `{"i":%d,"pad":%q}`+"\n", i, pad)
	}
	held, fifth := make(chan struct{}), make(chan struct{})
	prepare := func(rec command.Record) (command.Job, error) {
		var v struct {
			I   int
			Pad string
		}
		if err := json.Unmarshal(rec.Raw, &v); err != nil {
			return command.Job{}, err
		}
		if v.I == 4 {
			close(fifth)
		}
		stream := fmt.Sprintf("lab-%d", v.I)
		return command.Job{Shard: stream, Handler: h, Command: func(_ context.Context, key string) (command.Command, error) {
			if v.I == 0 {
				close(held)
				select {
				case <-fifth:
					t.Error("line 5 was read while the worker held line 1 and three lines filled the look-ahead")
				case <-time.After(time.Second):
				}
			}
			return command.Command{Name: "line", Stream: stream, Meta: command.Meta{IdempotencyKey: key}, Decide: appendOne}, nil
		}}, nil
	}
	sum, err := command.Backfill{Workers: 1, LookaheadBytes: 3 * (100<<10 + 600)}.JSONLines(context.Background(), strings.NewReader(in.String()), prepare, nil)
	if err != nil || sum.OK != 12 {
		t.Fatalf("%+v %v", sum, err)
	}
	<-held
}

// TestBackfillFailedNotAfterCancel: Backfill.Failed hears of a failed
// line that ran through its handler, but not once the request is
// cancelled (a caller hanging up is not a failure to report per line).
func TestBackfillFailedNotAfterCancel(t *testing.T) {
	st := startStore(t)
	h := command.New(st, command.Options{Clock: clock})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var told []int
	b := command.Backfill{Workers: 1, Failed: func(line int, err error) { told = append(told, line) }}
	prepare := func(rec command.Record) (command.Job, error) {
		return command.Job{Shard: "s", Handler: h, Command: func(context.Context, string) (command.Command, error) {
			if rec.Line == 2 {
				cancel()
			}
			return command.Command{}, errs.E(errs.Unavailable, "line %d: store down", rec.Line)
		}}, nil
	}
	// Line 1 alone, then line 2 (the queue is drained before it arrives,
	// or both run in one group: either way line 1 fails before the cancel).
	if _, err := b.JSONLines(ctx, strings.NewReader(`{"a":1}`+"\n"+`{"a":2}`+"\n"), prepare, nil); err != nil {
		t.Fatal(err)
	}
	if len(told) != 1 || told[0] != 1 {
		t.Fatalf("Failed heard of lines %v, want [1]", told)
	}
}

func TestExecuteExpectNew(t *testing.T) {
	st := startStore(t)
	a := command.New(st, command.Options{Clock: clock})
	b := command.New(st, command.Options{Clock: clock})
	ctx := context.Background()
	create := func(h command.History) ([]command.Event, error) {
		if h.Exists {
			return nil, errs.E(errs.Conflict, "exists")
		}
		return []command.Event{{Type: "Created.v1", Data: counted{}}}, nil
	}
	cmd := command.Command{Name: "create", Stream: "test-10", ExpectNew: true,
		Decide: func(_ context.Context, h command.History) ([]command.Event, error) { return create(h) }}
	if res, err := a.Execute(ctx, cmd); err != nil || res.Revision != 0 {
		t.Fatalf("%+v %v", res, err)
	}
	// b has no cached copy and assumes the stream is new: the append fails,
	// it reads, and refuses on what it read.
	if _, err := b.Execute(ctx, cmd); !errors.Is(err, errs.Conflict) {
		t.Fatalf("err %v, want conflict", err)
	}
	// A command that does not create (it needs the stream) still succeeds
	// on a stream b has never read: its refusal on the empty assumption is
	// re-decided on the stream.
	needs := command.Command{Name: "use", Stream: "test-10", ExpectNew: true,
		Decide: func(_ context.Context, h command.History) ([]command.Event, error) {
			if !h.Exists {
				return nil, errs.E(errs.NotFound, "no stream")
			}
			return appendOne(ctx, h)
		}}
	c := command.New(st, command.Options{Clock: clock})
	if res, err := c.Execute(ctx, needs); err != nil || res.Revision != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	evs, _ := st.ReadStream(ctx, "test-10", eventstore.ReadOptions{})
	if len(evs) != 2 {
		t.Fatalf("%d events", len(evs))
	}
}

// A command whose event has an explicit id answers a replay of its fact
// with command.Already: Execute and ExecuteBatch then write nothing and
// report where the fact was recorded — on the stream before the batch, or
// earlier in the same batch (the batch's position) — while other commands
// of the batch are written as usual.
func TestAlreadyRecordedIsAReplay(t *testing.T) {
	st := startStore(t)
	h := command.New(st, command.Options{Clock: clock})
	ctx := context.Background()
	const stream = "test-facts"
	fact := func(id string) command.Command {
		return command.Command{Name: "fact", Stream: stream, RetryOnConflict: true,
			Decide: func(_ context.Context, hist command.History) ([]command.Event, error) {
				for _, e := range hist.Events {
					if e.ID == id {
						return nil, command.Already(e)
					}
				}
				return []command.Event{{Type: "Fact.v1", Data: counted{N: len(hist.Events)}, ID: id}}, nil
			}}
	}
	const a, b, c = "00000000-0000-0000-0000-00000000000a", "00000000-0000-0000-0000-00000000000b", "00000000-0000-0000-0000-00000000000c"
	first, err := h.Execute(ctx, fact(a))
	if err != nil || first.Replayed {
		t.Fatalf("first: %+v %v", first, err)
	}
	if again, err := h.Execute(ctx, fact(a)); err != nil || !again.Replayed || again.Revision != first.Revision || again.Position != first.Position ||
		len(again.EventIDs) != 1 || again.EventIDs[0] != a {
		t.Fatalf("replay: %+v %v, want that of %+v", again, err, first)
	}
	out := h.ExecuteBatch(ctx, stream, []command.Command{fact(b), fact(a), fact(c), fact(b)})
	for i, r := range out {
		if r.Err != nil {
			t.Fatalf("command %d: %v", i, r.Err)
		}
	}
	if out[0].Result.Replayed || out[0].Result.Revision != 1 || out[2].Result.Replayed || out[2].Result.Revision != 2 {
		t.Fatalf("new facts: %+v %+v", out[0].Result, out[2].Result)
	}
	if r := out[1].Result; !r.Replayed || r.Revision != first.Revision || r.Position != first.Position {
		t.Fatalf("replay of a stored fact: %+v, want that of %+v", r, first)
	}
	if r := out[3].Result; !r.Replayed || r.Revision != 1 || r.Position != out[0].Result.Position || r.EventIDs[0] != b {
		t.Fatalf("replay of a fact decided earlier in the batch: %+v, want that of %+v", r, out[0].Result)
	}
	if evs, _ := st.ReadStream(ctx, stream, eventstore.ReadOptions{}); len(evs) != 3 {
		t.Fatalf("%d events, want 3", len(evs))
	}
}
