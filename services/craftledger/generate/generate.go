// Package generate writes craftledger's demo population: academies of the
// three kinds across provinces, employers, and craftsmen with Chinese names
// in several trades (real occupation codes), each with up to ten years of
// employment, training, assessments and certificates climbing the skill
// ladder, school graduations, professional titles, competitions with
// placements, promotion entitlements, their approval and the exceptional
// certificates they lead to, and back-filled paper records (source
// "import") for what happened before the ledger existed.
//
// Everything is written through the real services' in-process Service
// values, so every invariant they check holds for the demo data too.
//
// Deterministic: the population is a pure function of the seed and the
// number of craftsmen; each craftsman's history depends only on the seed
// and its index, so generation order and concurrency change nothing.
// Idempotent: every command carries an idempotency key derived from the
// entity and the step (event ids derive from it), so a rerun — or a resumed
// interrupted run — writes nothing twice.
package generate

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/servicekit"
	"github.com/craftledger/craftledger/services/competition"
	"github.com/craftledger/craftledger/services/honour"
	"github.com/craftledger/craftledger/services/mentorship"
	"github.com/craftledger/craftledger/services/registry"
	"github.com/craftledger/craftledger/services/training"
)

// Services are the write-side services the generator writes through.
type Services struct {
	Registry    registry.Service
	Training    training.Service
	Competition competition.Service
	// Mentorship and Honour are optional: without them the population has
	// no mentorships, honours or innovations.
	Mentorship mentorship.Service
	Honour     honour.Service
	// Store, when set, is used for what no service offers yet: corrections
	// (EventCorrected), written through pkg/command with the hash chain.
	Store eventstore.Store
	// Over builds the same services (the same options: national-ID key,
	// keyring, checks) over another store; the direct mode runs them over
	// its stage of each craftsman's stream, so it records what these
	// services would (personal data sealed under the same keyring).
	// NewServices sets it.
	Over func(eventstore.Store) (Services, error)
}

// correct supersedes the event that the command with idempotency key
// origKey wrote on the craftsman's stream with a corrected replacement. No
// service records corrections yet, so this goes through pkg/command (same
// metadata, the same hash chain) as the caller in ctx.
func correct(ctx context.Context, s Services, craftsmanID, origKey string, fixed events.TrainingCompleted, reason string, at time.Time) (command.Result, error) {
	stream := events.CraftsmanStream(craftsmanID)
	rep, err := events.NewReplacement(fixed, nil)
	if err != nil {
		return command.Result{}, err
	}
	corr := events.EventCorrected{CraftsmanID: craftsmanID, SupersedesEventID: command.EventID(stream, origKey, 0), Reason: reason, Replacement: rep}
	if err := corr.Validate(); err != nil {
		return command.Result{}, err
	}
	meta, _, err := command.MetaFrom(ctx)
	if err != nil {
		return command.Result{}, err
	}
	h := command.New(s.Store, command.Options{Seal: servicekit.Seal})
	return h.Execute(ctx, command.Command{Name: "correct event", Stream: stream, Meta: meta, RetryOnConflict: true,
		Decide: func(_ context.Context, hist command.History) ([]command.Event, error) {
			for _, e := range hist.Events {
				if e.ID == corr.SupersedesEventID {
					return []command.Event{{Type: corr.EventType(), Data: corr, OccurredAt: at}}, nil
				}
			}
			return nil, errs.E(errs.NotFound, "event %s of %s to correct", corr.SupersedesEventID, stream)
		}})
}

// Config says what to generate.
type Config struct {
	// Craftsmen is the population size (default 100).
	Craftsmen int
	// Seed makes the population (default 1).
	Seed uint64
	// Concurrency is the number of craftsmen written at once (default 8).
	Concurrency int
	// Progress, when set, is called about every ProgressEvery and once at
	// the end of each phase, never concurrently.
	Progress      func(Progress)
	ProgressEvery time.Duration // default 250 ms
	// Direct writes each craftsman's own history with one append: the
	// services decide every command as usual, over an in-memory stage of
	// the craftsman's stream, and the complete, sealed history is appended
	// at once (a craftsman whose stream exists is skipped). Needs
	// Services.Store and Services.Over; much faster for large populations.
	// Competitions and mentorships, which span several streams, always go
	// through the services command by command.
	Direct bool
}

