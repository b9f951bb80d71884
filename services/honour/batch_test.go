package honour

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/command/commandtest"
	"github.com/craftledger/craftledger/pkg/errs"
)

// TestBatchDecidesOnEarlierLines runs the back-fill's commands as one batch
// (command.Handler.ExecuteBatch, what the runner does with a craftsman's
// queued lines): each decides on the stream plus the batch's earlier
// decisions, not yet written — another honour under an id decided earlier
// is a conflict, the same honour again a replay of it — and a batch whose
// append fails writes nothing: the next command decides on the stream as
// stored, and its fold replaces the decoded facts of the failed batch's
// decisions in the service's cache.
func TestBatchDecidesOnEarlierLines(t *testing.T) {
	now := time.Date(2025, 11, 20, 8, 0, 0, 0, time.UTC)
	svc, err := New(commandtest.StartStore(t), func() time.Time { return now }, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := svc.(*service)
	const stream = "craftsman-w1"
	caller := auth.WithClaims(context.Background(), auth.Claims{Subject: "u", Role: auth.RoleIssuer, OrgID: "academy-1"})
	line := func(key string) context.Context {
		return command.WithSource(command.WithRequest(caller, key, "backfill-test", key), "import")
	}
	if _, err := s.h.Execute(caller, command.Command{Name: "register", Stream: stream, Meta: command.Meta{Issuer: "seed", Actor: "seed"},
		Decide: func(context.Context, command.History) ([]command.Event, error) {
			return []command.Event{{Type: events.TypeCraftsmanRegistered, Data: events.CraftsmanRegistered{CraftsmanID: "w1", NationalIDHash: strings.Repeat("a", 64)}}}, nil
		}}); err != nil {
		t.Fatal(err)
	}
	honour := func(key, id, code, on string) command.Command {
		t.Helper()
		c, err := s.conferCommand(line(key), ConferRequest{CraftsmanID: "w1", HonourID: id, Code: code, OccurredAt: on})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	innovation, err := s.innovationCommand(line("k5"), InnovationRequest{CraftsmanID: "w1", InnovationID: "i1", Kind: "breakthrough", Title: "攻关", Level: "provincial", OccurredAt: "2017-01-01"})
	if err != nil {
		t.Fatal(err)
	}
	out := s.h.ExecuteBatch(caller, stream, []command.Command{
		honour("k1", "h1", "city_craftsman", "2015-01-01"),
		honour("k2", "h1", "provincial_craftsman", "2016-01-01"),
		honour("k3", "h2", "city_craftsman", "2015-02-01"),
		honour("k4", "h1", "city_craftsman", "2015-01-01"),
		innovation,
	})
	for i, want := range []struct {
		rev      uint64
		replayed bool
		err      error
	}{{1, false, nil}, {0, false, errs.Conflict}, {2, false, nil}, {1, true, nil}, {3, false, nil}} {
		got := out[i]
		if want.err != nil {
			if !errors.Is(got.Err, want.err) {
				t.Errorf("command %d: %+v, want %v", i, got, want.err)
			}
			continue
		}
		if got.Err != nil || got.Result.Revision != want.rev || got.Result.Replayed != want.replayed || got.Result.Position != out[0].Result.Position {
			t.Errorf("command %d: %+v, want revision %d (replayed %t) at the batch's position", i, got, want.rev, want.replayed)
		}
	}
	// A batch whose append fails (its context ends) writes nothing.
	gone, cancel := context.WithCancel(caller)
	cancel()
	failed := s.h.ExecuteBatch(gone, stream, []command.Command{honour("k6", "h3", "city_craftsman", "2018-01-01"), honour("k7", "h4", "city_craftsman", "2018-02-01")})
	if failed[0].Err == nil || failed[1].Err == nil {
		t.Fatalf("a batch without a context: %+v", failed)
	}
	// What single requests see: the batch's honours as written, and not
	// the failed batch's.
	if _, err := s.ConferHonour(line("k8"), ConferRequest{CraftsmanID: "w1", HonourID: "h1", Code: "provincial_craftsman", OccurredAt: "2016-01-01"}); !errors.Is(err, errs.Conflict) {
		t.Errorf("h1 with other data: %v, want a conflict", err)
	}
	if r, err := s.ConferHonour(line("k9"), ConferRequest{CraftsmanID: "w1", HonourID: "h2", Code: "city_craftsman", OccurredAt: "2015-02-01"}); err != nil || !r.Replayed || r.Revision != 2 {
		t.Errorf("h2 again: %+v %v, want a replay at revision 2", r, err)
	}
	if r, err := s.ConferHonour(line("k10"), ConferRequest{CraftsmanID: "w1", HonourID: "h3", Code: "city_craftsman", OccurredAt: "2018-01-01"}); err != nil || r.Replayed || r.Revision != 4 {
		t.Errorf("h3, which the failed batch did not write: %+v %v, want revision 4", r, err)
	}
	// That decision folded the stream as stored (4 events) and replaced
	// the failed batch's decoded facts (5: its first honour, unwritten).
	if streams, facts := s.decoded.Held(); streams != 1 || facts != 4 {
		t.Errorf("the decoded-facts cache holds %d streams, %d facts; want the 4 facts written", streams, facts)
	}
}
