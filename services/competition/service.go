package competition

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/events/policy"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
)

// Service records competitions, their results and the approval of the
// entitlements they grant. Every method takes the caller from ctx (auth
// claims) and the request ids (command.HTTPToContext).
type Service interface {
	// DefineCompetition opens a competition's stream with its rules.
	DefineCompetition(ctx context.Context, req DefineCompetitionRequest) (command.Result, error)
	// PublishResults records placements on the competition's stream and on
	// each worker's stream, with the entitlements the rules grant.
	PublishResults(ctx context.Context, req PublishResultsRequest) (PublishResultsResponse, error)
	// ApproveEntitlement records the HR authority's approval (核准).
	ApproveEntitlement(ctx context.Context, req ApproveEntitlementRequest) (command.Result, error)
	// Correct records an EventCorrected superseding a competition placement on a
	// craftsman's stream (servicekit.Corrector) and, in the same append, what
	// the grant rules decide again on the corrected placement (regrant).
	Correct(ctx context.Context, req servicekit.CorrectionRequest) (CorrectionResult, error)
}

// Corrected lists the event types the competition service corrects, with the
// fields a replacement must keep.
func Corrected() map[string][]string {
	return events.CorrectionIdentity(events.TypeCompetitionPlaced)
}

// DefineCompetitionRequest defines a competition. Organiser defaults to the
// caller's organisation; an issuer may only define competitions its own
// organisation organises. Year defaults to the year of StartsOn, else of
// OccurredAt (the definition's date, default now).
type DefineCompetitionRequest struct {
	CompetitionID string                  `json:"competitionId"`
	Name          string                  `json:"name"`
	Tier          string                  `json:"tier"`
	Organiser     string                  `json:"organiser,omitempty"`
	Year          int                     `json:"year,omitempty"`
	Trades        []events.Trade          `json:"trades"`
	Tracks        []string                `json:"tracks"`
	StartsOn      string                  `json:"startsOn,omitempty"`
	EndsOn        string                  `json:"endsOn,omitempty"`
	Rules         events.CompetitionRules `json:"rules"`
	OccurredAt    string                  `json:"occurredAt,omitempty"`
}

// PlacementInput is one result line. Track and trade may be omitted when
// the competition has only one; TeamSize defaults to 1 (individual).
type PlacementInput struct {
	CraftsmanID string        `json:"craftsmanId"`
	Track       string        `json:"track,omitempty"`
	TeamSize    int           `json:"teamSize,omitempty"`
	TeamID      string        `json:"teamId,omitempty"`
	Trade       *events.Trade `json:"trade,omitempty"`
	Rank        int           `json:"rank"`
	Award       string        `json:"award,omitempty"`
}

// PublishResultsRequest publishes (some of) a competition's results.
// OccurredAt is the date of the results (default now); it decides the
// calendar year of the yearly cap.
type PublishResultsRequest struct {
	CompetitionID string           `json:"-"` // from the path
	Placements    []PlacementInput `json:"placements"`
	OccurredAt    string           `json:"occurredAt,omitempty"`
}

// Entitlement is a promotion entitlement granted by a placement.
type Entitlement struct {
	EntitlementID    string       `json:"entitlementId"`
	Trade            events.Trade `json:"trade"`
	Level            events.Level `json:"level"`
	RuleID           string       `json:"ruleId"`
	RequiresApproval bool         `json:"requiresApproval"`
}

// TriggeredHonour is an honour a placement triggers under the rules. The
// competition service does not confer it: the conferring body does,
// through the honour service, with this honourId and placementId (the
// honour service then makes the placement's event its causation).
type TriggeredHonour struct {
	// HonourID is the honour's deterministic id: recorded with it, the
	// conferral is idempotent too.
	HonourID       string `json:"honourId"`
	HonourCode     string `json:"honourCode"`
	HonourName     string `json:"honourName,omitempty"`
	Level          string `json:"level"`
	ConferringBody string `json:"conferringBody"`
}