// Progress is a snapshot of a run.
type Progress struct {
	Phase    string // "organisations", "craftsmen", "mentorships", "competitions"
	Done     int    // items of the phase finished
	Total    int
	Commands int64 // commands run so far (all phases)
	Events   int64 // events written so far (replays excluded)
	Elapsed  time.Duration
}

// Stats summarise a run.
type Stats struct {
	Academies, Employers, Competitions, Craftsmen int
	Placements, Entitlements, Mentorships         int
	Commands                                      int64 // commands run
	Events                                        int64 // events written (not counting replays)
	Replayed                                      int64 // commands that found their key already used
	Elapsed                                       time.Duration
}

type gen struct {
	svc      Services
	cfg      Config
	w        *world
	start    time.Time
	commands atomic.Int64
	events   atomic.Int64
	replayed atomic.Int64

	mu       sync.Mutex // serialises Progress
	lastProg time.Time
}

// Run generates the population of cfg through svc. It stops at the first
// error (naming the craftsman and step); rerunning resumes without
// duplicating anything.
func Run(ctx context.Context, svc Services, cfg Config) (Stats, error) {
	if svc.Registry == nil || svc.Training == nil || svc.Competition == nil {
		return Stats{}, errs.E(errs.InvalidArgument, "generate: the registry, training and competition services are required")
	}
	if cfg.Craftsmen <= 0 {
		cfg.Craftsmen = 100
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 8
	}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = 250 * time.Millisecond
	}
	if cfg.Direct && (svc.Store == nil || svc.Over == nil) {
		return Stats{}, errs.E(errs.InvalidArgument, "generate: direct mode needs Services.Store and Services.Over (the same services over its stage)")
	}
	g := &gen{svc: svc, cfg: cfg, w: newWorld(cfg.Seed, cfg.Craftsmen), start: time.Now()}
	st := Stats{Academies: len(g.w.academies), Employers: len(g.w.employers), Competitions: len(g.w.comps), Craftsmen: cfg.Craftsmen}

	if err := g.organisations(ctx); err != nil {
		return st, err
	}
	entries, sums, err := g.craftsmen(ctx)
	if err != nil {
		return st, err
	}
	if svc.Mentorship != nil {
		if st.Mentorships, err = g.mentorships(ctx, sums); err != nil {
			return st, err
		}
	}
	st.Placements = len(entries)
	if st.Entitlements, err = g.results(ctx, entries); err != nil {
		return st, err
	}
	st.Commands, st.Events, st.Replayed, st.Elapsed = g.commands.Load(), g.events.Load(), g.replayed.Load(), time.Since(g.start)
	return st, nil
}

// exec runs one command as caller with the idempotency key key; facts
// that happened before the ledger existed are recorded as back-filled.
func (g *gen) exec(ctx context.Context, as auth.Claims, key string, at time.Time, run func(context.Context) (command.Result, error)) (command.Result, error) {
	ctx = auth.WithClaims(ctx, as)
	ctx = command.WithRequest(ctx, key, "", "")
	if !at.IsZero() && at.Before(LedgerDay) {
		ctx = command.WithSource(ctx, "import")
	}
	res, err := run(ctx)
	g.count(res, err)
	return res, err
}

func (g *gen) count(res command.Result, err error) {
	g.commands.Add(1)
	if err != nil {
		return
	}
	if res.Replayed {
		g.replayed.Add(1)
		return
	}
	g.events.Add(int64(len(res.EventIDs)))
}

func (g *gen) progress(phase string, done, total int, final bool) {
	if g.cfg.Progress == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	if !final && now.Sub(g.lastProg) < g.cfg.ProgressEvery {
		return
	}
	g.lastProg = now
	g.cfg.Progress(Progress{Phase: phase, Done: done, Total: total, Commands: g.commands.Load(), Events: g.events.Load(), Elapsed: now.Sub(g.start)})
}

// ignoreExists treats "already exists" as done: an entity created by an
// earlier run under another key (or by hand) is not an error for a rerun.
func ignoreExists(err error) error {
	if errors.Is(err, errs.Conflict) {
		return nil
	}
	return err
}

var orgBirth = time.Date(2015, 3, 1, 0, 0, 0, 0, time.UTC)

