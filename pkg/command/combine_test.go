package command_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// countingStore counts the appends that reach the real store.
type countingStore struct {
	eventstore.Store
	appends atomic.Int64
}

func (s *countingStore) Append(ctx context.Context, stream string, exp eventstore.Expected, evs ...eventstore.EventData) (eventstore.AppendResult, error) {
	s.appends.Add(1)
	return s.Store.Append(ctx, stream, exp, evs...)
}

// holder is a command whose first decision waits to be released, so that
// others queue behind it.
type holder struct {
	entered, release chan struct{}
	once             sync.Once
}

func newHolder() *holder { return &holder{entered: make(chan struct{}), release: make(chan struct{})} }

func (h *holder) command(stream string) command.Command {
	return command.Command{Name: "held", Stream: stream, RetryOnConflict: true,
		Decide: func(ctx context.Context, hist command.History) ([]command.Event, error) {
			h.once.Do(func() {
				close(h.entered)
				<-h.release
			})
			return appendOne(ctx, hist)
		}}
}

// waitQueued waits until n commands wait on stream.
func waitQueued(t *testing.T, m *command.Combiner, stream string, n int) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); m.Waiting(stream) < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d commands queued on %s, want %d", m.Waiting(stream), stream, n)
		}
	}
}

// TestCombinerRunsTheQueueAsOneBatch: 20 commands that arrive while one
// runs go out as one append once it is done, each decided on the stream
// and the commands ahead of it: a cap of 15 events lets exactly 14 of
// them in and refuses the other 6, and nothing is written twice.
func TestCombinerRunsTheQueueAsOneBatch(t *testing.T) {
	st := &countingStore{Store: startStore(t)}
	m := command.NewCombiner(command.New(st, command.Options{Clock: clock}))
	const stream, queued, limit = "hot-1", 20, 15
	first := newHolder()
	firstRes := make(chan error, 1)
	go func() {
		res, err := m.Execute(context.Background(), first.command(stream))
		if err == nil && (res.Revision != 0 || res.Position.IsStart() || len(res.EventIDs) != 1) {
			err = fmt.Errorf("alone: %+v", res)
		}
		firstRes <- err
	}()
	<-first.entered
	capped := func(ctx context.Context, h command.History) ([]command.Event, error) {
		if len(h.Events) >= limit {
			return nil, errs.E(errs.FailedPrecondition, "at most %d events", limit)
		}
		return appendOne(ctx, h)
	}
	var wg sync.WaitGroup
	results := make([]command.Result, queued)
	failed := make([]error, queued)
	for i := range queued {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], failed[i] = m.Execute(context.Background(), command.Command{Name: fmt.Sprint("q", i), Stream: stream, Decide: capped})
		}()
	}
	waitQueued(t, m, stream, queued)
	close(first.release)
	wg.Wait()
	if err := <-firstRes; err != nil {
		t.Fatal(err)
	}
	var revs []uint64
	refused := 0
	for i, err := range failed {
		switch {
		case err == nil:
			revs = append(revs, results[i].Revision)
		case errors.Is(err, errs.FailedPrecondition):
			refused++
		default:
			t.Fatalf("command %d: %v", i, err)
		}
	}
	slices.Sort(revs)
	want := make([]uint64, 0, limit-1)
	for r := uint64(1); r < limit; r++ {
		want = append(want, r)
	}
	if !slices.Equal(revs, want) || refused != queued-(limit-1) {
		t.Fatalf("written at revisions %v, %d refused; want %v and %d", revs, refused, want, queued-(limit-1))
	}
	evs, err := st.ReadStream(context.Background(), stream, eventstore.ReadOptions{})
	if err != nil || len(evs) != limit {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	if n := st.appends.Load(); n != 2 {
		t.Fatalf("%d appends, want 2 (the first command alone, then the queue)", n)
	}
	if m.Waiting(stream) != 0 {
		t.Fatal("commands still waiting")
	}
	// Idle again: the next command runs alone.
	if _, err := m.Execute(context.Background(), command.Command{Name: "after", Stream: stream, Decide: appendOne}); err != nil || st.appends.Load() != 3 {
		t.Fatalf("after: %v, %d appends", err, st.appends.Load())
	}
}

// TestCombinerSkipsAGoneCaller: a queued command whose caller has gone
// before its turn writes nothing and says why, and the commands queued
// with it still run, though it was the one to run them.
func TestCombinerSkipsAGoneCaller(t *testing.T) {
	st := startStore(t)
	m := command.NewCombiner(command.New(st, command.Options{Clock: clock}))
	const stream = "hot-2"
	first := newHolder()
	firstDone := make(chan error, 1)
	go func() {
		_, err := m.Execute(context.Background(), first.command(stream))
		firstDone <- err
	}()
	<-first.entered
	gone, cancel := context.WithCancel(context.Background())
	goneErr, liveErr := make(chan error, 1), make(chan error, 1)
	go func() {
		_, err := m.Execute(gone, command.Command{Name: "gone", Stream: stream, Decide: appendOne})
		goneErr <- err
	}()
	waitQueued(t, m, stream, 1)
	go func() {
		_, err := m.Execute(context.Background(), command.Command{Name: "live", Stream: stream, Decide: appendOne})
		liveErr <- err
	}()
	waitQueued(t, m, stream, 2)
	cancel()
	close(first.release)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	if err := <-goneErr; !errors.Is(err, errs.DeadlineExceeded) {
		t.Fatalf("gone caller: %v, want DEADLINE_EXCEEDED", err)
	}
	if err := <-liveErr; err != nil {
		t.Fatalf("live caller: %v", err)
	}
	evs, err := st.ReadStream(context.Background(), stream, eventstore.ReadOptions{})
	if err != nil || len(evs) != 2 {
		t.Fatalf("%d events, %v; want the first command's and the live one's", len(evs), err)
	}
}