// PlacementResult is what happened to one placement on its worker's stream.
type PlacementResult struct {
	PlacementID string `json:"placementId"`
	CraftsmanID string `json:"craftsmanId"`
	// PlacementEventID is the id of the CompetitionPlaced event (the
	// causation id for triggered honours).
	PlacementEventID string `json:"placementEventId"`
	command.Result
	Entitlement *Entitlement `json:"entitlement,omitempty"`
	// Withheld says why a matching grant rule granted nothing (the level is
	// already held, the yearly cap is reached); empty on replays.
	Withheld string            `json:"withheld,omitempty"`
	Honours  []TriggeredHonour `json:"honours,omitempty"`
}

// PublishResultsResponse is the answer of PublishResults. Position is the
// latest $all position written (or found), for read-your-writes.
type PublishResultsResponse struct {
	CompetitionID string              `json:"competitionId"`
	Publication   command.Result      `json:"publication"`
	Placements    []PlacementResult   `json:"placements"`
	Position      eventstore.Position `json:"position"`
	// Replayed is true when every placement had already been recorded.
	Replayed bool `json:"replayed"`
}

// StatusCode is 201 when anything was written, 200 for a pure replay.
func (r PublishResultsResponse) StatusCode() int {
	if r.Replayed {
		return 200
	}
	return 201
}

// ApproveEntitlementRequest approves an entitlement. ApprovalRef is the
// authority's document reference. ApprovingOrgID defaults to the caller's
// organisation; only an admin may name another.
type ApproveEntitlementRequest struct {
	CraftsmanID    string `json:"-"` // from the path
	EntitlementID  string `json:"-"` // from the path
	ApprovalRef    string `json:"approvalRef"`
	ApprovingOrgID string `json:"approvingOrgId,omitempty"`
	OccurredAt     string `json:"occurredAt,omitempty"`
}

// PlatformOrg is the issuer organisation recorded for admins acting
// without an organisation of their own.
const PlatformOrg = servicekit.PlatformOrg

// Options configure the service.
type Options struct {
	// Approvers, when not empty, lists the organisations whose hr users may
	// approve entitlements (the HR departments); empty, or AnyApprover among
	// them, means any hr user. The binaries fill it with ParseApprovers.
	Approvers []string
	// Seal chains every event's metadata (prevHash/hash); nil means servicekit.Seal
	// (events/chain), as every service writing craftsman streams does.
	Seal command.Seal
	// MaxRetries bounds the conflict-retry loop on workers' streams (0 =
	// command's default).
	MaxRetries int
	// Parallel is how many workers' streams one publication writes at a
	// time (0 = 8); one worker's placements are always written in order.
	Parallel int
	// PublicationRetries bounds it on a competition's stream, where
	// concurrent publications of one competition queue up (0 = 100).
	PublicationRetries int
}

// AnyApprover, as one of Options.Approvers (the value "*" of --approvers),
// lets every hr user approve: only for a deployment whose hr users are all
// the human-resources authority's.
const AnyApprover = "*"

// ParseApprovers reads the value of --approvers / $CRAFTLEDGER_APPROVERS
// (bin/competition and the all-in-one): a comma list of the organisations
// whose hr users may approve entitlements, or AnyApprover. A list naming
// nobody is refused, so a deployment that forgets it does not start
// instead of letting the hr user of any employer approve; so is * beside
// names (which would silently mean any hr user).
func ParseApprovers(list string) ([]string, error) {
	orgs := servicekit.SplitList(list)
	if len(orgs) == 0 {
		return nil, errs.E(errs.InvalidArgument, "--approvers / $CRAFTLEDGER_APPROVERS: name the human-resources authorities "+
			"whose hr users may approve promotion entitlements (a comma list of organisations), or * to let any hr user approve")
	}
	if len(orgs) > 1 && slices.Contains(orgs, AnyApprover) {
		return nil, errs.E(errs.InvalidArgument, "--approvers / $CRAFTLEDGER_APPROVERS: %q mixes * (any hr user) with named organisations; give either the list or *", list)
	}
	return orgs, nil
}

