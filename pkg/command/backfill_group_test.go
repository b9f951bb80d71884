package command

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/craftledger/craftledger/pkg/errs"
)

// TestBackfillGroupRunsAShardsLinesTogether: lines offering a Group reach
// Group.Run together, a shard's lines in file order and never mixed with
// another shard's, each with its own key in its context; each line gets
// the answer Run gave it (a refused line only its own refusal), and a Run
// answering the wrong number of lines fails them all rather than
// misplacing answers.
func TestBackfillGroupRunsAShardsLinesTogether(t *testing.T) {
	var mu sync.Mutex
	var calls [][]int // the lines of each Run
	g := &Group{}
	g.Run = func(_ context.Context, lines []GroupLine) []BatchResult {
		out := make([]BatchResult, len(lines))
		var got []int
		shard := ""
		for i, l := range lines {
			v := l.Value.([2]any)
			n, w := v[0].(int), v[1].(string)
			if shard != "" && w != shard {
				t.Errorf("line %d of shard %s run with shard %s", n, w, shard)
			}
			shard = w
			got = append(got, n)
			if KeyFrom(l.Ctx) != fmt.Sprintf("k%d", n) {
				t.Errorf("line %d ran with key %q", n, KeyFrom(l.Ctx))
			}
			if n%10 == 3 {
				out[i].Err = errs.E(errs.FailedPrecondition, "line %d refused", n)
				continue
			}
			out[i].Result = Result{Stream: "craftsman-" + w, Revision: uint64(n)}
		}
		mu.Lock()
		calls = append(calls, got)
		mu.Unlock()
		if shard == "short" {
			return out[1:]
		}
		return out
	}
	prepare := PrepareImport(func(context.Context) error { return nil }, func(rec Record) (Line, error) {
		w := strings.TrimSpace(string(rec.Raw))
		return Line{Shard: w, Key: fmt.Sprintf("k%d", rec.Line), Group: g, Value: [2]any{rec.Line, w}}, nil
	})
	pf, err := prepare(context.Background(), FormatJSONLines)
	if err != nil {
		t.Fatal(err)
	}
	var in strings.Builder
	for i := 1; i <= 200; i++ {
		w := fmt.Sprintf("w%d", i%4)
		if i > 190 {
			w = "short"
		}
		in.WriteString(w + "\n")
	}
	emit, got := collect(t)
	sum, err := Backfill{Workers: 2, MaxBatch: 8}.JSONLines(context.Background(), strings.NewReader(in.String()), pf, emit)
	if err != nil || sum.Lines != 200 {
		t.Fatalf("%+v %v", sum, err)
	}
	for n, lr := range got() {
		switch {
		case n > 190:
			if lr.OK || lr.Code != errs.Code(errs.Internal) {
				t.Errorf("line %d of a Run answering too few lines: %+v", n, lr)
			}
		case n%10 == 3:
			if lr.OK || lr.Code != errs.Code(errs.FailedPrecondition) {
				t.Errorf("refused line %d: %+v", n, lr)
			}
		default:
			if !lr.OK || *lr.Revision != uint64(n) {
				t.Errorf("line %d: %+v", n, lr)
			}
		}
	}
	batched, seen := false, map[int]bool{}
	last := map[int]int{} // shard (line%4) -> last line run
	for _, c := range calls {
		if len(c) > 8 {
			t.Errorf("a Run of %d lines, MaxBatch 8", len(c))
		}
		batched = batched || len(c) > 1
		for _, n := range c {
			seen[n] = true
			if n > 190 {
				continue
			}
			if n < last[n%4] {
				t.Errorf("line %d ran after line %d of its shard", n, last[n%4])
			}
			last[n%4] = max(last[n%4], n)
		}
	}
	if !batched || len(seen) != 200 {
		t.Errorf("runs %v", calls)
	}
}
