package mentorship

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
)

// A master's back-filled pairings run together (backfillStarts): their
// starts appended to the master's stream as one append.

const testTrade = "6-31-01-03"

// startsEnv is the service over a store counting appends (and failing
// those to craftsman-master while fail is set), with a senior master, an
// apprentice a2 holding senior too and unranked apprentices a1, a3–a5
// registered; lines makes the group's lines of raw, each with its own key.
func startsEnv(t *testing.T, opts Options) (*service, *counting, func(raw ...string) []command.GroupLine) {
	t.Helper()
	now := time.Date(2025, 11, 20, 8, 0, 0, 0, time.UTC)
	st := &counting{Store: commandtest.StartStore(t), appends: map[string]int{}}
	svc, err := New(st, func() time.Time { return now }, opts)
	if err != nil {
		t.Fatal(err)
	}
	s := svc.(*service)
	issuer := auth.WithClaims(context.Background(), auth.Claims{Subject: "u-academy", Role: auth.RoleIssuer, OrgID: "academy-1"})
	seed := func(id string, level events.Level) {
		t.Helper()
		day := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		evs := []command.Event{{Type: events.TypeCraftsmanRegistered, OccurredAt: day,
			Data: events.CraftsmanRegistered{CraftsmanID: id, NationalIDHash: strings.Repeat("a", 64)}}}
		if level > 0 {
			evs = append(evs, command.Event{Type: events.TypeSkillLevelCertified, OccurredAt: day,
				Data: events.SkillLevelCertified{CraftsmanID: id, Trade: events.Trade{Code: testTrade}, Level: level,
					CertificateNumber: "C-" + id, Family: events.FamilySkillLevel, EvaluatingOrgID: "eval",
					IssuingOrg: events.Org{ID: "eval", Kind: events.IssuerThirdParty}, Route: events.RouteRegular}})
		}
		if _, err := s.h.Execute(issuer, command.Command{Name: "seed", Stream: events.CraftsmanStream(id), Meta: command.Meta{Issuer: "seed", Actor: "seed"},
			Decide: func(context.Context, command.History) ([]command.Event, error) { return evs, nil }}); err != nil {
			t.Fatal(err)
		}
	}
	seed("master", events.Senior)
	seed("a2", events.Senior)
	for _, a := range []string{"a1", "a3", "a4", "a5"} {
		seed(a, 0)
	}
	return s, st, func(raw ...string) []command.GroupLine {
		t.Helper()
		lines := make([]command.GroupLine, len(raw))
		for i, r := range raw {
			l, err := decodeMentorship(command.Record{Line: i + 1, Raw: []byte(r)})
			if err != nil {
				t.Fatal(err)
			}
			ctx := command.WithSource(command.WithRequest(issuer, fmt.Sprintf("key-%d", i), "backfill-test", ""), "import")
			lines[i] = command.GroupLine{Ctx: ctx, Value: l}
		}
		return lines
	}
}

// pair is a line pairing master with app on 2025-03-01, extra its further
// fields.
func pair(id, app, extra string) string {
	return `{"mentorshipId":"` + id + `","masterId":"master","apprenticeId":"` + app + `","trade":{"code":"` + testTrade +
		`"},"academyId":"academy-1","plannedMonths":24,"occurredAt":"2025-03-01"` + extra + `}`
}