type service struct {
	corrector servicekit.Corrector
	folds     foldCache // competition streams' folds, extended incrementally
	parallel  int
	h         *command.Handler
	pub       *command.Handler // for competition streams
	// publish runs publications through pub, combining those that queue
	// on one competition (its results back-filled a line each) into one
	// append.
	publish *command.Combiner
	// results runs a craftsman's back-filled result lines together
	// (backfillResults).
	results   *command.Group
	store     eventstore.Store
	clock     func() time.Time
	reg       *events.Registry
	approvers []string
	// defined and registeredWorkers remember definitions read and workers
	// found registered (known: facts that stay true).
	defined           *known[competition]
	registeredWorkers *known[struct{}]
	decoded           *servicekit.DecodedFacts // craftsman streams' career facts
}

// New returns the competition service over store. clock is the only
// source of "now".
func New(store eventstore.Store, clock func() time.Time, opts Options) (Service, error) {
	if store == nil {
		return nil, errs.E(errs.InvalidArgument, "competition: a store is required")
	}
	if clock == nil {
		return nil, errs.E(errs.InvalidArgument, "competition: a clock is required")
	}
	if opts.Seal == nil {
		opts.Seal = servicekit.Seal
	}
	h := command.New(store, command.Options{Clock: clock, Seal: opts.Seal, MaxRetries: opts.MaxRetries})
	if opts.PublicationRetries <= 0 {
		opts.PublicationRetries = 100
	}
	pub := command.New(store, command.Options{Clock: clock, Seal: opts.Seal, MaxRetries: opts.PublicationRetries})
	if opts.Parallel <= 0 {
		opts.Parallel = 8
	}
	approvers := slices.Clone(opts.Approvers)
	if slices.Contains(approvers, AnyApprover) {
		approvers = nil
	}
	reg := events.NewRegistry()
	s := &service{parallel: opts.Parallel, h: h, pub: pub, publish: command.NewCombiner(pub), store: store, clock: clock, reg: reg,
		defined: newKnown[competition](4096), registeredWorkers: newKnown[struct{}](65536),
		decoded:   servicekit.NewDecodedFacts(servicekit.DefaultDecodedStreams, servicekit.DefaultDecodedFacts),
		corrector: servicekit.Corrector{Handler: h, Registry: reg, Owned: Corrected(), PlatformOrg: PlatformOrg}, approvers: approvers}
	s.results = &command.Group{Run: s.backfillResults}
	return s, nil
}

func (s *service) DefineCompetition(ctx context.Context, req DefineCompetitionRequest) (command.Result, error) {
	meta, c, err := servicekit.Writer(ctx)
	if err != nil {
		return command.Result{}, err
	}
	if req.Organiser == "" {
		// The caller's organisation; an admin's command is recorded as
		// the platform (servicekit.Writer), but an admin of an
		// organisation still defines that organisation's competition.
		req.Organiser = cmp.Or(c.OrgID, meta.Issuer)
	}
	at, err := servicekit.When(req.OccurredAt, s.clock())
	if err != nil {
		return command.Result{}, err
	}
	if req.Year == 0 {
		req.Year = career.CivilDate(at).Year()
		if t, err := time.Parse(time.DateOnly, req.StartsOn); err == nil {
			req.Year = t.Year()
		}
	}
	p := events.CompetitionDefined{CompetitionID: req.CompetitionID, Name: req.Name, Tier: req.Tier, Organiser: req.Organiser,
		Year: req.Year, Trades: req.Trades, Tracks: req.Tracks, StartsOn: req.StartsOn, EndsOn: req.EndsOn, Rules: req.Rules}
	if err := p.Validate(); err != nil {
		return command.Result{}, servicekit.Invalid(err)
	}
	if err := auth.RequireWriteFor(c, req.Organiser); err != nil {
		return command.Result{}, err
	}
	data, err := json.Marshal(p)
	if err != nil {
		return command.Result{}, errs.E(errs.Internal, "encode %s: %v", p.EventType(), err)
	}
	id := events.DeterministicID("competition", req.CompetitionID)
	var found *eventstore.RecordedEvent
	res, err := s.pub.Execute(ctx, command.Command{
		Name: "define competition", Stream: events.CompetitionStream(req.CompetitionID), Meta: meta, RetryOnConflict: true,
		Decide: func(_ context.Context, h command.History) ([]command.Event, error) {
			found = nil
			if h.Exists {
				// The same definition again (a retried request) is answered
				// as first recorded; another one under the same id is refused.
				if first := h.Events[0]; first.ID == id && bytes.Equal(first.Data, data) {
					found = &h.Events[0]
					return nil, nil
				}
				return nil, kit.FieldErr("competitionId", errs.E(errs.Conflict, "competition %s is already defined", req.CompetitionID))
			}
			return []command.Event{{Type: p.EventType(), Data: data, OccurredAt: at, ID: id}}, nil
		},
	})
	if err != nil || found == nil {
		return res, err
	}
	return command.Result{Stream: res.Stream, Revision: found.Revision, Position: found.Position, EventIDs: []string{id}, Replayed: true}, nil
}