// organisations registers the issuers, academies with their courses, and
// the competitions.
func (g *gen) organisations(ctx context.Context) error {
	w := g.w
	total := len(w.academies) + len(w.employers) + len(w.comps)
	done := 0
	issuer := func(id, name, kind, region string) error {
		_, err := g.exec(ctx, adminClaims, "demo:issuer:"+id, orgBirth, func(ctx context.Context) (command.Result, error) {
			return g.svc.Registry.RegisterIssuer(ctx, registry.RegisterIssuerRequest{IssuerID: id, Name: name, Kind: kind, Region: region, OccurredAt: date(orgBirth)})
		})
		return ignoreExists(err)
	}
	for _, e := range w.employers {
		if err := issuer(e.id, e.name, registry.IssuerEmployer, e.region); err != nil {
			return fmt.Errorf("employer %s: %w", e.id, err)
		}
		done++
		g.progress("organisations", done, total, false)
	}
	for _, a := range w.academies {
		if err := issuer(a.id, a.name, registry.IssuerAcademy, a.region); err != nil {
			return fmt.Errorf("academy %s: %w", a.id, err)
		}
		_, err := g.exec(ctx, issuerOf(a.id), "demo:academy:"+a.id, orgBirth, func(ctx context.Context) (command.Result, error) {
			return g.svc.Registry.RegisterAcademy(ctx, registry.RegisterAcademyRequest{AcademyID: a.id, Name: a.name, Kind: a.kind, Region: a.region,
				ParentOrgID: a.parent, OccurredAt: date(orgBirth)})
		})
		if err := ignoreExists(err); err != nil {
			return fmt.Errorf("academy %s: %w", a.id, err)
		}
		for _, t := range a.trades {
			for _, c := range courses(t, a.kind) {
				_, err := g.exec(ctx, issuerOf(a.id), "demo:course:"+c.id, orgBirth, func(ctx context.Context) (command.Result, error) {
					return g.svc.Registry.AddCourse(ctx, registry.AddCourseRequest{AcademyID: a.id, CourseID: c.id, Title: c.title, Trade: trades[t].Trade,
						Hours: c.hours, Mode: c.mode, TargetLevel: c.target, OccurredAt: date(orgBirth)})
				})
				if err := ignoreExists(err); err != nil {
					return fmt.Errorf("academy %s course %s: %w", a.id, c.id, err)
				}
			}
		}
		done++
		g.progress("organisations", done, total, false)
	}
	for _, hr := range append([]struct{ id, name string }{{orgMOHRSS, "人力资源和社会保障部"}, {orgACFTU, "中华全国总工会"}, {orgWSC, "世界技能大赛中国组委会"}},
		provincialHR...) {
		if err := issuer(hr.id, hr.name, registry.IssuerHRAuthority, ""); err != nil {
			return fmt.Errorf("issuer %s: %w", hr.id, err)
		}
	}
	for _, c := range w.comps {
		def := c.def
		_, err := g.exec(ctx, issuerOf(c.org), "demo:competition:"+def.CompetitionID, day(def.StartsOn), func(ctx context.Context) (command.Result, error) {
			return g.svc.Competition.DefineCompetition(ctx, competition.DefineCompetitionRequest{CompetitionID: def.CompetitionID, Name: def.Name,
				Tier: def.Tier, Organiser: def.Organiser, Year: def.Year, Trades: def.Trades, Tracks: def.Tracks, StartsOn: def.StartsOn,
				EndsOn: def.EndsOn, Rules: def.Rules, OccurredAt: def.StartsOn})
		})
		if err := ignoreExists(err); err != nil {
			return fmt.Errorf("competition %s: %w", def.CompetitionID, err)
		}
		done++
		g.progress("organisations", done, total, false)
	}
	g.progress("organisations", done, total, true)
	return nil
}

// craftsmen writes every craftsman's own history, Concurrency at a time,
// and collects their competition entries.
func (g *gen) craftsmen(ctx context.Context) ([]entry, []summary, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	n := g.cfg.Craftsmen
	next := atomic.Int64{}
	var done atomic.Int64
	var mu sync.Mutex
	var entries []entry
	sums := make([]summary, n)
	var wg sync.WaitGroup
	for range min(g.cfg.Concurrency, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			svc, st := g.svc, (*stage)(nil)
			if g.cfg.Direct {
				st = &stage{real: g.svc.Store}
				var err error
				if svc, err = g.svc.Over(st); err != nil {
					cancel(err)
					return
				}
			}
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				p := g.w.person(i)
				if err := g.writeCraftsman(ctx, svc, st, p); err != nil {
					cancel(err)
					return
				}
				mu.Lock()
				entries = append(entries, p.entries...)
				mu.Unlock()
				sums[i] = p.sum
				g.progress("craftsmen", int(done.Add(1)), n, false)
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, nil, err
	}
	g.progress("craftsmen", n, n, true)
	return entries, sums, nil
}

