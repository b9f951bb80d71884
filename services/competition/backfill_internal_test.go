package competition

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/command/commandtest"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
)

// A craftsman's back-filled result lines run together (backfillResults):
// published one by one, their placements appended to the craftsman's
// stream as one append.

// batchEnv is the service over a store whose appends to craftsman
// streams fail while st.fail is set, with craftsman w1 registered and
// competitions c1..c4 defined (ranks 1–5 of the employees' track earn
// senior, one promotion a calendar year).
func batchEnv(t *testing.T) (*service, *flaky, context.Context) {
	t.Helper()
	now := time.Date(2025, 11, 20, 8, 0, 0, 0, time.UTC)
	st := &flaky{Store: commandtest.StartStore(t), prefix: "craftsman-"}
	svc, err := New(st, func() time.Time { return now }, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := svc.(*service)
	issuer := auth.WithClaims(context.Background(), auth.Claims{Subject: "u-fed", Role: auth.RoleIssuer, OrgID: "org-fed"})
	if _, err := s.h.Execute(issuer, command.Command{Name: "seed", Stream: events.CraftsmanStream("w1"), Meta: command.Meta{Issuer: "seed", Actor: "seed"},
		Decide: func(context.Context, command.History) ([]command.Event, error) {
			return []command.Event{{Type: events.TypeCraftsmanRegistered, OccurredAt: now.AddDate(-3, 0, 0),
				Data: events.CraftsmanRegistered{CraftsmanID: "w1", NationalIDHash: strings.Repeat("a", 64)}}}, nil
		}}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"c1", "c2", "c3", "c4"} {
		var def DefineCompetitionRequest
		if err := json.Unmarshal([]byte(`{"competitionId":"`+id+`","name":"全国行业职业技能竞赛","tier":"national_class_1",
	"trades":[{"code":"6-31-01-03","name":"电工"}],"tracks":["employees"],"startsOn":"2025-01-01",
	"rules":{"grants":[{"id":"emp-1-5","band":{"track":"employees","fromRank":1,"toRank":5},"level":"senior","raiseIfHeld":true}],"requiresApproval":true,"maxPromotionsPerYear":1}}`), &def); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DefineCompetition(issuer, def); err != nil {
			t.Fatal(err)
		}
	}
	return s, st, issuer
}

// resultLines makes the group's lines of w1 (competition, rank, date; a
// track "x" is refused), each with its own key, as command.PrepareImport
// gives them.
func resultLines(issuer context.Context, lines ...string) []command.GroupLine {
	out := make([]command.GroupLine, len(lines))
	for i, l := range lines {
		var comp, date, track string
		var rank int
		fmt.Sscanf(l, "%s %d %s %s", &comp, &rank, &date, &track)
		if track == "" {
			track = "employees"
		}
		ctx := command.WithSource(command.WithRequest(issuer, fmt.Sprintf("key-%d", i), "backfill-test", ""), "import")
		out[i] = command.GroupLine{Ctx: ctx, Value: ResultLine{CompetitionID: comp, OccurredAt: date,
			PlacementInput: PlacementInput{CraftsmanID: "w1", Track: track, Rank: rank}}}
	}
	return out
}

// TestBackfillResultsBatched: lines refused at their check or their
// publication write nothing and leave their neighbours be; the written
// ones share one append (its position) with their own revisions; the
// yearly cap is decided in file order across the batch (the first line of
// the year earns the promotion, the second is withheld); the same lines
// again all answer as replays and write nothing.
func TestBackfillResultsBatched(t *testing.T) {
	s, _, issuer := batchEnv(t)
	// c3 publishes w1 as rank 7 before: a line changing it is a conflict.
	if _, err := s.PublishResults(issuer, PublishResultsRequest{CompetitionID: "c3", OccurredAt: "2025-09-05",
		Placements: []PlacementInput{{CraftsmanID: "w1", Rank: 7}}}); err != nil {
		t.Fatal(err)
	}
	lines := resultLines(issuer,
		"c1 1 2025-09-05",   // earns senior
		"c2 2 2025-10-05",   // withheld: one promotion a year
		"c4 1 2025-10-06 x", // no track x: refused before anything
		"c3 6 2025-09-05",   // published as rank 7: conflict
		"c4 9 2025-10-07",   // placed, earns nothing
	)
	before := revisionOf(t, s, "craftsman-w1")
	out := s.backfillResults(context.Background(), lines)
	for i, want := range []error{nil, nil, errs.InvalidArgument, errs.Conflict, nil} {
		if err := out[i].Err; (want == nil) != (err == nil) || want != nil && !errors.Is(err, want) {
			t.Errorf("line %d: %v, want %v", i+1, err, want)
		}
	}
	ok := []int{0, 1, 4}
	for k, i := range ok {
		r := out[i].Result
		if r.Stream != "craftsman-w1" || r.Replayed || r.Position != out[0].Result.Position || k > 0 && r.Revision <= out[ok[k-1]].Result.Revision {
			t.Errorf("line %d: %+v; want a new placement at its own revision, in the batch's one append (position %v)", i+1, r, out[0].Result.Position)
		}
	}
	if n := len(out[0].Result.EventIDs); n != 2 {
		t.Errorf("line 1 wrote %d events, want the placement and its entitlement", n)
	}
	if n := len(out[1].Result.EventIDs); n != 1 {
		t.Errorf("line 2 wrote %d events, want its placement only (the year's promotion taken by line 1)", n)
	}
	after := revisionOf(t, s, "craftsman-w1")
	if after != before+4 {
		t.Errorf("w1 went from revision %d to %d; want the 4 events of lines 1, 2 and 5", before, after)
	}
	if pls := s.placementsOf(t, "c4"); pls != 1 {
		t.Errorf("c4 holds %d placements; want only line 5's", pls)
	}

	again := s.backfillResults(context.Background(), lines)
	for i := range out {
		if (out[i].Err == nil) != (again[i].Err == nil) {
			t.Errorf("line %d again: %v, first %v", i+1, again[i].Err, out[i].Err)
		}
	}
	for _, i := range ok {
		if r := again[i].Result; !r.Replayed {
			t.Errorf("line %d again: %+v, want a replay", i+1, r)
		}
	}
	if r := revisionOf(t, s, "craftsman-w1"); r != after {
		t.Errorf("the lines again moved w1 from revision %d to %d", after, r)
	}
}

// TestBackfillResultsBatchStoreDown: when the craftsman's append fails,
// every line of it fails and none of its placements is written (the
// publications stay, as PublishResults leaves them); the lines sent
// again write each placement once.
func TestBackfillResultsBatchStoreDown(t *testing.T) {
	s, st, issuer := batchEnv(t)
	lines := resultLines(issuer, "c1 1 2025-09-05", "c2 2 2025-10-05")
	before := revisionOf(t, s, "craftsman-w1")
	st.fail.Store(true)
	for i, r := range s.backfillResults(context.Background(), lines) {
		if !errors.Is(r.Err, errs.Unavailable) {
			t.Errorf("line %d with the store down: %+v", i+1, r)
		}
	}
	if r := revisionOf(t, s, "craftsman-w1"); r != before {
		t.Errorf("w1 went from revision %d to %d with its append failing", before, r)
	}
	st.fail.Store(false)
	out := s.backfillResults(context.Background(), lines)
	for i, r := range out {
		if r.Err != nil || r.Result.Replayed {
			t.Errorf("line %d sent again: %+v", i+1, r)
		}
	}
	if r := revisionOf(t, s, "craftsman-w1"); r != before+3 {
		t.Errorf("w1 went from revision %d to %d; want two placements and one entitlement", before, r)
	}
}

func revisionOf(t *testing.T, s *service, stream string) uint64 {
	t.Helper()
	h, err := command.Load(context.Background(), s.store, stream)
	if err != nil || !h.Exists {
		t.Fatalf("%s: %v", stream, err)
	}
	return h.Revision()
}

// placementsOf counts the placements published on a competition's stream.
func (s *service) placementsOf(t *testing.T, id string) int {
	t.Helper()
	h, err := command.Load(context.Background(), s.store, events.CompetitionStream(id))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range h.Events {
		if r.Type == events.TypeCompetitionResultsPublished {
			n++
		}
	}
	return n
}

// TestBackfillFindsTheServiceUnderItsMiddlewares: the HTTP handler batches
// result lines only when it finds the service under the middlewares the
// binaries wrap it in (their Unwrap).
func TestBackfillFindsTheServiceUnderItsMiddlewares(t *testing.T) {
	svc, err := New(commandtest.StartStore(t), time.Now, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wrapped := LoggingMiddleware(slog.New(slog.DiscardHandler))(InstrumentingMiddleware(kit.NewMetrics("competition"))(svc))
	if own, ok := servicekit.Find[*service](wrapped); !ok || own != svc {
		t.Fatalf("Find under the middlewares: %v, %v", own, ok)
	}
}