// placements turns the request's lines into validated placements of comp.
func placements(comp competition, in []PlacementInput) ([]events.Placement, error) {
	if len(in) == 0 {
		return nil, kit.Invalid("placements", "at least one placement is required")
	}
	out := make([]events.Placement, len(in))
	seen := map[string]int{}
	for i, p := range in {
		field := fmt.Sprintf("placements[%d]", i)
		if err := events.ValidID("craftsmanId", p.CraftsmanID); err != nil {
			return nil, servicekit.Invalid(events.Prefix(field, err))
		}
		track := p.Track
		if track == "" && len(comp.def.Tracks) == 1 {
			track = comp.def.Tracks[0]
		}
		if track == "" {
			return nil, kit.Invalid(field+".track", "is required (one of %v)", comp.def.Tracks)
		}
		if !slices.Contains(comp.def.Tracks, track) {
			return nil, kit.Invalid(field+".track", "competition %s has no track %q (one of %v)", comp.def.CompetitionID, track, comp.def.Tracks)
		}
		var trade events.Trade
		switch {
		case p.Trade != nil:
			i := slices.IndexFunc(comp.def.Trades, func(t events.Trade) bool { return t.Code == p.Trade.Code })
			if i < 0 {
				return nil, kit.Invalid(field+".trade.code", "competition %s has no trade %q", comp.def.CompetitionID, p.Trade.Code)
			}
			trade = comp.def.Trades[i]
		case len(comp.def.Trades) == 1:
			trade = comp.def.Trades[0]
		default:
			return nil, kit.Invalid(field+".trade", "is required: the competition has %d trades", len(comp.def.Trades))
		}
		teamSize := p.TeamSize
		if teamSize == 0 {
			teamSize = 1
		}
		award := p.Award
		if award == "" {
			award = events.AwardNone
		}
		pl := events.Placement{
			PlacementID: events.PlacementID(comp.def.CompetitionID, p.CraftsmanID, trade.Code, track),
			CraftsmanID: p.CraftsmanID, Track: track, TeamSize: teamSize, TeamID: p.TeamID, Trade: trade, Rank: p.Rank, Award: award,
		}
		if j, dup := seen[pl.PlacementID]; dup {
			return nil, kit.Invalid(field+".craftsmanId", "craftsman %s is already placed in this trade and track by placements[%d]", p.CraftsmanID, j)
		}
		seen[pl.PlacementID] = i
		out[i] = pl
	}
	if err := (events.CompetitionResultsPublished{CompetitionID: comp.def.CompetitionID, Placements: out}).Validate(); err != nil {
		return nil, servicekit.Invalid(err)
	}
	return out, nil
}

