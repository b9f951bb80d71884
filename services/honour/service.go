package honour

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
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

// Service records honours and innovations. Every method takes the caller
// from ctx (auth claims) and the request ids (command.HTTPToContext).
type Service interface {
	ConferHonour(ctx context.Context, req ConferRequest) (command.Result, error)
	WithdrawHonour(ctx context.Context, req WithdrawRequest) (command.Result, error)
	RecogniseInnovation(ctx context.Context, req InnovationRequest) (command.Result, error)
	// Correct records an EventCorrected superseding an honour, withdrawal
	// or innovation on a craftsman's stream (servicekit.Corrector).
	Correct(ctx context.Context, req servicekit.CorrectionRequest) (command.Result, error)
}

// Corrected lists the event types the honour service corrects, with the
// fields a replacement must keep.
func Corrected() map[string][]string {
	return events.CorrectionIdentity(events.TypeHonourConferred, events.TypeHonourWithdrawn, events.TypeInnovationRecognised)
}

// ConferRequest records an honour conferred on a worker; OccurredAt is the
// conferral date. For a code of the national catalogue
// (events.HonourCatalogue) Level and ConferringBody default to the
// catalogue's and must agree with it. HonourID defaults to an id derived
// from the code and the date's China day (HonourID; for an honour with
// PlacementID, from the placement and the code: policy.HonourID, the id
// the competition service lists; for a request with an Idempotency-Key
// and no OccurredAt, from the key: KeyedHonourID). PlacementID links an
// honour a competition placement triggered; the placement must be on the
// worker's stream.
type ConferRequest struct {
	CraftsmanID    string        `json:"-"` // from the path
	HonourID       string        `json:"honourId,omitempty"`
	Code           string        `json:"code"`
	Name           string        `json:"name,omitempty"`
	Level          string        `json:"level,omitempty"`
	ConferringBody string        `json:"conferringBody,omitempty"`
	Trade          *events.Trade `json:"trade,omitempty"`
	PlacementID    string        `json:"placementId,omitempty"`
	OccurredAt     string        `json:"occurredAt,omitempty"`
}

// WithdrawRequest revokes an honour; it stays in the history.
type WithdrawRequest struct {
	CraftsmanID string `json:"-"` // from the path
	HonourID    string `json:"-"` // from the path
	Reason      string `json:"reason"`
	OccurredAt  string `json:"occurredAt,omitempty"`
}

// InnovationRequest records an innovation result. Role defaults to
// "member"; InnovationID defaults to an id derived from the kind, the
// title and the date (for a request with an Idempotency-Key and no
// OccurredAt, from the key: KeyedInnovationID).
type InnovationRequest struct {
	CraftsmanID  string        `json:"-"` // from the path
	InnovationID string        `json:"innovationId,omitempty"`
	Kind         string        `json:"kind"`
	Category     string        `json:"category,omitempty"`
	Title        string        `json:"title"`
	Level        string        `json:"level"`
	Trade        *events.Trade `json:"trade,omitempty"`
	PatentNumber string        `json:"patentNumber,omitempty"`
	InUse        bool          `json:"inUse,omitempty"`
	Role         string        `json:"role,omitempty"`
	StudioID     string        `json:"studioId,omitempty"`
	OccurredAt   string        `json:"occurredAt,omitempty"`
}

// PlatformOrg is the issuer organisation recorded for admins acting
// without an organisation of their own.
const PlatformOrg = servicekit.PlatformOrg

// Options configure the service.
type Options struct {
	// Seal chains every event's metadata (prevHash/hash); nil means servicekit.Seal
	// (events/chain), as every service writing craftsman streams does.
	Seal command.Seal
	// MaxRetries bounds the conflict-retry loop (0 = command's default).
	MaxRetries int
	// CheckWriters checks who records what: a catalogue honour of
	// national, provincial or city level only an organisation acting as its
	// conferring body, an enterprise or academy honour and an innovation
	// only an organisation linked to the worker (servicekit.Links). Off —
	// the zero value, kept for the all-in-one until its demo population
	// records honours and innovations as such organisations — any issuer
	// may; bin/honour always checks. A national, provincial or city honour
	// outside the catalogue needs an admin either way.
	CheckWriters bool
	// ConferringBodies names, per issuer organisation, the conferring
	// bodies it acts as (e.g. "union-gd" → "provincial trade-union
	// federation"); an organisation whose id is the body's name (case
	// aside: "acftu" for "ACFTU") needs no entry.
	ConferringBodies map[string][]string
}

