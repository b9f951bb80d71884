package competition

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/command/commandtest"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// The combined publications of one competition (command.Combiner) and the
// fold cache of competition streams.

// flaky fails appends to competition streams (or to the streams named
// by prefix, when set) while fail is set (the store unavailable for a
// moment).
type flaky struct {
	eventstore.Store
	fail   atomic.Bool
	prefix string
}

func (f *flaky) Append(ctx context.Context, stream string, exp eventstore.Expected, evs ...eventstore.EventData) (eventstore.AppendResult, error) {
	prefix := f.prefix
	if prefix == "" {
		prefix = "competition-"
	}
	if f.fail.Load() && strings.HasPrefix(stream, prefix) {
		return eventstore.AppendResult{}, errs.E(errs.Unavailable, "store down")
	}
	return f.Store.Append(ctx, stream, exp, evs...)
}

// TestFailedBatchLeavesNoFold: a combined batch of two publications whose
// append fails must not leave a fold of its unwritten events in
// foldCompetition's cache (a review found it did): when the same placement
// is then published with another rank, its event has the same
// deterministic id at the same revision, and the stale fold answered for
// it — the stored rank refused, the never-written one taken as a replay.
func TestFailedBatchLeavesNoFold(t *testing.T) {
	now := time.Date(2025, 11, 20, 8, 0, 0, 0, time.UTC)
	st := &flaky{Store: commandtest.StartStore(t)}
	svc, err := New(st, func() time.Time { return now }, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := svc.(*service)
	issuer := auth.WithClaims(context.Background(), auth.Claims{Subject: "u-fed", Role: auth.RoleIssuer, OrgID: "org-fed"})
	const trade = "6-31-01-03"
	for _, id := range []string{"w1", "w2"} {
		if _, err := s.h.Execute(issuer, command.Command{Name: "seed", Stream: events.CraftsmanStream(id), Meta: command.Meta{Issuer: "seed", Actor: "seed"},
			Decide: func(context.Context, command.History) ([]command.Event, error) {
				return []command.Event{{Type: events.TypeCraftsmanRegistered, OccurredAt: now.AddDate(-3, 0, 0),
					Data: events.CraftsmanRegistered{CraftsmanID: id, NationalIDHash: strings.Repeat("a", 64)}}}, nil
			}}); err != nil {
			t.Fatal(err)
		}
	}
	var def DefineCompetitionRequest
	if err := json.Unmarshal([]byte(`{"competitionId":"c1","name":"全国行业职业技能竞赛","tier":"national_class_1",
	"trades":[{"code":"`+trade+`","name":"电工"}],"tracks":["employees"],
	"startsOn":"2025-09-01","endsOn":"2025-09-05",
	"rules":{"grants":[{"id":"emp-1-5","band":{"track":"employees","fromRank":1,"toRank":5},"level":"senior","raiseIfHeld":true}],"requiresApproval":true}}`), &def); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DefineCompetition(issuer, def); err != nil {
		t.Fatal(err)
	}
	pub := func(ctx context.Context, worker string, rank int) (PublishResultsResponse, error) {
		return s.PublishResults(ctx, PublishResultsRequest{CompetitionID: "c1", OccurredAt: "2025-09-05",
			Placements: []PlacementInput{{CraftsmanID: worker, Rank: rank}}})
	}
	stream := events.CompetitionStream("c1")
	// Hold the stream so that two publications queue and run as one batch.
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	held := make(chan error, 1)
	go func() {
		_, err := s.publish.Execute(context.Background(), command.Command{Name: "hold", Stream: stream,
			Decide: func(context.Context, command.History) ([]command.Event, error) {
				once.Do(func() { close(entered); <-release })
				return nil, nil
			}})
		held <- err
	}()
	<-entered
	errA, errB := make(chan error, 1), make(chan error, 1)
	go func() { _, err := pub(issuer, "w1", 1); errA <- err }()
	for s.publish.Waiting(stream) < 1 {
		time.Sleep(time.Millisecond)
	}
	go func() { _, err := pub(issuer, "w2", 2); errB <- err }()
	for s.publish.Waiting(stream) < 2 {
		time.Sleep(time.Millisecond)
	}
	st.fail.Store(true)
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	a, b := <-errA, <-errB
	if a == nil || b == nil {
		t.Fatal("the batch should have failed")
	}
	st.fail.Store(false)
	// The operator fixes the rank of w1 and publishes again: written.
	if r, err := pub(issuer, "w1", 3); err != nil || r.Replayed {
		t.Fatalf("w1 rank 3: %+v, %v; want it written", r, err)
	}
	// The same request again (a client retry) must be a replay.
	if r, err := pub(issuer, "w1", 3); err != nil || !r.Replayed {
		t.Errorf("w1 rank 3 again: %+v, %v; want a replay of what is stored", r, err)
	}
	// The stale rank must be refused as a change of a published placement.
	if r, err := pub(issuer, "w1", 1); !errors.Is(err, errs.Conflict) {
		t.Errorf("w1 rank 1 (stored as rank 3): %+v, %v; want a conflict", r, err)
	}
}