// TestBackfillStartsBatched: a line refused at its check or on the
// master's stream writes nothing on any stream and leaves the others be;
// the master's limit on active apprentices is decided in file order
// across the batch, a completion freeing a place for the lines after it;
// the same lines again all answer as replays and write nothing.
func TestBackfillStartsBatched(t *testing.T) {
	s, st, mkLines := startsEnv(t, Options{MaxActiveApprentices: 2})
	lines := mkLines(
		pair("m1", "a1", ""),
		pair("m2", "a2", ""), // a2 holds the master's level: refused on the master's stream
		pair("m3", "a3", `,"completed":{"levelReached":"junior","occurredAt":"2025-06-01"}`),
		pair("m4", "a4", ""),    // m3 completed: one active of two
		pair("m5", "a5", ""),    // m1 and m4 active: the limit
		pair("m6", "ghost", ""), // not registered: refused at the check
	)
	wants := []error{nil, errs.FailedPrecondition, nil, nil, errs.FailedPrecondition, errs.NotFound}
	check := func(round string, out []command.BatchResult, replayed bool) {
		t.Helper()
		for i, want := range wants {
			err := out[i].Err
			switch {
			case want == nil && err != nil, want != nil && !errors.Is(err, want):
				t.Errorf("%s: line %d: %v, want %v", round, i+1, err, want)
			case want == nil && out[i].Result.Replayed != replayed:
				t.Errorf("%s: line %d: %+v, want replayed %v", round, i+1, out[i].Result, replayed)
			}
		}
	}
	st.reset()
	check("first", s.backfillStarts(context.Background(), lines), false)
	master, err := command.Load(context.Background(), s.store, events.CraftsmanStream("master"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range master.Events[2:] {
		if r.Type == events.TypeMentorshipStarted || r.Type == events.TypeMentorshipCompleted {
			p, err := s.reg.Decode(r.Type, r.Data)
			if err != nil {
				t.Fatal(err)
			}
			switch p := p.(type) {
			case events.MentorshipStarted:
				got = append(got, "start:"+p.MentorshipID)
			case events.MentorshipCompleted:
				got = append(got, "completion:"+p.MentorshipID)
			}
		}
	}
	if fmt.Sprint(got) != "[start:m1 start:m3 completion:m3 start:m4]" {
		t.Errorf("the master's stream holds %v", got)
	}
	// m1 and m3 were decided together: one append; m3's completion
	// another; m4, decided after it (the limit counts it), a third.
	if n := st.count("craftsman-master"); n != 3 {
		t.Errorf("%d appends to the master's stream; want 3", n)
	}
	for _, id := range []string{"m2", "m5", "m6"} {
		if h, err := command.Load(context.Background(), s.store, events.MentorshipStream(id)); err != nil || h.Exists {
			t.Errorf("refused %s wrote its pairing: %v", id, err)
		}
	}
	for _, a := range []string{"a2", "a5"} {
		if h, err := command.Load(context.Background(), s.store, events.CraftsmanStream(a)); err != nil || len(h.Events) != map[string]int{"a2": 2, "a5": 1}[a] {
			t.Errorf("refused line wrote on %s: %d events, %v", a, len(h.Events), err)
		}
	}
	revision := master.Revision()
	check("again", s.backfillStarts(context.Background(), lines), true)
	if h, err := command.Load(context.Background(), s.store, events.CraftsmanStream("master")); err != nil || h.Revision() != revision {
		t.Errorf("the lines again moved the master from revision %d: %v", revision, err)
	}
}

// TestBackfillStartsSamePairingAgain: lines that send a pairing an
// earlier line of the group sent answer as they do run one after the
// other (Group.Run's contract): m1 sent again dated 2025-05-01 with a
// session on 2025-04-01 is checked against the start as recorded
// (2025-03-01) and written, not against its own date; m1 sent again with
// another apprentice is the conflict it is alone.
func TestBackfillStartsSamePairingAgain(t *testing.T) {
	raw := []string{
		pair("m1", "a1", ""),
		strings.Replace(pair("m1", "a1", `,"sessions":[{"hours":2,"topic":"wiring","occurredAt":"2025-04-01"}]`), `"occurredAt":"2025-03-01"`, `"occurredAt":"2025-05-01"`, 1),
		pair("m4", "a4", ""),
		pair("m1", "a3", ""), // other parties: 409
	}
	wants := []error{nil, nil, nil, errs.Conflict}

	s, _, mk := startsEnv(t, Options{MaxActiveApprentices: 2})
	alone := make([]command.BatchResult, len(raw))
	for i, l := range mk(raw...) {
		alone[i] = s.backfillStarts(context.Background(), []command.GroupLine{l})[0]
	}
	s2, _, mk2 := startsEnv(t, Options{MaxActiveApprentices: 2})
	together := s2.backfillStarts(context.Background(), mk2(raw...))
	for i, want := range wants {
		for _, r := range []struct {
			how string
			err error
		}{{"alone", alone[i].Err}, {"in one group", together[i].Err}} {
			if want == nil && r.err != nil || want != nil && !errors.Is(r.err, want) {
				t.Errorf("line %d %s: %v, want %v", i+1, r.how, r.err, want)
			}
		}
		if fmt.Sprint(alone[i].Err) != fmt.Sprint(together[i].Err) {
			t.Errorf("line %d in one group: %v; alone after the lines before it: %v", i+1, together[i].Err, alone[i].Err)
		}
	}
	h, err := command.Load(context.Background(), s2.store, events.MentorshipStream("m1"))
	if err != nil {
		t.Fatal(err)
	}
	sessions := 0
	for _, r := range h.Events {
		if r.Type == events.TypeMentorshipSessionLogged {
			sessions++
		}
	}
	if sessions != 1 {
		t.Errorf("m1 holds %d sessions, want 1", sessions)
	}
}

// counting counts the appends to each stream of the store it wraps, and
// fails those to the master's while fail is set.
type counting struct {
	eventstore.Store
	mu      sync.Mutex
	appends map[string]int
	fail    atomic.Bool // appends to craftsman-master fail
}

func (c *counting) Append(ctx context.Context, stream string, exp eventstore.Expected, evs ...eventstore.EventData) (eventstore.AppendResult, error) {
	if c.fail.Load() && stream == "craftsman-master" {
		return eventstore.AppendResult{}, errs.E(errs.Unavailable, "store down")
	}
	c.mu.Lock()
	c.appends[stream]++
	c.mu.Unlock()
	return c.Store.Append(ctx, stream, exp, evs...)
}

func (c *counting) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.appends)
}