// writeCraftsman runs a craftsman's steps through svc; in direct mode
// (st set) over the stage, then appends the whole history at once, or skips
// a craftsman whose stream already exists.
func (g *gen) writeCraftsman(ctx context.Context, svc Services, st *stage, p *person) error {
	stream := events.CraftsmanStream(p.id)
	if st != nil {
		_, err := g.svc.Store.ReadStream(ctx, stream, eventstore.ReadOptions{Max: 1})
		switch {
		case err == nil:
			g.commands.Add(int64(len(p.steps)))
			g.replayed.Add(int64(len(p.steps)))
			return nil
		case !errors.Is(err, errs.NotFound):
			return fmt.Errorf("craftsman %s: %w", p.id, err)
		}
		st.reset(stream)
	}
	for _, s := range p.steps {
		_, err := g.exec(ctx, s.as, "demo:"+p.id+":"+s.name, s.at, func(ctx context.Context) (command.Result, error) { return s.run(ctx, svc) })
		if err != nil {
			return fmt.Errorf("craftsman %s, step %s: %w", p.id, s.name, err)
		}
	}
	if st != nil {
		if _, err := g.svc.Store.Append(ctx, stream, eventstore.NoStream(), st.take()...); err != nil {
			return fmt.Errorf("craftsman %s: append the history: %w", p.id, err)
		}
	}
	return nil
}

// results publishes every competition's results in the order they happened
// (the yearly cap depends on it), then approves the entitlements they
// granted and records the exceptional certificates.
func (g *gen) results(ctx context.Context, entries []entry) (int, error) {
	byComp := map[int][]entry{}
	for _, e := range entries {
		byComp[e.comp] = append(byComp[e.comp], e)
	}
	order := make([]int, 0, len(g.w.comps))
	for ci := range g.w.comps {
		order = append(order, ci)
	}
	sort.SliceStable(order, func(a, b int) bool { return g.w.comps[order[a]].date < g.w.comps[order[b]].date })
	granted := 0
	for k, ci := range order {
		es := byComp[ci]
		if len(es) == 0 {
			continue
		}
		c := g.w.comps[ci]
		// rank by score within each track; ties broken by craftsman index
		sort.Slice(es, func(a, b int) bool {
			if es[a].track != es[b].track {
				return es[a].track < es[b].track
			}
			if es[a].score != es[b].score {
				return es[a].score > es[b].score
			}
			return es[a].persIdx < es[b].persIdx
		})
		var in []competition.PlacementInput
		rank, track := 0, ""
		for _, e := range es {
			if e.track != track {
				rank, track = 0, e.track
			}
			rank++
			tr := e.trade
			in = append(in, competition.PlacementInput{CraftsmanID: e.person, Track: e.track, Trade: &tr, Rank: rank, Award: award(c.def.Tier, rank, len(es))})
		}
		// A competition happens once: when its results are already in the
		// store (an earlier, maybe smaller, population), publish exactly
		// those again — a replay that completes an interrupted run — and
		// leave later craftsmen out.
		if before, err := g.published(ctx, c.def.CompetitionID); err != nil {
			return granted, err
		} else if len(before) > 0 {
			in = in[:0]
			for _, p := range before {
				tr := p.Trade
				in = append(in, competition.PlacementInput{CraftsmanID: p.CraftsmanID, Track: p.Track, TeamSize: p.TeamSize, TeamID: p.TeamID,
					Trade: &tr, Rank: p.Rank, Award: p.Award})
			}
		}
		resultsAt := day(c.date)
		var resp competition.PublishResultsResponse
		_, err := g.exec(ctx, issuerOf(c.org), "demo:results:"+c.def.CompetitionID, resultsAt, func(ctx context.Context) (command.Result, error) {
			var err error
			resp, err = g.svc.Competition.PublishResults(ctx, competition.PublishResultsRequest{CompetitionID: c.def.CompetitionID, Placements: in, OccurredAt: c.date})
			return resp.Publication, err
		})
		if err != nil {
			return granted, fmt.Errorf("competition %s results: %w", c.def.CompetitionID, err)
		}
		for _, pr := range resp.Placements {
			if !pr.Replayed {
				g.events.Add(int64(len(pr.EventIDs)))
			}
			if err := g.triggeredHonours(ctx, c, pr); err != nil {
				return granted, err
			}
			if pr.Entitlement == nil {
				continue
			}
			granted++
			if err := g.approveAndCertify(ctx, c, pr); err != nil {
				return granted, err
			}
		}
		g.progress("competitions", k+1, len(order), false)
	}
	g.progress("competitions", len(order), len(order), true)
	return granted, nil
}