type service struct {
	h         *command.Handler
	clock     func() time.Time
	reg       *events.Registry
	catalogue map[string]events.HonourKind
	corrector servicekit.Corrector
	bodies    map[string][]string
	check     bool
	decoded   *servicekit.DecodedFacts
}

// New returns the honour service over store. clock is the only source of
// "now".
func New(store eventstore.Store, clock func() time.Time, opts Options) (Service, error) {
	if store == nil {
		return nil, errs.E(errs.InvalidArgument, "honour: a store is required")
	}
	if clock == nil {
		return nil, errs.E(errs.InvalidArgument, "honour: a clock is required")
	}
	cat := map[string]events.HonourKind{}
	for _, k := range events.HonourCatalogue() {
		cat[k.Code] = k
	}
	if opts.Seal == nil {
		opts.Seal = servicekit.Seal
	}
	h := command.New(store, command.Options{Clock: clock, Seal: opts.Seal, MaxRetries: opts.MaxRetries})
	reg := events.NewRegistry()
	s := &service{h: h, clock: clock, reg: reg, catalogue: cat, decoded: servicekit.NewDecodedFacts(servicekit.DefaultDecodedStreams, servicekit.DefaultDecodedFacts), bodies: opts.ConferringBodies, check: opts.CheckWriters}
	s.corrector = servicekit.Corrector{Handler: h, Registry: reg, Owned: Corrected(), PlatformOrg: PlatformOrg, Follow: s.honourStaysValid}
	return s, nil
}

// fact is one event of a command on a worker's stream.
type fact struct {
	name    string
	worker  string
	id      string // the event id
	payload events.Payload
	at      time.Time
	// dated: the request gave the date; a replay must then agree with it.
	dated bool
	// keyed: id derives from the request's idempotency key; other data
	// under it is the key reused for another request, not another fact.
	keyed bool
	// recorded is the id of the event recording the fact in st (in force),
	// "" when st has none.
	recorded func(st *career.State) string
	// was, when set, is the same fact as recorded under the id an earlier
	// rule derived (HonourID before China days): found in force, it
	// answers the request as f would (a replay, or a conflict), and f is
	// not recorded.
	was *fact
}

