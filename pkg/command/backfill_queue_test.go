package command_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/command"
)

// TestBackfillSmallRequestSmallQueues: a request of ten lines does not
// allocate its workers' queues at their full length (16 workers × 4,096
// lines, about 5 MB, when the queues were buffered channels); what the
// run allocates grows with the lines queued.
func TestBackfillSmallRequestSmallQueues(t *testing.T) {
	var in strings.Builder
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&in, `{"i":%d}`+"\n", i)
	}
	prepare := func(rec command.Record) (command.Job, error) {
		return command.Job{Shard: fmt.Sprint(rec.Line), Run: func(context.Context, string) (command.Result, error) {
			return command.Result{Stream: "s"}, nil
		}}, nil
	}
	run := func() uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		sum, err := command.Backfill{}.JSONLines(context.Background(), strings.NewReader(in.String()), prepare, nil)
		runtime.ReadMemStats(&after)
		if err != nil || sum.OK != 10 {
			t.Fatalf("%+v %v", sum, err)
		}
		return after.TotalAlloc - before.TotalAlloc
	}
	run() // warm up whatever is allocated once
	if got := run(); got > 1<<20 {
		t.Fatalf("a ten-line back-fill allocated %d bytes", got)
	}
}

// TestBackfillQueueBound: a worker's queue holds at most its share of
// Lookahead (here the minimum, 1,024 lines). The only worker takes line 1
// alone and holds it: lines 2-1,025 fill its queue, line 1,026 is read
// and waits for room, and line 1,027 is not read until line 1 is let go
// (after a second); every line is then run.
func TestBackfillQueueBound(t *testing.T) {
	const lines = 1100
	var in strings.Builder
	for i := 0; i < lines; i++ {
		fmt.Fprintf(&in, `{"i":%d}`+"\n", i)
	}
	running, over := make(chan struct{}), make(chan struct{})
	prepare := func(rec command.Record) (command.Job, error) {
		switch rec.Line {
		case 2: // the worker took line 1 alone
			select {
			case <-running:
			case <-time.After(20 * time.Second):
				t.Error("line 1 never ran")
			}
		case 1027:
			close(over)
		}
		return command.Job{Shard: fmt.Sprint(rec.Line), Run: func(context.Context, string) (command.Result, error) {
			if rec.Line == 1 {
				close(running)
				select {
				case <-over:
					t.Error("line 1,027 was read while the worker held line 1 and 1,024 lines filled its queue")
				case <-time.After(time.Second):
				}
			}
			return command.Result{Stream: "s"}, nil
		}}, nil
	}
	sum, err := command.Backfill{Workers: 1, Lookahead: 1}.JSONLines(context.Background(), strings.NewReader(in.String()), prepare, nil)
	if err != nil || sum.OK != lines {
		t.Fatalf("%+v %v", sum, err)
	}
}