// published returns the placements already published for a competition
// (none without a store to read).
func (g *gen) published(ctx context.Context, id string) ([]events.Placement, error) {
	if g.svc.Store == nil {
		return nil, nil
	}
	recs, err := g.svc.Store.ReadStream(ctx, events.CompetitionStream(id), eventstore.ReadOptions{})
	if errors.Is(err, errs.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("competition %s: %w", id, err)
	}
	reg := events.NewRegistry()
	var out []events.Placement
	for _, r := range recs {
		if r.Type != events.TypeCompetitionResultsPublished {
			continue
		}
		p, err := reg.Decode(r.Type, r.Data)
		if err != nil {
			return nil, fmt.Errorf("competition %s revision %d: %w", id, r.Revision, err)
		}
		out = append(out, p.(events.CompetitionResultsPublished).Placements...)
	}
	return out, nil
}

// approveAndCertify records the HR authority's approval of an entitlement
// and the certificate issued by the exceptional route.
func (g *gen) approveAndCertify(ctx context.Context, c competitionSpec, pr competition.PlacementResult) error {
	ent := pr.Entitlement
	approvedAt := day(c.date).AddDate(0, 2, 0)
	certAt := approvedAt.AddDate(0, 1, 0)
	if certAt.After(End) {
		return nil // still waiting for approval on the demo's last day
	}
	if ent.RequiresApproval {
		_, err := g.exec(ctx, hrOf(c.hr), "demo:"+pr.CraftsmanID+":approve-"+ent.EntitlementID, approvedAt, func(ctx context.Context) (command.Result, error) {
			return g.svc.Competition.ApproveEntitlement(ctx, competition.ApproveEntitlementRequest{CraftsmanID: pr.CraftsmanID, EntitlementID: ent.EntitlementID,
				ApprovalRef: fmt.Sprintf("%s〔%d〕%03d号", c.hr, approvedAt.Year(), 1+len(pr.PlacementID)%97), OccurredAt: date(approvedAt)})
		})
		if err != nil {
			return fmt.Errorf("craftsman %s: approve %s: %w", pr.CraftsmanID, ent.EntitlementID, err)
		}
	}
	number := fmt.Sprintf("S%s%02d%s%d", "000000", certAt.Year()%100, ent.EntitlementID[:8], ent.Level.Info().Grade)
	_, err := g.exec(ctx, issuerOf(c.hr), "demo:"+pr.CraftsmanID+":cert-"+ent.EntitlementID, certAt, func(ctx context.Context) (command.Result, error) {
		return g.svc.Training.CertifySkillLevel(ctx, training.CertifyRequest{CraftsmanID: pr.CraftsmanID, Trade: ent.Trade, Level: ent.Level,
			CertificateNumber: number, Family: events.FamilySkillLevel, EvaluatingOrgID: c.hr,
			IssuingOrg: events.Org{ID: c.hr, Kind: events.IssuerDesignatedBody}, Route: events.RouteExceptional,
			EntitlementID: ent.EntitlementID, OccurredAt: date(certAt)})
	})
	if err != nil {
		return fmt.Errorf("craftsman %s: exceptional certificate: %w", pr.CraftsmanID, err)
	}
	return nil
}

// award is the award of a rank: medals for the top three of world and
// national competitions, excellence for the next third.
func award(tier string, rank, n int) string {
	if tier != events.TierWorld && tier != events.TierNational {
		return ""
	}
	switch {
	case rank == 1:
		return events.AwardGold
	case rank == 2:
		return events.AwardSilver
	case rank == 3:
		return events.AwardBronze
	case rank <= max(4, n/3):
		return events.AwardExcellence
	}
	return events.AwardNone
}