// factCommand is the command appending f to the worker's stream after
// decide accepts the worker's state, unless the fact is already recorded:
// then the same fact (same data, and date when the request gives one) is
// a replay, answered with where it was recorded (command.Already), and
// different data is a conflict. The fact is found under its own id (f.id)
// and, recorded under another (an Idempotency-Key's), by f.recorded in the
// worker's state. A recording a correction retracted does not count: the
// fact is recorded again, under the next id of its chain
// (servicekit.FactOnStream), as a correction sent again after its
// reversal is. With an Idempotency-Key the key decides (command.Handler):
// the event takes the handler's keyed id, so the same key with the same
// request is the first answer and with another request (another body or
// route, or a date given where the first had none) 422, whatever ids the
// body derives.
func (s *service) factCommand(meta command.Meta, f fact, decide func(h command.History, st *career.State) error) (command.Command, error) {
	if err := events.ValidID("craftsmanId", f.worker); err != nil {
		return command.Command{}, servicekit.Invalid(err)
	}
	data, err := json.Marshal(f.payload)
	if err != nil {
		return command.Command{}, errs.E(errs.Internal, "encode %s: %v", f.payload.EventType(), err)
	}
	var wasData []byte
	if f.was != nil {
		if wasData, err = json.Marshal(f.was.payload); err != nil {
			return command.Command{}, errs.E(errs.Internal, "encode %s: %v", f.payload.EventType(), err)
		}
	}
	// same answers the request whose fact e records (data: as the request
	// would record it under e's id).
	sameAs := func(e *eventstore.RecordedEvent, data []byte) error {
		m, err := command.DecodeMetadata(e.Metadata)
		if err != nil {
			return err
		}
		if e.Type != f.payload.EventType() || !bytes.Equal(e.Data, data) || (f.dated && !m.OccurredAt.Equal(f.at)) {
			if f.keyed {
				return errs.E(errs.FailedPrecondition, "%s: idempotency key %q was already used on %s for a different request (another body); send a new key",
					f.name, meta.IdempotencyKey, e.Stream)
			}
			return errs.E(errs.Conflict, "%s: already recorded with other data (revision %d); record a correction instead", f.name, e.Revision)
		}
		return command.Already(*e)
	}
	same := func(e *eventstore.RecordedEvent) error { return sameAs(e, data) }
	// sameWas answers the request with e, a fact found under the earlier
	// rule's id (f.was), when e is on the request's China day (the UTC
	// date's id may name the fact of the China day before, another fact
	// under today's rule); nil when e is nil or another day's.
	sameWas := func(e *eventstore.RecordedEvent) error {
		if e == nil {
			return nil
		}
		m, err := command.DecodeMetadata(e.Metadata)
		if err != nil || career.CivilDay(m.OccurredAt) != career.CivilDay(f.at) {
			return err
		}
		return sameAs(e, wasData)
	}
	return command.Command{Name: f.name, Stream: events.CraftsmanStream(f.worker), Meta: meta, RetryOnConflict: true,
		Decide: func(_ context.Context, h command.History) ([]command.Event, error) {
			_, id, e, err := servicekit.FactOnStream(h, f.id, servicekit.RetractedOn(h))
			if err != nil {
				return nil, err
			}
			if e != nil {
				return nil, same(e)
			}
			if f.was != nil {
				_, _, e, err := servicekit.FactOnStream(h, f.was.id, servicekit.RetractedOn(h))
				if err == nil {
					err = sameWas(e)
				}
				if err != nil {
					return nil, err
				}
			}
			st, err := s.career(h)
			if err != nil {
				return nil, err
			}
			if !st.Registered {
				return nil, errs.E(errs.NotFound, "craftsman %s is not registered", f.worker)
			}
			if e, err := original(h, f.recorded(st)); err != nil || e != nil {
				if err != nil {
					return nil, err
				}
				return nil, same(e)
			}
			if f.was != nil {
				e, err := original(h, f.was.recorded(st))
				if err == nil {
					err = sameWas(e)
				}
				if err != nil {
					return nil, err
				}
			}
			if decide != nil {
				if err := decide(h, st); err != nil {
					return nil, err
				}
			}
			ev := command.Event{Type: f.payload.EventType(), Data: data, OccurredAt: f.at, ID: id}
			if meta.IdempotencyKey != "" {
				// The handler's keyed id; a date defaulted to today is not
				// part of the request (a retry after midnight is the same).
				ev.ID = ""
				if !f.dated {
					ev.OccurredAt = time.Time{}
				}
			}
			return []command.Event{ev}, nil
		}}, nil
}

// original is the event of h with id, or the one it corrects when it is a
// correction (a withdrawal's reference is the correction that replaced
// it); nil when id is "" or not on h.
func original(h command.History, id string) (*eventstore.RecordedEvent, error) {
	for depth := 0; id != "" && depth <= len(h.Events); depth++ {
		i := slices.IndexFunc(h.Events, func(e eventstore.RecordedEvent) bool { return e.ID == id })
		if i < 0 {
			return nil, nil
		}
		e := &h.Events[i]
		if e.Type != events.TypeEventCorrected {
			return e, nil
		}
		var c events.EventCorrected
		if err := json.Unmarshal(e.Data, &c); err != nil {
			return nil, errs.E(errs.Internal, "decode %s@%d: %v", e.Stream, e.Revision, err)
		}
		id = c.SupersedesEventID
	}
	return nil, nil
}

// recordedAs is the id of the event that recorded the fact src names (the
// original, when a correction replaced it).
func recordedAs(src career.Source) string {
	if src.Supersedes != nil {
		return src.Supersedes.EventID
	}
	return src.Ref.EventID
}

// career folds a craftsman's stream with the events module's career fold
// (corrections applied), seeing every fact.
func (s *service) career(h command.History) (*career.State, error) {
	recs, err := s.decoded.Facts(s.reg, h)
	if err != nil {
		return nil, err
	}
	return career.Fold(recs, time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), career.AsOccurred), nil
}

