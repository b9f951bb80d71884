package command_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
)

// fuzzPrepare turns a record into a job that writes nothing: its shard is
// the "w" field, and a "fail" field makes the command fail.
func fuzzPrepare(rec command.Record) (command.Job, error) {
	fields := rec.Fields
	if rec.Raw != nil {
		var m map[string]any
		if err := json.Unmarshal(rec.Raw, &m); err != nil {
			return command.Job{}, errs.E(errs.InvalidArgument, "line %d: %v", rec.Line, err)
		}
		fields = map[string]string{}
		for k, v := range m {
			if s, ok := v.(string); ok {
				fields[k] = s
			}
		}
	}
	w := fields["w"]
	if w == "" {
		return command.Job{}, errs.E(errs.InvalidArgument, "w: is required")
	}
	_, fail := fields["fail"]
	return command.Job{Shard: w, Key: fields["key"], Run: func(ctx context.Context, key string) (command.Result, error) {
		if fail {
			return command.Result{}, errs.E(errs.FailedPrecondition, "not allowed")
		}
		return command.Result{Stream: "s-" + w}, nil
	}}, nil
}

// checkRun verifies what a back-fill run reported, whatever the input:
// one result per counted line, line numbers unique and from first on,
// failures coded and successes not, and each shard's lines in file order.
func checkRun(t *testing.T, sum command.Summary, results []command.LineResult, first int) {
	t.Helper()
	if len(results) != sum.Lines || sum.OK+sum.Failed != sum.Lines {
		t.Fatalf("summary %+v for %d results", sum, len(results))
	}
	seen := map[int]bool{}
	for _, r := range results {
		if r.Line < first || seen[r.Line] {
			t.Fatalf("line number %d (first %d, seen %v)", r.Line, first, seen[r.Line])
		}
		seen[r.Line] = true
		if r.OK == (r.Code != "") {
			t.Fatalf("result %+v: ok and code disagree", r)
		}
		if !r.OK && r.Code != "INVALID_ARGUMENT" && r.Code != "FAILED_PRECONDITION" {
			t.Fatalf("line %d failed with %s: %s", r.Line, r.Code, r.Message)
		}
	}
	last := map[string]int{}
	for _, r := range results {
		if !r.OK {
			continue
		}
		if r.Line < last[r.Stream] {
			t.Fatalf("%s: line %d finished after line %d", r.Stream, r.Line, last[r.Stream])
		}
		last[r.Stream] = r.Line
	}
}

func runFuzz(t *testing.T, csv bool, data []byte) {
	b := command.Backfill{Workers: 3, MaxLineBytes: 512}
	var mu sync.Mutex
	var results []command.LineResult
	emit := func(r command.LineResult) {
		mu.Lock()
		results = append(results, r)
		mu.Unlock()
	}
	var sum command.Summary
	var err error
	if csv {
		sum, err = b.CSV(context.Background(), bytes.NewReader(data), fuzzPrepare, emit)
	} else {
		sum, err = b.JSONLines(context.Background(), bytes.NewReader(data), fuzzPrepare, emit)
	}
	if err != nil && !errors.Is(err, errs.InvalidArgument) {
		t.Fatalf("run error %v, want nil or INVALID_ARGUMENT", err)
	}
	first := 1
	if csv {
		first = 2
	}
	checkRun(t, sum, results, first)
	if !csv && err == nil {
		nonBlank := 0
		for _, l := range strings.Split(string(data), "\n") {
			if strings.TrimSpace(l) != "" {
				nonBlank++
			}
		}
		if sum.Lines > nonBlank {
			t.Fatalf("%d lines counted in a file of %d non-blank lines", sum.Lines, nonBlank)
		}
	}
}

// FuzzBackfillJSONLines: the JSON Lines reader never panics and reports
// every line exactly once, whatever the bytes (seeds in testdata/fuzz).
func FuzzBackfillJSONLines(f *testing.F) {
	f.Add([]byte("{\"w\":\"a\"}\n{\"w\":\"a\",\"fail\":1}\n\n{\"w\":\"b\"}\n"))
	f.Fuzz(func(t *testing.T, data []byte) { runFuzz(t, false, data) })
}

// FuzzBackfillCSV: the CSV reader never panics and reports every line
// exactly once, whatever the bytes (seeds in testdata/fuzz).
func FuzzBackfillCSV(f *testing.F) {
	f.Add([]byte("w,key\na,1\nb,2\na,3\n"))
	f.Fuzz(func(t *testing.T, data []byte) { runFuzz(t, true, data) })
}