func (s *service) PublishResults(ctx context.Context, req PublishResultsRequest) (PublishResultsResponse, error) {
	pub, err := s.checkPublication(ctx, req)
	if err != nil {
		return PublishResultsResponse{}, err
	}
	resp := PublishResultsResponse{CompetitionID: req.CompetitionID, Replayed: true}
	if resp.Publication, err = s.publishOn(ctx, pub); err != nil {
		return PublishResultsResponse{}, err
	}
	resp.Position = resp.Publication.Position
	if len(resp.Publication.EventIDs) > 0 {
		resp.Replayed = false
	}
	pls := pub.pls
	resp.Placements = make([]PlacementResult, len(pls))
	err = s.byWorker(pls, func(i int) error {
		pr, err := s.place(ctx, pub.meta, pub.comp, pls[i], pub.at)
		if err != nil {
			return fmt.Errorf("placement %s: %w", pls[i].PlacementID, err)
		}
		resp.Placements[i] = pr
		return nil
	})
	if err != nil {
		return PublishResultsResponse{}, err
	}
	for _, pr := range resp.Placements {
		if !pr.Replayed {
			resp.Replayed = false
		}
		if resp.Position.Less(pr.Position) {
			resp.Position = pr.Position
		}
	}
	return resp, nil
}

// publication is a request to publish results, checked before anything is
// written: the caller's, the results' date, the competition as first read
// and the placements validated against it (publishOn updates both to the
// competition's stream as decided on).
type publication struct {
	req    PublishResultsRequest
	meta   command.Meta
	claims auth.Claims
	at     time.Time
	comp   competition
	pls    []events.Placement
}