// HonourID is the id given to an honour recorded without one: derived
// from the day of on in the ledger's calendar (China time), so the same
// honour sent as "2024-05-01" and as "2024-05-01T00:00:00+08:00" is one.
func HonourID(craftsmanID, code string, on time.Time) string {
	return honourIDOn(craftsmanID, code, career.CivilDay(on))
}

// InnovationID is the id given to an innovation recorded without one
// (from on's China day, as HonourID).
func InnovationID(craftsmanID, kind, title string, on time.Time) string {
	return innovationIDOn(craftsmanID, kind, title, career.CivilDay(on))
}

// utcHonourID and utcInnovationID are the ids HonourID and InnovationID
// gave until the fourteenth session, from on's UTC date: a request
// recorded then under one is found under it (wasID), so a retry does not
// record the fact a second time under the China day's id.
func utcHonourID(craftsmanID, code string, on time.Time) string {
	return honourIDOn(craftsmanID, code, on.UTC().Format(time.DateOnly))
}

func utcInnovationID(craftsmanID, kind, title string, on time.Time) string {
	return innovationIDOn(craftsmanID, kind, title, on.UTC().Format(time.DateOnly))
}

// honourIDOn and innovationIDOn derive an id from the fact and its day
// (YYYY-MM-DD): the one place each id's shape is written.
func honourIDOn(craftsmanID, code, day string) string {
	return "h-" + events.DeterministicID("honour-id", craftsmanID, code, day)
}

func innovationIDOn(craftsmanID, kind, title, day string) string {
	return "i-" + events.DeterministicID("innovation-id", craftsmanID, kind, title, day)
}

// KeyedHonourID is the id given to an honour recorded without one and
// without a date, under idempotency key key of organisation org: a date
// defaulted to today would give a retry after midnight another id (and a
// second honour); the key gives every retry the same one.
func KeyedHonourID(craftsmanID, org, key string) string {
	return "h-" + events.DeterministicID("honour-key", craftsmanID, org, key)
}

// KeyedInnovationID is KeyedHonourID for innovations.
func KeyedInnovationID(craftsmanID, org, key string) string {
	return "i-" + events.DeterministicID("innovation-key", craftsmanID, org, key)
}

// honourID is the id of the honour req confers on date at (req.HonourID
// when given; otherwise derived, see ConferRequest) and whether it derives
// from the idempotency key of meta.
func honourID(req ConferRequest, at time.Time, meta command.Meta) (id string, keyed bool) {
	switch {
	case req.HonourID != "":
		return req.HonourID, false
	case req.PlacementID != "":
		// The id the competition service listed for a triggered honour.
		return policy.HonourID(req.PlacementID, req.Code), false
	case req.OccurredAt == "" && meta.IdempotencyKey != "":
		return KeyedHonourID(req.CraftsmanID, meta.Issuer, meta.IdempotencyKey), true
	}
	return HonourID(req.CraftsmanID, req.Code, at), false
}

// wasHonourID is the id the honour req confers on date at took before ids
// were derived from China days (utcHonourID), when the request derives its
// id from the date and the old rule gives another one; "" otherwise.
func wasHonourID(req ConferRequest, at time.Time, meta command.Meta) string {
	id, keyed := honourID(req, at, meta)
	if keyed || req.HonourID != "" || req.PlacementID != "" {
		return ""
	}
	if was := utcHonourID(req.CraftsmanID, req.Code, at); was != id {
		return was
	}
	return ""
}

// innovationID is the id of the innovation req recognises on date at
// (req.InnovationID when given; otherwise derived, as honourID derives an
// honour's) and whether it derives from the idempotency key of meta.
func innovationID(req InnovationRequest, at time.Time, meta command.Meta) (id string, keyed bool) {
	switch {
	case req.InnovationID != "":
		return req.InnovationID, false
	case req.OccurredAt == "" && meta.IdempotencyKey != "":
		return KeyedInnovationID(req.CraftsmanID, meta.Issuer, meta.IdempotencyKey), true
	}
	return InnovationID(req.CraftsmanID, req.Kind, req.Title, at), false
}

