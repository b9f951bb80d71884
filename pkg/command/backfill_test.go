package command

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/kit"
)

// recorder is a fake command target (not a store): it records, per shard,
// the order in which lines ran and the keys they were given.
type recorder struct {
	mu     sync.Mutex
	order  map[string][]int
	keys   map[int]string
	failOn int
}

func (r *recorder) prepare(rec Record) (Job, error) {
	var v struct {
		Worker string `json:"worker"`
		Key    string `json:"key"`
	}
	if rec.Fields != nil {
		v.Worker, v.Key = rec.Fields["worker"], rec.Fields["key"]
	} else if err := json.Unmarshal(rec.Raw, &v); err != nil {
		return Job{}, errs.E(errs.InvalidArgument, "line %d: %v", rec.Line, err)
	}
	if v.Worker == "" {
		return Job{}, errs.E(errs.InvalidArgument, "worker: is required")
	}
	return Job{Shard: v.Worker, Key: v.Key, Run: func(ctx context.Context, key string) (Result, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if rec.Line == r.failOn {
			return Result{}, errs.E(errs.FailedPrecondition, "not allowed")
		}
		r.order[v.Worker] = append(r.order[v.Worker], rec.Line)
		r.keys[rec.Line] = key
		return Result{Stream: "craftsman-" + v.Worker, Revision: uint64(rec.Line)}, nil
	}}, nil
}

func newRecorder() *recorder {
	return &recorder{order: map[string][]int{}, keys: map[int]string{}}
}

func collect(t *testing.T) (func(LineResult), func() map[int]LineResult) {
	var mu sync.Mutex
	got := map[int]LineResult{}
	return func(lr LineResult) {
			mu.Lock()
			defer mu.Unlock()
			if _, dup := got[lr.Line]; dup {
				t.Errorf("line %d reported twice", lr.Line)
			}
			got[lr.Line] = lr
		}, func() map[int]LineResult {
			mu.Lock()
			defer mu.Unlock()
			return got
		}
}

func TestBackfillJSONLines(t *testing.T) {
	var b strings.Builder
	for i := 1; i <= 300; i++ {
		switch i {
		case 7:
			b.WriteString("{not json\n")
		case 8:
			b.WriteString("\n") // blank lines are skipped
		case 9:
			b.WriteString(`{"worker":""}` + "\n")
		default:
			fmt.Fprintf(&b, `{"worker":"w%d","n":%d}`+"\n", i%5, i)
		}
	}
	rec := newRecorder()
	rec.failOn = 11
	emit, results := collect(t)
	var progress []Summary
	sum, err := Backfill{Workers: 4, ProgressEvery: 100, Progress: func(s Summary) { progress = append(progress, s) }}.
		JSONLines(context.Background(), strings.NewReader(b.String()), rec.prepare, emit)
	if err != nil {
		t.Fatal(err)
	}
	got := results()
	if sum.Lines != 299 || sum.Failed != 3 || sum.OK != 296 {
		t.Fatalf("summary %+v", sum)
	}
	for line, code := range map[int]string{7: "INVALID_ARGUMENT", 9: "INVALID_ARGUMENT", 11: "FAILED_PRECONDITION"} {
		if got[line].OK || got[line].Code != code {
			t.Errorf("line %d: %+v, want code %s", line, got[line], code)
		}
	}
	if _, ok := got[8]; ok {
		t.Error("blank line 8 reported")
	}
	if !got[10].OK || got[10].Stream != "craftsman-w0" || *got[10].Revision != 10 {
		t.Errorf("line 10: %+v", got[10])
	}
	// Each shard ran in file order.
	for w, lines := range rec.order {
		if !sort.IntsAreSorted(lines) {
			t.Errorf("shard %s ran out of order: %v", w, lines)
		}
	}
	if len(progress) != 3 || progress[len(progress)-1].Lines != 299 {
		t.Errorf("progress calls: %+v", progress)
	}
}

func TestBackfillKeysAreStable(t *testing.T) {
	in := `{"worker":"a","key":"explicit"}` + "\n" + `{"worker":"a"}` + "\n" + `{"worker":"b"}` + "\n"
	keys := func() map[int]string {
		rec := newRecorder()
		if _, err := (Backfill{}).JSONLines(context.Background(), strings.NewReader(in), rec.prepare, nil); err != nil {
			t.Fatal(err)
		}
		return rec.keys
	}
	first, second := keys(), keys()
	if diff := cmp.Diff(first, second); diff != "" {
		t.Fatalf("keys differ between runs (-first +second):\n%s", diff)
	}
	if first[1] != "explicit" || first[2] == first[3] || !strings.HasPrefix(first[2], "line:") {
		t.Fatalf("keys %v", first)
	}
}

func TestBackfillCSV(t *testing.T) {
	in := "\ufeffworker,key\n" +
		"a,k1\n" +
		"b\n" + // wrong field count: line 3
		"\"unterminated,k3\n" +
		"c,k4\n"
	rec := newRecorder()
	emit, results := collect(t)
	sum, err := Backfill{Workers: 2}.CSV(context.Background(), strings.NewReader(in), rec.prepare, emit)
	if err != nil {
		t.Fatal(err)
	}
	got := results()
	if !got[2].OK || rec.keys[2] != "k1" {
		t.Errorf("line 2: %+v key %q", got[2], rec.keys[2])
	}
	if got[3].OK || got[3].Code != "INVALID_ARGUMENT" {
		t.Errorf("line 3: %+v", got[3])
	}
	if sum.OK+sum.Failed != sum.Lines || sum.Failed < 2 {
		t.Errorf("summary %+v results %+v", sum, got)
	}
}

// TestCheckColumns: a CSV record with a column the file type does not have
// is that column's INVALID_ARGUMENT, naming the allowed ones; known columns
// and JSON Lines records pass.
func TestCheckColumns(t *testing.T) {
	allowed := []string{"craftsmanId", "key"}
	if err := (Record{Fields: map[string]string{"craftsmanId": "c1", "key": ""}}).CheckColumns(allowed); err != nil {
		t.Fatalf("known columns: %v", err)
	}
	if err := (Record{Raw: []byte(`{"nickname":"x"}`)}).CheckColumns(allowed); err != nil {
		t.Fatalf("a JSON Lines record: %v", err)
	}
	err := (Record{Fields: map[string]string{"craftsmanId": "c1", "nickname": "x"}}).CheckColumns(allowed)
	if kit.FieldOf(err) != "nickname" || !errors.Is(err, errs.InvalidArgument) || !strings.Contains(err.Error(), "craftsmanId, key") {
		t.Fatalf("unknown column: %v", err)
	}
}