// checkPublication checks req as far as it can be before anything is
// written: the caller, the date, the placements and that every worker
// is registered.
func (s *service) checkPublication(ctx context.Context, req PublishResultsRequest) (*publication, error) {
	meta, c, err := servicekit.Writer(ctx)
	if err != nil {
		return nil, err
	}
	if err := events.ValidID("competitionId", req.CompetitionID); err != nil {
		return nil, servicekit.Invalid(err)
	}
	at, err := servicekit.When(req.OccurredAt, s.clock())
	if err != nil {
		return nil, err
	}
	// Quick checks on the definition alone (the stream's first event); the
	// decision on the competition's stream repeats them on its whole,
	// corrected history before anything is written.
	comp, err := s.definition(ctx, req.CompetitionID)
	if err != nil {
		return nil, err
	}
	if err := auth.RequireWriteFor(c, comp.organiser); err != nil {
		return nil, err
	}
	if err := resultsDate("occurredAt", comp.def, at); err != nil {
		return nil, err
	}
	pls, err := placements(comp, req.Placements)
	if err != nil {
		return nil, err
	}
	// Every worker must be registered before anything is written.
	missing := make([]bool, len(pls))
	err = s.byWorker(pls, func(i int) error {
		if i > 0 && slices.ContainsFunc(pls[:i], func(q events.Placement) bool { return q.CraftsmanID == pls[i].CraftsmanID }) {
			return nil // checked with the worker's first placement
		}
		if _, ok := s.registeredWorkers.get(pls[i].CraftsmanID); ok {
			return nil
		}
		wh, err := command.Load(ctx, s.store, events.CraftsmanStream(pls[i].CraftsmanID))
		if err != nil {
			return err
		}
		missing[i] = !s.registered(wh)
		if !missing[i] {
			s.registeredWorkers.put(pls[i].CraftsmanID, struct{}{})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if i := slices.Index(missing, true); i >= 0 {
		return nil, kit.FieldErr(fmt.Sprintf("placements[%d].craftsmanId", i),
			errs.E(errs.NotFound, "craftsman %s is not registered", pls[i].CraftsmanID))
	}
	return &publication{req: req, meta: meta, claims: c, at: at, comp: comp, pls: pls}, nil
}

// publishOn records pub's new placements on the competition's stream (a
// placement published before is answered as it was; a changed one refuses
// the whole publication), through the Combiner: publications queued on one
// competition go out as one append.
func (s *service) publishOn(ctx context.Context, pub *publication) (command.Result, error) {
	req, c := pub.req, pub.claims
	return s.publish.Execute(ctx, command.Command{
		Name: "publish results", Stream: events.CompetitionStream(req.CompetitionID), Meta: pub.meta, RetryOnConflict: true,
		Decide: func(_ context.Context, h command.History) ([]command.Event, error) {
			cur, err := s.foldCompetition(h)
			if err != nil {
				return nil, err
			}
			if !cur.defined {
				return nil, errs.E(errs.NotFound, "competition %s is not defined", req.CompetitionID)
			}
			if err := auth.RequireWriteFor(c, cur.organiser); err != nil {
				return nil, err
			}
			now, err := placements(cur, req.Placements)
			if err != nil {
				return nil, err
			}
			pub.comp, pub.pls = cur, now
			var fresh []events.Placement
			var ids []string
			for i, p := range now {
				old, ok := cur.placements.get(p.PlacementID)
				switch {
				case !ok:
					fresh = append(fresh, p)
					ids = append(ids, p.PlacementID)
				case old != p:
					// A changed placement refuses the whole publication.
					return nil, kit.FieldErr(fmt.Sprintf("placements[%d]", i), errs.E(errs.Conflict,
						"placement %s was published as rank %d (%s); correct it with a correction, not a new publication", p.PlacementID, old.Rank, old.Award))
				}
			}
			if len(fresh) == 0 {
				return nil, nil
			}
			e := events.CompetitionResultsPublished{CompetitionID: req.CompetitionID, Placements: fresh}
			return []command.Event{{Type: e.EventType(), Data: e, OccurredAt: pub.at,
				ID: events.DeterministicID(append([]string{"results", req.CompetitionID}, ids...)...)}}, nil
		},
	})
}

// resultsDate refuses results dated before the competition: before its
// startsOn, or before its year when it names no start, both by the
// ledger's civil date (China's, as the cap counts years; an instant at
// 01:00 China time on the first day is on that day, though its UTC date is
// the day before). The results' date decides the calendar year of
// the yearly cap, so a competition's results dated into an earlier year
// would escape the cap of their own. field names the date in the request
// (a correction's replacement.occurredAt is checked alike).
func resultsDate(field string, def events.CompetitionDefined, at time.Time) error {
	start := time.Date(def.Year, time.January, 1, 0, 0, 0, 0, time.UTC)
	if t, err := time.Parse(time.DateOnly, def.StartsOn); err == nil {
		start = t
	}
	if career.BeforeDay(at, start) {
		return kit.Invalid(field, "results of competition %s cannot be dated before it starts (%s)", def.CompetitionID, career.CivilDay(start))
	}
	return nil
}

// byWorker runs f for every placement, the placements of one worker in
// request order (the yearly cap depends on it) and up to s.parallel
// workers at a time. It returns the first error; placements already
// recorded stay recorded (a retry answers them as replayed).
func (s *service) byWorker(pls []events.Placement, f func(i int) error) error {
	var order []string
	groups := map[string][]int{}
	for i, p := range pls {
		if _, ok := groups[p.CraftsmanID]; !ok {
			order = append(order, p.CraftsmanID)
		}
		groups[p.CraftsmanID] = append(groups[p.CraftsmanID], i)
	}
	sem := make(chan struct{}, s.parallel)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for _, w := range order {
		wg.Add(1)
		sem <- struct{}{}
		go func(idx []int) {
			defer func() { <-sem; wg.Done() }()
			for _, i := range idx {
				if err := f(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		}(groups[w])
	}
	wg.Wait()
	return first
}

// place records one placement (and its entitlement) on the worker's stream,
// unless the stream already records it. What the placement earns is the
// events module's decision (policy.CompetitionGrant) on the worker's levels
// as of the results' date and every entitlement the stream records.
func (s *service) place(ctx context.Context, meta command.Meta, comp competition, p events.Placement, at time.Time) (PlacementResult, error) {
	c, answer := s.placement(meta, comp, p, at)
	res, err := s.h.Execute(ctx, c)
	if err != nil {
		return PlacementResult{PlacementID: p.PlacementID, CraftsmanID: p.CraftsmanID}, err
	}
	return answer(res), nil
}

// placement is place's command, unrun, and how its result answers: run
// alone (place) or batched with a worker's other back-filled placements.
func (s *service) placement(meta command.Meta, comp competition, p events.Placement, at time.Time) (command.Command, func(command.Result) PlacementResult) {
	placedID := events.DeterministicID("placement", p.PlacementID)
	pr := PlacementResult{PlacementID: p.PlacementID, CraftsmanID: p.CraftsmanID, PlacementEventID: placedID}
	placed := events.CompetitionPlaced{CraftsmanID: p.CraftsmanID, CompetitionID: comp.def.CompetitionID,
		CompetitionName: comp.def.Name, PlacementID: p.PlacementID, Tier: comp.def.Tier, Year: comp.def.Year,
		Track: p.Track, TeamSize: p.TeamSize, TeamID: p.TeamID, Trade: p.Trade, Rank: p.Rank, Award: p.Award}
	var found *where
	var ent *Entitlement
	var d policy.GrantDecision
	var retracted bool
	c := command.Command{
		Name: "record placement", Stream: events.CraftsmanStream(p.CraftsmanID), Meta: meta, RetryOnConflict: true,
		Decide: func(_ context.Context, h command.History) ([]command.Event, error) {
			found, ent, retracted = nil, nil, false
			w, err := s.foldWorker(h, endOfTime)
			if err != nil {
				return nil, err
			}
			if !w.st.Registered {
				return nil, errs.E(errs.NotFound, "craftsman %s is not registered", p.CraftsmanID)
			}
			then, err := s.foldWorker(h, at)
			if err != nil {
				return nil, err
			}
			// Levels held as of the results' date; every entitlement the
			// stream records, even one dated later, for the yearly cap.
			d = policy.CompetitionGrant(policy.GrantInput{Competition: comp.def, Placement: placed,
				AsOf: then.st, Entitlements: w.st.Entitlements, At: at})
			if rp, e, ok := w.placement(p.PlacementID); ok {
				found = &rp
				if e != nil {
					ent = &Entitlement{EntitlementID: e.ID, Trade: p.Trade, Level: e.Level, RuleID: e.Origin.RuleID, RequiresApproval: e.RequiresApproval}
				}
				return nil, nil
			}
			if wh, ok := w.at[placedID]; ok {
				// Recorded, then retracted by a correction: the placement
				// stays retracted, and its event id is not written again.
				wh.eventIDs = []string{placedID}
				entID := events.DeterministicID("entitlement", p.PlacementID)
				if ew, ok := w.at[entID]; ok {
					wh.revision, wh.position = ew.revision, ew.position
					wh.eventIDs = append(wh.eventIDs, entID)
				}
				found, retracted = &wh, true
				return nil, nil
			}
			evs := []command.Event{{Type: placed.EventType(), Data: placed, OccurredAt: at, ID: placedID}}
			if e := d.Entitlement; e != nil {
				if err := e.Validate(); err != nil {
					return nil, errs.E(errs.Internal, "entitlement of %s: %v", p.PlacementID, err)
				}
				evs = append(evs, command.Event{Type: e.EventType(), Data: *e, OccurredAt: at,
					ID: events.DeterministicID("entitlement", p.PlacementID)})
				ent = &Entitlement{EntitlementID: e.EntitlementID, Trade: e.Trade, Level: e.Level, RuleID: d.RuleID, RequiresApproval: e.RequiresApproval}
			}
			return evs, nil
		},
	}
	return c, func(res command.Result) PlacementResult {
		return answerPlacement(pr, res, found, ent, d, retracted)
	}
}

// answerPlacement answers a placement whose command (placement) answered res.
func answerPlacement(pr PlacementResult, res command.Result, found *where, ent *Entitlement, d policy.GrantDecision, retracted bool) PlacementResult {
	pr.Result = res
	if found != nil {
		// Already recorded: answer with where it was recorded.
		pr.Result = command.Result{Stream: res.Stream, Revision: found.revision, Position: found.position,
			EventIDs: found.eventIDs, Replayed: true}
	} else if d.Entitlement == nil && d.RuleID != "" {
		pr.Withheld = d.Reason
	}
	pr.Entitlement = ent
	if retracted {
		return pr // a retracted placement triggers no honour
	}
	for _, h := range d.Honours {
		pr.Honours = append(pr.Honours, TriggeredHonour{HonourID: h.HonourID, HonourCode: h.Code, HonourName: h.Name,
			Level: h.Level, ConferringBody: h.ConferringBody})
	}
	return pr
}

func (s *service) ApproveEntitlement(ctx context.Context, req ApproveEntitlementRequest) (command.Result, error) {
	meta, c, err := command.MetaFrom(ctx)
	if err != nil {
		return command.Result{}, err
	}
	if err := c.RequireRole(auth.RoleHR, auth.RoleAdmin); err != nil {
		return command.Result{}, err
	}
	org := c.OrgID
	switch {
	case req.ApprovingOrgID == "" && org == "":
		org = PlatformOrg
	case req.ApprovingOrgID != "" && req.ApprovingOrgID != c.OrgID:
		if !c.IsAdmin() {
			return command.Result{}, kit.FieldErr("approvingOrgId", errs.E(errs.PermissionDenied,
				"hr %s of organisation %s may not approve for organisation %s", c.Subject, c.OrgID, req.ApprovingOrgID))
		}
		org = req.ApprovingOrgID
	}
	if c.Role == auth.RoleHR && len(s.approvers) > 0 && !slices.Contains(s.approvers, org) {
		return command.Result{}, errs.E(errs.PermissionDenied, "organisation %s is not a human-resources authority that approves promotions", org)
	}
	if meta.Issuer == "" {
		meta.Issuer = org
	}
	p := events.PromotionEntitlementApproved{CraftsmanID: req.CraftsmanID, EntitlementID: req.EntitlementID,
		ApprovalRef: req.ApprovalRef, ApprovingOrgID: org}
	if err := p.Validate(); err != nil {
		return command.Result{}, servicekit.Invalid(err)
	}
	at, err := servicekit.When(req.OccurredAt, s.clock())
	if err != nil {
		return command.Result{}, err
	}
	var already *where
	res, err := s.h.Execute(ctx, command.Command{
		Name: "approve entitlement", Stream: events.CraftsmanStream(req.CraftsmanID), Meta: meta, RetryOnConflict: true,
		Decide: func(_ context.Context, h command.History) ([]command.Event, error) {
			already = nil
			w, err := s.foldWorker(h, endOfTime)
			if err != nil {
				return nil, err
			}
			if !w.st.Registered {
				return nil, errs.E(errs.NotFound, "craftsman %s is not registered", req.CraftsmanID)
			}
			e, ok := w.entitlement(req.EntitlementID)
			if !ok {
				if placement, was := w.withdrawn(req.EntitlementID); was {
					return nil, errs.E(errs.FailedPrecondition, "entitlement %s was withdrawn: a correction retracted the competition placement %s that granted it, or changed it to one that earns no such entitlement", req.EntitlementID, placement)
				}
				return nil, errs.E(errs.NotFound, "entitlement %s of craftsman %s", req.EntitlementID, req.CraftsmanID)
			}
			if e.Approved {
				if e.ApprovalRef == req.ApprovalRef && e.ApprovalEvidence != nil {
					wh := w.at[e.ApprovalEvidence.EventID]
					wh.eventIDs = []string{e.ApprovalEvidence.EventID}
					already = &wh
					return nil, nil // the same approval again: nothing to do
				}
				return nil, errs.E(errs.FailedPrecondition, "entitlement %s is already approved (%s)", req.EntitlementID, e.ApprovalRef)
			}
			// An entitlement granted under rules that did not ask for
			// approval (recorded before rules that grant levels had to) is
			// approved all the same: training certifies none unapproved.
			if career.BeforeDay(at, e.Granted) {
				return nil, kit.Invalid("occurredAt", "approval cannot precede the grant (%s)", career.CivilDay(e.Granted))
			}
			return []command.Event{{Type: p.EventType(), Data: p, OccurredAt: at,
				ID: events.DeterministicID("approval", req.CraftsmanID, req.EntitlementID)}}, nil
		},
	})
	if err != nil {
		return res, err
	}
	if already != nil {
		res = command.Result{Stream: res.Stream, Revision: already.revision, Position: already.position, EventIDs: already.eventIDs, Replayed: true}
	}
	return res, nil
}