// wasInnovationID is wasHonourID for innovations.
func wasInnovationID(req InnovationRequest, at time.Time, meta command.Meta) string {
	id, keyed := innovationID(req, at, meta)
	if keyed || req.InnovationID != "" {
		return ""
	}
	if was := utcInnovationID(req.CraftsmanID, req.Kind, req.Title, at); was != id {
		return was
	}
	return ""
}

func (s *service) ConferHonour(ctx context.Context, req ConferRequest) (command.Result, error) {
	c, err := s.conferCommand(ctx, req)
	if err != nil {
		return command.Result{}, err
	}
	return s.h.Execute(ctx, c)
}

// conferCommand validates and authorizes a conferral and returns its
// command, not yet run (back-fill batches these).
func (s *service) conferCommand(ctx context.Context, req ConferRequest) (command.Command, error) {
	meta, c, err := servicekit.Writer(ctx)
	if err != nil {
		return command.Command{}, err
	}
	at, err := servicekit.When(req.OccurredAt, s.clock())
	if err != nil {
		return command.Command{}, err
	}
	k, inCatalogue := s.catalogue[req.Code]
	if inCatalogue {
		if req.Level == "" {
			req.Level = k.Level
		} else if req.Level != k.Level {
			return command.Command{}, kit.Invalid("level", "%s (%s) is a %s honour, not %s", k.Code, k.Chinese, k.Level, req.Level)
		}
		if req.ConferringBody == "" {
			req.ConferringBody = k.ConferringBody
		}
		if req.Name == "" {
			req.Name = k.Chinese
		}
	}
	var keyed bool
	wasID := wasHonourID(req, at, meta)
	req.HonourID, keyed = honourID(req, at, meta)
	p := events.HonourConferred{CraftsmanID: req.CraftsmanID, HonourID: req.HonourID, Code: req.Code, Name: req.Name,
		Level: req.Level, ConferringBody: req.ConferringBody, Trade: req.Trade, PlacementID: req.PlacementID}
	if err := p.Validate(); err != nil {
		return command.Command{}, servicekit.Invalid(err)
	}
	honourFact := func(honourID string, p events.HonourConferred) fact {
		return fact{name: "confer honour", worker: req.CraftsmanID, id: events.DeterministicID("honour", req.CraftsmanID, honourID), payload: p, at: at,
			dated: req.OccurredAt != "", keyed: keyed, recorded: func(st *career.State) string {
				for _, h := range st.Honours {
					if h.ID == honourID {
						return recordedAs(h.Source)
					}
				}
				return ""
			}}
	}
	// Who may confer: decided now where the honour alone decides, on the
	// worker's stream (linkedOnly) where the link to the worker does.
	linkedOnly, err := s.mayConfer(c, req, inCatalogue, k)
	if err != nil {
		return command.Command{}, err
	}
	if req.PlacementID != "" && meta.CausationID == "" {
		// Linked by causation: the placement's event caused this one.
		meta.CausationID = events.DeterministicID("placement", req.PlacementID)
	}
	f := honourFact(req.HonourID, p)
	if wasID != "" {
		was := p
		was.HonourID = wasID
		w := honourFact(wasID, was)
		f.was = &w
	}
	return s.factCommand(meta, f, func(h command.History, st *career.State) error {
		if linkedOnly {
			if err := links(h, st, at).Require(c, req.CraftsmanID); err != nil {
				return err
			}
		}
		if req.PlacementID == "" {
			return nil
		}
		for _, pl := range st.Competitions {
			if pl.PlacementID == req.PlacementID {
				if career.BeforeDay(at, pl.Date) {
					return kit.Invalid("occurredAt", "the honour cannot precede its placement (%s)", career.CivilDay(pl.Date))
				}
				return nil
			}
		}
		return kit.FieldErr("placementId", errs.E(errs.NotFound, "craftsman %s has no placement %s", req.CraftsmanID, req.PlacementID))
	})
}

func (s *service) WithdrawHonour(ctx context.Context, req WithdrawRequest) (command.Result, error) {
	c, err := s.withdrawCommand(ctx, req)
	if err != nil {
		return command.Result{}, err
	}
	return s.h.Execute(ctx, c)
}

