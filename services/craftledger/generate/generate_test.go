package generate_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/esdbserver"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/keyring"
	"github.com/craftledger/craftledger/pkg/servicekit"
	"github.com/craftledger/craftledger/services/competition"
	"github.com/craftledger/craftledger/services/craftledger/generate"
	"github.com/craftledger/craftledger/services/honour"
	"github.com/craftledger/craftledger/services/mentorship"
	"github.com/craftledger/craftledger/services/registry"
	"github.com/craftledger/craftledger/services/training"
)

// newStore starts an embedded store over real gRPC on 127.0.0.1 and
// returns the services the generator writes through, the registry sealing
// personal data under keys (nil: in clear).
func newStore(t *testing.T, keys registry.Keyring) (eventstore.Store, generate.Services) {
	t.Helper()
	srv, err := esdbserver.Start(esdbserver.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	st, err := eventstore.Open(context.Background(), eventstore.Config{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, services(t, st, keys)
}

func services(t testing.TB, st eventstore.Store, keys registry.Keyring) generate.Services {
	t.Helper()
	s, err := build(st, keys)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// build makes the services as the all-in-one runs them; Over makes the
// same ones over the direct mode's stages.
func build(st eventstore.Store, keys registry.Keyring) (generate.Services, error) {
	s := generate.Services{Store: st, Over: func(other eventstore.Store) (generate.Services, error) { return build(other, keys) }}
	var err error
	if s.Registry, err = registry.New(st, time.Now, registry.Options{NationalIDKey: []byte(registry.DevNationalIDKey), Keyring: keys}); err != nil {
		return s, err
	}
	if s.Training, err = training.New(st, time.Now, training.Options{}); err != nil {
		return s, err
	}
	// approval restricted to the generator's approving authorities, as in
	// the all-in-one (app.DefaultApprovers): a refused approval fails the run
	if s.Competition, err = competition.New(st, time.Now, competition.Options{Seal: servicekit.Seal, Approvers: generate.Approvers()}); err != nil {
		return s, err
	}
	if s.Mentorship, err = mentorship.New(st, time.Now, mentorship.Options{Seal: servicekit.Seal}); err != nil {
		return s, err
	}
	// writers checked, as in the all-in-one: every honour recorded by its
	// conferring body, every innovation by an organisation linked to the
	// worker, else the generator fails on the refusal
	s.Honour, err = honour.New(st, time.Now, honour.Options{Seal: servicekit.Seal, CheckWriters: true, ConferringBodies: generate.ConferringBodies()})
	return s, err
}

// newKeys is a fresh personal-data keyring, as the all-in-one's <data>/keys.
func newKeys(t *testing.T) *keyring.Dir {
	t.Helper()
	k, err := keyring.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type rec struct {
	ID, Type       string
	Data, Metadata string
}

// dump reads every event, grouped by stream in revision order (the order
// of $all depends on concurrency; each stream's order must not).
func dump(t *testing.T, st eventstore.Store) map[string][]rec {
	t.Helper()
	out := map[string][]rec{}
	err := eventstore.ForEachAll(context.Background(), st, nil, 1000, nil, func(e eventstore.RecordedEvent) error {
		r := rec{e.ID, e.Type, string(e.Data), string(e.Metadata)}
		if strings.HasPrefix(e.Stream, registry.CategoryNationalID+"-") {
			// the registry's national-ID reservations record when they
			// were made (now), not when the craftsman registered
			r.Metadata = ""
		}
		out[e.Stream] = append(out[e.Stream], r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// firstDiff names the first event that differs between two dumps.
func firstDiff(a, b map[string][]rec) string {
	var streams []string
	for s := range a {
		streams = append(streams, s)
	}
	for s := range b {
		if _, ok := a[s]; !ok {
			streams = append(streams, s)
		}
	}
	sort.Strings(streams)
	for _, s := range streams {
		x, y := a[s], b[s]
		for i := 0; i < max(len(x), len(y)); i++ {
			if i >= len(x) || i >= len(y) || x[i] != y[i] {
				var l, r rec
				if i < len(x) {
					l = x[i]
				}
				if i < len(y) {
					r = y[i]
				}
				return fmt.Sprintf("%s@%d:\n  %+v\n  %+v", s, i, l, r)
			}
		}
	}
	return ""
}

func count(m map[string][]rec) (n int) {
	for _, v := range m {
		n += len(v)
	}
	return n
}

const n = 60

// TestGenerateDeterministicAndIdempotent runs with personal data sealed,
// as the all-in-one and ledgerctl generate do, all stores under one
// keyring: sealing is deterministic, so the same keyring seals a name to
// the same bytes whichever mode decided it.
func TestGenerateDeterministicAndIdempotent(t *testing.T) {
	ctx := context.Background()
	keys := newKeys(t)
	stA, svcA := newStore(t, keys)
	var phases []string
	stats, err := generate.Run(ctx, svcA, generate.Config{Craftsmen: n, Seed: 7, Concurrency: 8, Progress: func(p generate.Progress) {
		if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
			phases = append(phases, p.Phase)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first run: %+v", stats)
	if !cmp.Equal(phases, []string{"organisations", "craftsmen", "mentorships", "competitions"}) {
		t.Errorf("progress phases %v", phases)
	}
	a := dump(t, stA)
	reservations := 0
	for stream, recs := range a {
		if strings.HasPrefix(stream, registry.CategoryNationalID+"-") {
			reservations += len(recs)
		}
	}
	if reservations != n {
		t.Errorf("%d national-ID reservations, want one per craftsman (%d): the numbers must be unique", reservations, n)
	}
	if got := count(a) - reservations; int64(got) != stats.Events {
		t.Errorf("store holds %d events besides the reservations, the generator says it wrote %d", got, stats.Events)
	}

	// The population is what the brief asks for.
	kinds := map[string]bool{}
	craftsmen, regions := 0, map[string]bool{}
	types := map[string]int{}
	reg := events.NewRegistry()
	for stream, recs := range a {
		for _, r := range recs {
			types[r.Type]++
			p, err := reg.Decode(r.Type, []byte(r.Data))
			if err != nil {
				continue // service-local types (issuers, assessments)
			}
			switch p := p.(type) {
			case events.AcademyRegistered:
				kinds[p.Kind] = true
			case events.CraftsmanRegistered:
				craftsmen++
				regions[p.Region] = true
				if p.Personal != nil || p.SealedPersonal == nil {
					t.Errorf("%s: personal data not sealed: %+v", stream, p.Personal)
					continue
				}
				if pers, err := keys.Open(*p.SealedPersonal); err != nil || len([]rune(pers.Name)) < 2 {
					t.Errorf("%s: no Chinese name: %+v, %v", stream, pers, err)
				}
			}
		}
	}
	if craftsmen != n {
		t.Errorf("%d craftsmen registered, want %d", craftsmen, n)
	}
	if len(kinds) != 3 {
		t.Errorf("academy kinds %v, want all three", kinds)
	}
	if len(regions) < 4 {
		t.Errorf("regions %v, want several", regions)
	}
	for _, typ := range []string{events.TypeEmploymentStarted, events.TypeTrainingEnrolled, events.TypeTrainingCompleted, events.TypeSkillLevelCertified,
		events.TypeGraduated, events.TypeCompetitionDefined, events.TypeCompetitionPlaced, events.TypePromotionEntitlementGranted,
		events.TypePromotionEntitlementApproved, events.TypeMentorshipStarted, events.TypeHonourConferred, events.TypeInnovationRecognised, events.TypeEventCorrected} {
		if types[typ] == 0 {
			t.Errorf("no %s events (have %v)", typ, types)
		}
	}
	if stats.Entitlements == 0 || stats.Placements == 0 {
		t.Errorf("no competition outcomes: %+v", stats)
	}
	// Every correction supersedes an event of its own stream.
	for stream, recs := range a {
		ids := map[string]bool{}
		for _, r := range recs {
			ids[r.ID] = true
			if r.Type != events.TypeEventCorrected {
				continue
			}
			p, err := reg.Decode(r.Type, []byte(r.Data))
			if err != nil {
				t.Fatal(err)
			}
			if c := p.(events.EventCorrected); !ids[c.SupersedesEventID] {
				t.Errorf("%s: correction of %s, which is not an earlier event of the stream", stream, c.SupersedesEventID)
			}
		}
	}
	back := 0
	for _, recs := range a {
		for _, r := range recs {
			if strings.Contains(r.Metadata, `"source":"import"`) {
				back++
			}
		}
	}
	if back == 0 {
		t.Error("no back-filled (source import) records")
	}

	// Rerun on the same store: nothing new.
	again, err := generate.Run(ctx, svcA, generate.Config{Craftsmen: n, Seed: 7, Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	if again.Events != 0 {
		t.Errorf("rerun wrote %d events, want 0", again.Events)
	}
	if diff := cmp.Diff(a, dump(t, stA)); diff != "" {
		t.Errorf("rerun changed the store: %s", firstDiff(a, dump(t, stA)))
	}

	// Same seed into a fresh store with another concurrency: the same
	// streams, ids, payloads and metadata.
	stB, svcB := newStore(t, keys)
	if _, err := generate.Run(ctx, svcB, generate.Config{Craftsmen: n, Seed: 7, Concurrency: 1}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, dump(t, stB)); diff != "" {
		t.Errorf("same seed, different population: %s", firstDiff(a, dump(t, stB)))
	}

	// Direct mode (each craftsman's history decided by the same services
	// over an in-memory stage, appended at once) writes exactly the same
	// events, names sealed alike, and its rerun writes nothing.
	stC, svcC := newStore(t, keys)
	direct, err := generate.Run(ctx, svcC, generate.Config{Craftsmen: n, Seed: 7, Concurrency: 4, Direct: true})
	if err != nil {
		t.Fatal(err)
	}
	if direct.Events != stats.Events-int64(reservations) && direct.Events != stats.Events {
		t.Errorf("direct mode wrote %d events, command by command %d", direct.Events, stats.Events)
	}
	if diff := cmp.Diff(a, dump(t, stC)); diff != "" {
		t.Errorf("direct mode, different population: %s", firstDiff(a, dump(t, stC)))
	}
	if again, err := generate.Run(ctx, svcC, generate.Config{Craftsmen: n, Seed: 7, Concurrency: 4, Direct: true}); err != nil || again.Events != 0 {
		t.Errorf("direct rerun: %d events, %v", again.Events, err)
	}
}

func TestGenerateSeedChangesPopulation(t *testing.T) {
	ctx := context.Background()
	names := func(seed uint64) []string {
		st, svc := newStore(t, nil)
		if _, err := generate.Run(ctx, svc, generate.Config{Craftsmen: 10, Seed: seed}); err != nil {
			t.Fatal(err)
		}
		var out []string
		for stream, recs := range dump(t, st) {
			if strings.HasPrefix(stream, "craftsman-") {
				out = append(out, fmt.Sprintf("%s %s", stream, recs[0].Data))
			}
		}
		sort.Strings(out)
		return out
	}
	if a, b := names(1), names(2); cmp.Equal(a, b) {
		t.Errorf("seeds 1 and 2 made the same craftsmen:\n%v", a)
	}
}

// BenchmarkGenerate writes b.N craftsmen (with their organisations,
// competitions and mentorships) into a fresh embedded store over gRPC.
//
//	go test -run '^$' -bench Generate -benchtime 2000x ./services/craftledger/generate/
func BenchmarkGenerate(b *testing.B) {
	b.Run("commands", func(b *testing.B) { benchGenerate(b, false) })
	b.Run("direct", func(b *testing.B) { benchGenerate(b, true) })
}

func benchGenerate(b *testing.B, direct bool) {
	srv, err := esdbserver.Start(esdbserver.Config{DataDir: b.TempDir(), Addr: "127.0.0.1:0", Insecure: true})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	st, err := eventstore.Open(context.Background(), eventstore.Config{URL: srv.URL()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	svc := services(b, st, nil)
	b.ResetTimer()
	stats, err := generate.Run(context.Background(), svc, generate.Config{Craftsmen: b.N, Seed: 1, Concurrency: 8, Direct: direct})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(stats.Events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(stats.Craftsmen)/b.Elapsed().Seconds(), "craftsmen/s")
	b.ReportMetric(float64(stats.Events)/float64(stats.Craftsmen), "events/craftsman")
}

// ownHistory is the part of a craftsman's stream written by the craftsman
// phase: everything before the first mentorship or competition event.
func ownHistory(recs []rec) []rec {
	for i, r := range recs {
		if strings.HasPrefix(r.Type, "Mentorship") || r.Type == events.TypeCompetitionPlaced || strings.HasPrefix(r.Type, "PromotionEntitlement") {
			return recs[:i]
		}
	}
	return recs
}

// TestGeneratePopulationGrows: generating more craftsmen into a store that
// holds a smaller population works (competitions already held keep their
// results, mentorships their parties) and every craftsman's own history is
// what a fresh run of the larger population writes.
func TestGeneratePopulationGrows(t *testing.T) {
	ctx := context.Background()
	keys := newKeys(t)
	stA, svcA := newStore(t, keys)
	for _, n := range []int{30, 45} {
		if _, err := generate.Run(ctx, svcA, generate.Config{Craftsmen: n, Seed: 5, Concurrency: 4}); err != nil {
			t.Fatalf("%d craftsmen: %v", n, err)
		}
	}
	stB, svcB := newStore(t, keys)
	if _, err := generate.Run(ctx, svcB, generate.Config{Craftsmen: 45, Seed: 5, Concurrency: 4, Direct: true}); err != nil {
		t.Fatal(err)
	}
	a, b := dump(t, stA), dump(t, stB)
	streams := 0
	for stream, recs := range b {
		if !strings.HasPrefix(stream, "craftsman-") {
			continue
		}
		streams++
		if diff := cmp.Diff(ownHistory(recs), ownHistory(a[stream])); diff != "" {
			t.Errorf("%s: own history differs (-fresh 45 +grown 30→45):\n%.1500s", stream, diff)
		}
	}
	if streams != 45 {
		t.Errorf("%d craftsmen in the fresh store, want 45", streams)
	}
}

// TestDirectModeSealsPersonalData: the direct mode records personal data
// as the registry it was given does. With a keyring, every registration
// and profile change of the store carries it sealed (never in clear),
// every sealed value opens under the keyring, and no name or phone
// number it opens to appears anywhere in the store — data or metadata of
// any event. (Before, the direct mode decided over a registry of its own
// without the keyring and wrote every name in clear.)
func TestDirectModeSealsPersonalData(t *testing.T) {
	ctx := context.Background()
	keys := newKeys(t)
	st, svc := newStore(t, keys)
	if _, err := generate.Run(ctx, svc, generate.Config{Craftsmen: 20, Seed: 3, Concurrency: 4, Direct: true}); err != nil {
		t.Fatal(err)
	}
	reg := events.NewRegistry()
	all := dump(t, st)
	secrets := map[string]bool{}
	registered := 0
	for stream, recs := range all {
		for _, r := range recs {
			var personal *events.Personal
			var sealed *events.SealedPersonal
			switch r.Type {
			case events.TypeCraftsmanRegistered:
				p, err := reg.Decode(r.Type, []byte(r.Data))
				if err != nil {
					t.Fatal(err)
				}
				e := p.(events.CraftsmanRegistered)
				personal, sealed = e.Personal, e.SealedPersonal
				registered++
			case events.TypeCraftsmanProfileChanged:
				p, err := reg.Decode(r.Type, []byte(r.Data))
				if err != nil {
					t.Fatal(err)
				}
				e := p.(events.CraftsmanProfileChanged)
				if e.Personal == nil && e.SealedPersonal == nil {
					continue
				}
				personal, sealed = e.Personal, e.SealedPersonal
			default:
				continue
			}
			if personal != nil || sealed == nil {
				t.Errorf("%s@%s: personal data in clear: %+v", stream, r.Type, personal)
				continue
			}
			p, err := keys.Open(*sealed)
			if err != nil || len([]rune(p.Name)) < 2 {
				t.Errorf("%s@%s: sealed personal data opens to %+v, %v", stream, r.Type, p, err)
				continue
			}
			secrets[p.Name] = true
			if p.Phone != "" {
				secrets[p.Phone] = true
			}
		}
	}
	if registered != 20 {
		t.Fatalf("%d registrations, want 20", registered)
	}
	for stream, recs := range all {
		for _, r := range recs {
			for s := range secrets {
				if strings.Contains(r.Data, s) || strings.Contains(r.Metadata, s) {
					t.Errorf("%s@%s: %q in clear in the store", stream, r.Type, s)
				}
			}
		}
	}
}

// TestApprovers: the approving authorities are HR authorities the demo
// registers, each named once (the generation tests run the competition
// service restricted to them, so a missing one fails there).
func TestApprovers(t *testing.T) {
	got := generate.Approvers()
	if len(got) == 0 {
		t.Fatal("no approvers")
	}
	seen := map[string]bool{}
	for _, id := range got {
		if id == "" || seen[id] {
			t.Errorf("approver %q empty or repeated in %v", id, got)
		}
		seen[id] = true
	}
	if !seen["mohrss"] {
		t.Errorf("approvers %v lack the ministry (mohrss), which approves the national competitions", got)
	}
}