func (c *counting) count(stream string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.appends[stream]
}

// TestBackfillStartsStoreDown: when the master's append fails, every line
// of it fails and nothing of any is written on any stream; the lines sent
// again are written, once each.
func TestBackfillStartsStoreDown(t *testing.T) {
	s, st, mkLines := startsEnv(t, Options{})
	lines := mkLines(pair("m1", "a1", ""), pair("m3", "a3", ""))
	st.fail.Store(true)
	for i, r := range s.backfillStarts(context.Background(), lines) {
		if !errors.Is(r.Err, errs.Unavailable) {
			t.Errorf("line %d with the store down: %+v", i+1, r)
		}
	}
	for _, stream := range []string{"craftsman-master", "mentorship-m1", "mentorship-m3"} {
		if h, err := command.Load(context.Background(), s.store, stream); err != nil || len(h.Events) != map[string]int{"craftsman-master": 2}[stream] {
			t.Errorf("%s holds %d events with the master's append failing (%v)", stream, len(h.Events), err)
		}
	}
	st.fail.Store(false)
	for i, r := range s.backfillStarts(context.Background(), lines) {
		if r.Err != nil || r.Result.Replayed {
			t.Errorf("line %d sent again: %+v", i+1, r)
		}
	}
	if h, err := command.Load(context.Background(), s.store, "craftsman-master"); err != nil || len(h.Events) != 4 {
		t.Errorf("the master holds %d events; want its two and the two starts (%v)", len(h.Events), err)
	}
}

// TestBackfillFindsTheServiceUnderItsMiddlewares: the HTTP handler batches
// pairing lines only when it finds the service under the middlewares the
// binaries wrap it in (their Unwrap).
func TestBackfillFindsTheServiceUnderItsMiddlewares(t *testing.T) {
	svc, err := New(commandtest.StartStore(t), time.Now, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wrapped := LoggingMiddleware(slog.New(slog.DiscardHandler))(InstrumentingMiddleware(kit.NewMetrics("mentorship"))(svc))
	if own, ok := servicekit.Find[*service](wrapped); !ok || own != svc {
		t.Fatalf("Find under the middlewares: %v, %v", own, ok)
	}
}