// withdrawCommand validates a withdrawal and returns its command, not yet
// run.
func (s *service) withdrawCommand(ctx context.Context, req WithdrawRequest) (command.Command, error) {
	meta, c, err := servicekit.Writer(ctx)
	if err != nil {
		return command.Command{}, err
	}
	at, err := servicekit.When(req.OccurredAt, s.clock())
	if err != nil {
		return command.Command{}, err
	}
	p := events.HonourWithdrawn{CraftsmanID: req.CraftsmanID, HonourID: req.HonourID, Reason: req.Reason}
	if err := p.Validate(); err != nil {
		return command.Command{}, servicekit.Invalid(err)
	}
	f := fact{name: "withdraw honour", worker: req.CraftsmanID, id: events.DeterministicID("honour-withdrawn", req.CraftsmanID, req.HonourID), payload: p, at: at, dated: req.OccurredAt != "",
		recorded: func(st *career.State) string {
			for _, h := range st.Honours {
				if h.ID == req.HonourID && h.Withdrawn && h.WithdrawRef != nil {
					return h.WithdrawRef.EventID
				}
			}
			return ""
		}}
	return s.factCommand(meta, f, func(h command.History, st *career.State) error {
		for _, hon := range st.Honours {
			if hon.ID != req.HonourID {
				continue
			}
			if hon.Withdrawn {
				return errs.E(errs.FailedPrecondition, "honour %s of craftsman %s was already withdrawn on %s", req.HonourID, req.CraftsmanID, career.CivilDay(hon.WithdrawnOn))
			}
			if career.BeforeDay(at, hon.Date) {
				return kit.Invalid("occurredAt", "the withdrawal cannot precede the conferral (%s)", career.CivilDay(hon.Date))
			}
			// Only the organisation that recorded the honour withdraws it.
			recorder := ""
			for _, r := range h.Events {
				if r.ID == hon.Ref.EventID {
					m, err := command.DecodeMetadata(r.Metadata)
					if err != nil {
						return err
					}
					recorder = m.IssuerOrgID
				}
			}
			if !c.IsAdmin() && recorder != c.OrgID {
				return errs.E(errs.PermissionDenied, "honour %s was recorded by organisation %s; %s %s of organisation %s may not withdraw it",
					req.HonourID, recorder, c.Role, c.Subject, c.OrgID)
			}
			return nil
		}
		return errs.E(errs.NotFound, "honour %s of craftsman %s", req.HonourID, req.CraftsmanID)
	})
}

func (s *service) RecogniseInnovation(ctx context.Context, req InnovationRequest) (command.Result, error) {
	c, err := s.innovationCommand(ctx, req)
	if err != nil {
		return command.Result{}, err
	}
	return s.h.Execute(ctx, c)
}

// innovationCommand validates an innovation and returns its command, not
// yet run (back-fill batches these).
func (s *service) innovationCommand(ctx context.Context, req InnovationRequest) (command.Command, error) {
	meta, c, err := servicekit.Writer(ctx)
	if err != nil {
		return command.Command{}, err
	}
	at, err := servicekit.When(req.OccurredAt, s.clock())
	if err != nil {
		return command.Command{}, err
	}
	if req.Role == "" {
		req.Role = "member"
	}
	var keyed bool
	wasID := wasInnovationID(req, at, meta)
	req.InnovationID, keyed = innovationID(req, at, meta)
	p := events.InnovationRecognised{CraftsmanID: req.CraftsmanID, InnovationID: req.InnovationID, Kind: req.Kind, Category: req.Category,
		Title: req.Title, Level: req.Level, Trade: req.Trade, PatentNumber: req.PatentNumber, InUse: req.InUse, Role: req.Role, StudioID: req.StudioID}
	if err := p.Validate(); err != nil {
		return command.Command{}, servicekit.Invalid(err)
	}
	innovationFact := func(innovationID string, p events.InnovationRecognised) fact {
		return fact{name: "recognise innovation", worker: req.CraftsmanID, id: events.DeterministicID("innovation", req.CraftsmanID, innovationID), payload: p, at: at,
			dated: req.OccurredAt != "", keyed: keyed, recorded: func(st *career.State) string {
				for _, in := range st.Innovations {
					if in.ID == innovationID {
						return recordedAs(in.Source)
					}
				}
				return ""
			}}
	}
	f := innovationFact(req.InnovationID, p)
	if wasID != "" {
		was := p
		was.InnovationID = wasID
		w := innovationFact(wasID, was)
		f.was = &w
	}
	return s.factCommand(meta, f, func(h command.History, st *career.State) error {
		// An innovation names no organisation of the recorder's own: only
		// an organisation linked to the worker records it.
		if s.check {
			if err := links(h, st, at).Require(c, req.CraftsmanID); err != nil {
				return err
			}
		}
		return nil
	})
}

// mayConfer decides who may record an honour before the worker's stream is
// read: an admin always; for a catalogue honour conferred by a body
// (national, provincial, city), only an issuer of an organisation acting
// as that conferring body; for an enterprise or academy honour (catalogue
// or not), an issuer linked to the worker — linkedOnly asks the caller to
// check the link on the worker's stream (both with Options.CheckWriters);
// a national, provincial or city honour outside the catalogue only an
// admin, always.
func (s *service) mayConfer(c auth.Claims, req ConferRequest, inCatalogue bool, k events.HonourKind) (linkedOnly bool, err error) {
	if c.IsAdmin() {
		return false, nil
	}
	switch {
	case req.Level == events.LevelEnterprise || req.Level == events.LevelAcademy:
		return s.check, nil
	case !inCatalogue:
		return false, errs.E(errs.PermissionDenied, "a %s honour outside the catalogue (%s) is recorded by an admin, not by %s %s of organisation %s",
			req.Level, req.Code, c.Role, c.Subject, c.OrgID)
	case !s.check || s.actsAs(c.OrgID, req.ConferringBody) || (req.ConferringBody != k.ConferringBody && s.actsAs(c.OrgID, k.ConferringBody)):
		return false, nil
	}
	return false, errs.E(errs.PermissionDenied, "%s (%s) is conferred by %s; organisation %s does not act as it",
		k.Code, k.Chinese, req.ConferringBody, c.OrgID)
}

// actsAs reports whether organisation org confers honours as body: its id
// is the body's name (case aside) or Options.ConferringBodies says so.
func (s *service) actsAs(org, body string) bool {
	if org == "" || body == "" {
		return false
	}
	if strings.EqualFold(org, body) {
		return true
	}
	for _, b := range s.bodies[org] {
		if strings.EqualFold(b, body) {
			return true
		}
	}
	return false
}

// links are the organisations linked to the worker (servicekit.Links): the
// one that registered them (the registration's issuer), employers — current
// ones, and the one employing them on the fact's date at (an honour or
// innovation of their time there, recorded after they left; in the
// ledger's China days, so the end's whole last day counts) — and the
// academies they are enrolled at.
func links(h command.History, st *career.State, at time.Time) servicekit.Links {
	var l servicekit.Links
	for _, r := range h.Events {
		if r.Type == events.TypeCraftsmanRegistered {
			if m, err := command.DecodeMetadata(r.Metadata); err == nil {
				l.Registrar = m.IssuerOrgID
			}
			break
		}
	}
	for _, e := range st.Employments {
		if e.End.IsZero() || (!career.BeforeDay(at, e.Start) && !career.BeforeDay(e.End, at)) {
			l.Employers = append(l.Employers, e.EmployerOrgID)
		}
	}
	for _, e := range st.Enrolments {
		l.Academies = append(l.Academies, e.AcademyID)
	}
	return l
}

// batcher is implemented by the service itself (not by its middlewares):
// back-fill builds line commands with it and appends runs of one
// craftsman's lines together (command.Handler.ExecuteBatch).
type batcher interface {
	conferCommand(ctx context.Context, req ConferRequest) (command.Command, error)
	innovationCommand(ctx context.Context, req InnovationRequest) (command.Command, error)
	Handler() *command.Handler
}

func (s *service) Handler() *command.Handler { return s.h }

func (s *service) Correct(ctx context.Context, req servicekit.CorrectionRequest) (command.Result, error) {
	return s.corrector.Correct(ctx, req)
}
