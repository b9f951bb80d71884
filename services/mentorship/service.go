package mentorship

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
)

// Service records mentorships. Every method takes the caller from ctx
// (auth claims) and the request ids (command.HTTPToContext).
type Service interface {
	StartMentorship(ctx context.Context, req StartRequest) (Response, error)
	LogSession(ctx context.Context, req LogSessionRequest) (Response, error)
	CompleteMentorship(ctx context.Context, req CompleteRequest) (Response, error)
	EndMentorship(ctx context.Context, req EndRequest) (Response, error)
	// Correct records an EventCorrected superseding a mentorship fact on a
	// craftsman's stream (servicekit.Corrector).
	Correct(ctx context.Context, req servicekit.CorrectionRequest) (command.Result, error)
}

// Corrected lists the event types the mentorship service corrects, with the
// fields a replacement must keep.
func Corrected() map[string][]string {
	return events.CorrectionIdentity(events.TypeMentorshipStarted, events.TypeMentorshipSessionLogged, events.TypeMentorshipCompleted, events.TypeMentorshipEndedEarly)
}

// StartRequest pairs a master and an apprentice. The pairing is recorded
// for AcademyID or EmployerOrgID (at least one); the caller must write for
// one of them. Kind defaults to master_apprentice; PlannedMonths is 12–36.
type StartRequest struct {
	MentorshipID  string       `json:"mentorshipId"`
	MasterID      string       `json:"masterId"`
	ApprenticeID  string       `json:"apprenticeId"`
	Kind          string       `json:"kind,omitempty"`
	Trade         events.Trade `json:"trade"`
	AcademyID     string       `json:"academyId,omitempty"`
	EmployerOrgID string       `json:"employerOrgId,omitempty"`
	PlannedMonths int          `json:"plannedMonths"`
	OccurredAt    string       `json:"occurredAt,omitempty"`

	// later are the dates of the facts a back-filled line records after
	// the start (its sessions, completion or early end; transport.go).
	// They are checked with the start, before its first write, as the
	// later commands would check them, so that a refused line writes
	// nothing.
	later []laterDate
}

// maxSessionID bounds a session's name (its sessionId or key).
const maxSessionID = 128

// laterDate is the occurredAt of a fact recorded after a start, and the
// field of the back-filled line it comes from ("sessions[0]", "completed").
type laterDate struct{ field, occurredAt string }

// LogSessionRequest logs a progress session. SessionID names the session
// so that a repeated request is recognised; without it the Idempotency-Key
// header does, and without either every request is a new session.
type LogSessionRequest struct {
	MentorshipID string  `json:"-"` // from the path
	SessionID    string  `json:"sessionId,omitempty"`
	Hours        float64 `json:"hours"`
	Topic        string  `json:"topic,omitempty"`
	OccurredAt   string  `json:"occurredAt,omitempty"`
}

// CompleteRequest completes a pairing with the level the apprentice reached.
type CompleteRequest struct {
	MentorshipID string        `json:"-"` // from the path
	LevelReached *events.Level `json:"levelReached"`
	OccurredAt   string        `json:"occurredAt,omitempty"`
}

// EndRequest ends a pairing before completion.
type EndRequest struct {
	MentorshipID string `json:"-"` // from the path
	Reason       string `json:"reason"`
	OccurredAt   string `json:"occurredAt,omitempty"`
}

// Response says where a mentorship fact landed on each of its three
// streams. Position is the latest of them (read-your-writes).
type Response struct {
	MentorshipID string              `json:"mentorshipId"`
	EventType    string              `json:"eventType"`
	Mentorship   command.Result      `json:"mentorship"`
	Master       command.Result      `json:"master"`
	Apprentice   command.Result      `json:"apprentice"`
	Position     eventstore.Position `json:"position"`
	// Replayed is true when all three streams already held the fact.
	Replayed bool `json:"replayed"`
}

// StatusCode is 201 when anything was written, 200 for a replay.
func (r Response) StatusCode() int {
	if r.Replayed {
		return 200
	}
	return 201
}

// PlatformOrg is the issuer organisation recorded for admins acting
// without an organisation of their own.
const PlatformOrg = servicekit.PlatformOrg

// Defaults of Options.
const (
	DefaultMinMasterLevel       = events.Senior
	DefaultMaxActiveApprentices = 8
)

// Options configure the service's rules.
type Options struct {
	// MinMasterLevel is the lowest level in the pairing's trade that allows
	// mentoring (0 = DefaultMinMasterLevel, senior).
	MinMasterLevel events.Level
	// MaxActiveApprentices bounds a master's active pairings (0 = 8).
	MaxActiveApprentices int
	// Seal chains every event's metadata (prevHash/hash); nil means servicekit.Seal
	// (events/chain), as every service writing craftsman streams does.
	Seal command.Seal
	// MaxRetries bounds the conflict-retry loop (0 = command's default).
	MaxRetries int
}

type service struct {
	corrector servicekit.Corrector
	h         *command.Handler
	store     eventstore.Store
	clock     func() time.Time
	reg       *events.Registry
	minLvl    events.Level
	max       int
	decoded   *servicekit.DecodedFacts
	// starts runs a master's back-filled pairings together
	// (backfillStarts).
	starts *command.Group
}

// New returns the mentorship service over store. clock is the only source
// of "now".
func New(store eventstore.Store, clock func() time.Time, opts Options) (Service, error) {
	if store == nil {
		return nil, errs.E(errs.InvalidArgument, "mentorship: a store is required")
	}
	if clock == nil {
		return nil, errs.E(errs.InvalidArgument, "mentorship: a clock is required")
	}
	if opts.MinMasterLevel == 0 {
		opts.MinMasterLevel = DefaultMinMasterLevel
	}
	if !opts.MinMasterLevel.Valid() {
		return nil, errs.E(errs.InvalidArgument, "mentorship: minimum master level %d out of range", opts.MinMasterLevel)
	}
	if opts.MaxActiveApprentices == 0 {
		opts.MaxActiveApprentices = DefaultMaxActiveApprentices
	}
	if opts.MaxActiveApprentices < 1 {
		return nil, errs.E(errs.InvalidArgument, "mentorship: at most %d active apprentices makes no sense", opts.MaxActiveApprentices)
	}
	if opts.Seal == nil {
		opts.Seal = servicekit.Seal
	}
	h := command.New(store, command.Options{Clock: clock, Seal: opts.Seal, MaxRetries: opts.MaxRetries})
	reg := events.NewRegistry()
	s := &service{h: h, store: store, clock: clock, reg: reg, minLvl: opts.MinMasterLevel, max: opts.MaxActiveApprentices,
		decoded: servicekit.NewDecodedFacts(servicekit.DefaultDecodedStreams, servicekit.DefaultDecodedFacts)}
	s.corrector = servicekit.Corrector{Handler: h, Registry: reg, Owned: Corrected(), PlatformOrg: PlatformOrg, Follow: s.datesStayOrdered}
	s.starts = &command.Group{Run: s.backfillStarts}
	return s, nil
}

// mayRecord checks that the caller writes for the pairing's academy or
// employer.
func mayRecord(c auth.Claims, academy, employer string) error {
	if auth.CanWriteFor(c, academy) || auth.CanWriteFor(c, employer) {
		return nil
	}
	org := academy
	if org == "" {
		org = employer
	}
	return auth.RequireWriteFor(c, org)
}

// eventID is the id of a mentorship fact on one stream.
func eventID(mentorshipID, fact, stream string) string {
	return events.DeterministicID("mentorship", mentorshipID, fact, stream)
}

func (s *service) StartMentorship(ctx context.Context, req StartRequest) (Response, error) {
	st, err := s.checkStart(ctx, req, true)
	if err != nil {
		return Response{}, err
	}
	// 1. The master's stream: the level rule and the limit, decided at the
	// revision the append expects. (A failed prefetch is left to the
	// append's own read to report.)
	_ = st.masterRead()
	c, answer := s.masterCommand(st)
	res, err := s.h.Execute(ctx, c)
	if err != nil {
		return Response{}, err
	}
	return s.startRest(ctx, st, answer(res))
}

// start is a StartMentorship request checked before its first write
// (checkStart).
type start struct {
	req        StartRequest
	meta       command.Meta
	p          events.MentorshipStarted
	at         time.Time
	app        *career.State // the apprentice as the store holds it now
	data       []byte        // p, marshalled once for its three streams
	masterRead func() error  // the prefetch of the master's stream
}

// ev is the start's one event, with id.
func (st *start) ev(id string) []command.Event {
	return []command.Event{{Type: st.p.EventType(), Data: json.RawMessage(st.data), OccurredAt: st.at, ID: id}}
}

// other refuses a start whose id another start with other parties or
// terms holds (a stream holding this start's id holds a start of this
// pairing: this one, a replay, or another).
func (st *start) other(field string) error {
	return kit.FieldErr("mentorshipId", errs.E(errs.Conflict, "mentorship %s already exists with other parties or terms (another %s)", st.req.MentorshipID, field))
}

// checkStart checks req as far as it can be before the first write: the
// request, the caller, the dates, the pairing's stream and the apprentice.
// prefetch starts reading the master's stream beside them when the
// handler does not hold it.
func (s *service) checkStart(ctx context.Context, req StartRequest, prefetch bool) (*start, error) {
	meta, c, err := servicekit.Writer(ctx)
	if err != nil {
		return nil, err
	}
	if req.Kind == "" {
		req.Kind = events.MentorshipMasterApprentice
	}
	p := events.MentorshipStarted{MentorshipParties: events.MentorshipParties{MentorshipID: req.MentorshipID,
		MasterID: req.MasterID, ApprenticeID: req.ApprenticeID}, Kind: req.Kind, Trade: req.Trade,
		AcademyID: req.AcademyID, EmployerOrgID: req.EmployerOrgID, PlannedMonths: req.PlannedMonths}
	if err := p.Validate(); err != nil {
		return nil, servicekit.Invalid(err)
	}
	if req.PlannedMonths < 12 || req.PlannedMonths > 36 {
		return nil, kit.Invalid("plannedMonths", "a pairing is planned for 12 to 36 months (1–3 years), got %d", req.PlannedMonths)
	}
	if req.AcademyID == "" && req.EmployerOrgID == "" {
		return nil, kit.Invalid("academyId", "academyId or employerOrgId is required")
	}
	now := s.clock()
	at, err := servicekit.When(req.OccurredAt, now)
	if err != nil {
		return nil, err
	}
	later := make([]time.Time, len(req.later))
	for i, l := range req.later {
		if later[i], err = servicekit.When(l.occurredAt, now); err != nil {
			return nil, kit.FieldErr(l.field, err)
		}
	}
	if err := mayRecord(c, req.AcademyID, req.EmployerOrgID); err != nil {
		return nil, err
	}

	// Checks before the first write. The two reads go out together (one
	// round trip of latency, not two); the pairing's answer comes first.
	// The apprentice's stream is read through the handler (Latest): when
	// it is cached, only the events after the cached copy are read, and
	// the copy serves the apprentice's append below. A master's stream the
	// handler does not hold is read beside them (Prefetch), not after them
	// by the master's append: its decision needs no read of its own.
	masterRead := func() error { return nil }
	if prefetch {
		masterRead = s.h.Prefetch(ctx, events.CraftsmanStream(req.MasterID))
	}
	type loaded struct {
		h   command.History
		err error
	}
	apprentice := make(chan loaded, 1)
	go func() {
		h, err := s.h.Latest(ctx, events.CraftsmanStream(req.ApprenticeID))
		apprentice <- loaded{h, err}
	}()
	mstream := events.MentorshipStream(req.MentorshipID)
	mh, err := command.Load(ctx, s.store, mstream)
	if err != nil {
		return nil, err
	}
	cur, err := s.foldPairing(mh, nil)
	if err != nil {
		return nil, err
	}
	if cur.started && cur.start != p {
		return nil, kit.FieldErr("mentorshipId", errs.E(errs.Conflict, "mentorship %s already exists with other parties or terms", req.MentorshipID))
	}
	// A back-filled line's later facts follow the start as recorded (a
	// replayed start keeps its first date), as follow checks them.
	startedAt := at
	if cur.started {
		startedAt = cur.startedAt
	}
	for i, t := range later {
		if career.BeforeDay(t, startedAt) {
			return nil, kit.FieldErr(req.later[i].field, kit.Invalid("occurredAt", "mentorship %s started on %s", req.MentorshipID, career.CivilDay(startedAt)))
		}
	}
	a := <-apprentice
	ah, err := a.h, a.err
	if err != nil {
		return nil, err
	}
	app, err := s.career(ah, s.endOfTime())
	if err != nil {
		return nil, err
	}
	if !app.Registered {
		return nil, kit.FieldErr("apprenticeId", errs.E(errs.NotFound, "craftsman %s is not registered", req.ApprenticeID))
	}
	// The same data goes to all three streams: marshalled once (exactly as
	// the handler would marshal p).
	data, err := json.Marshal(p)
	if err != nil {
		return nil, errs.E(errs.Internal, "encode %s: %v", p.EventType(), err)
	}
	return &start{req: req, meta: meta, p: p, at: at, app: app, data: data, masterRead: masterRead}, nil
}

// masterCommand is the start's command on the master's stream, unrun —
// the level rule and the limit, decided at the revision the append
// expects; run alone (StartMentorship) or with the master's other
// back-filled starts (backfillStarts) — and how its result answers.
func (s *service) masterCommand(st *start) (command.Command, func(command.Result) command.Result) {
	req, at, app := st.req, st.at, st.app
	masterStream := events.CraftsmanStream(req.MasterID)
	masterID := eventID(req.MentorshipID, "started", masterStream)
	c, answer := s.onceCommand(st.meta, "start mentorship (master)", masterStream, masterID, false, st.p, st.other, startRetracted(req.MentorshipID),
		func(h command.History, _ string) ([]command.Event, error) {
			now, then, err := s.careerNowAndAt(h, career.EndOfDay(at))
			if err != nil {
				return nil, err
			}
			if !now.Registered {
				return nil, kit.FieldErr("masterId", errs.E(errs.NotFound, "craftsman %s is not registered", req.MasterID))
			}
			lvl := events.Level(-1)
			if l, ok := then.HighestLevel([]string{req.Trade.Code}); ok {
				lvl = l.Level
			}
			if lvl < s.minLvl {
				held := "no level"
				if lvl >= 0 {
					held = lvl.String()
				}
				return nil, kit.FieldErr("masterId", errs.E(errs.FailedPrecondition,
					"master %s holds %s in trade %s on %s; mentoring needs %s or above", req.MasterID, held, req.Trade.Code, career.CivilDay(at), s.minLvl))
			}
			if al, ok := app.HighestLevel([]string{req.Trade.Code}); ok && al.Level >= lvl {
				return nil, kit.FieldErr("apprenticeId", errs.E(errs.FailedPrecondition,
					"apprentice %s already holds %s in trade %s, not below the master's %s", req.ApprenticeID, al.Level, req.Trade.Code, lvl))
			}
			active := 0
			for _, m := range now.Mentorships {
				if m.Role == "master" && m.Status == career.MentorshipActive && m.ID != req.MentorshipID {
					active++
					if m.Counterpart == req.ApprenticeID && m.Trade == req.Trade.Code {
						return nil, kit.FieldErr("apprenticeId", errs.E(errs.Conflict,
							"master %s already mentors %s in trade %s (mentorship %s)", req.MasterID, req.ApprenticeID, req.Trade.Code, m.ID))
					}
				}
			}
			if active >= s.max {
				return nil, kit.FieldErr("masterId", errs.E(errs.FailedPrecondition,
					"master %s already has %d active apprentices (at most %d)", req.MasterID, active, s.max))
			}
			return st.ev(masterID), nil
		})
	return c, func(res command.Result) command.Result {
		res, _ = answer(res)
		return res
	}
}

// startRest records a start whose master's copy is recorded (master) on
// the pairing's and the apprentice's streams.
func (s *service) startRest(ctx context.Context, st *start, master command.Result) (Response, error) {
	req, meta := st.req, st.meta
	resp := Response{MentorshipID: req.MentorshipID, EventType: st.p.EventType(), Replayed: true, Master: master}
	masterID := eventID(req.MentorshipID, "started", events.CraftsmanStream(req.MasterID))
	// 2. The pairing's stream. Its append expects no stream rather than
	// reading it first (command.ExpectNew; the check above read it): when
	// it exists after all, the append fails and the decision is taken
	// again on the stream as read — a replay when it holds this start, else
	// the same conflict as before.
	mstream := events.MentorshipStream(req.MentorshipID)
	pairingID := eventID(req.MentorshipID, "started", mstream)
	taken := false // by a start with other parties or terms
	var err error
	resp.Mentorship, _, err = s.once(ctx, meta, "start mentorship", mstream, pairingID, true, st.p,
		func(field string) error {
			taken = true
			return st.other(field)
		}, nil,
		func(h command.History, _ string) ([]command.Event, error) {
			if h.Exists {
				taken = true
				return nil, kit.FieldErr("mentorshipId", errs.E(errs.Conflict, "mentorship %s already exists", req.MentorshipID))
			}
			return st.ev(pairingID), nil
		})
	if err != nil {
		if taken {
			// A concurrent start of this id with another master got the
			// pairing first, after this one's check (1a) and master's
			// append: the copy on this master's stream was never part of a
			// pairing. Retract it, so that neither the master's history nor
			// the limit counts it, and answer the conflict all the same.
			if rerr := s.retract(ctx, meta, req.MasterID, masterID, req.MentorshipID); rerr != nil {
				return Response{}, fmt.Errorf("%w (and the master's copy %s stays unretracted: %v)", err, masterID, rerr)
			}
		}
		return Response{}, err
	}
	// 3. The apprentice's stream. (Issued together with 2., a start was
	// slower: 1 client 1.5 -> 3.7 ms p50.)
	astream := events.CraftsmanStream(req.ApprenticeID)
	apprenticeID := eventID(req.MentorshipID, "started", astream)
	resp.Apprentice, _, err = s.once(ctx, meta, "start mentorship (apprentice)", astream, apprenticeID, false, st.p, st.other, startRetracted(req.MentorshipID),
		func(command.History, string) ([]command.Event, error) { return st.ev(apprenticeID), nil })
	if err != nil {
		return Response{}, err
	}
	return resp.finish(), nil
}

// retract records an EventCorrected retracting the start id (of
// mentorship) that a refused start left on master's stream; without the
// request's idempotency key, so that the correction's id derives from its
// content (a retraction recorded twice is one).
func (s *service) retract(ctx context.Context, meta command.Meta, master, id, mentorship string) error {
	ctx = command.WithRequest(ctx, "", meta.CorrelationID, meta.CausationID)
	_, err := s.corrector.Correct(ctx, servicekit.CorrectionRequest{CraftsmanID: master, SupersedesEventID: id,
		Reason: fmt.Sprintf("mentorship %s was started at the same time with other parties or terms; this copy is not part of it", mentorship)})
	return err
}

func (r Response) finish() Response {
	r.Replayed = r.Master.Replayed && r.Mentorship.Replayed && r.Apprentice.Replayed
	for _, x := range []command.Result{r.Mentorship, r.Master, r.Apprentice} {
		if r.Position.Less(x.Position) {
			r.Position = x.Position
		}
	}
	return r
}

// once appends decide's events to stream unless the stream already holds
// the fact whose first event id is id. Then the request is a replay when
// the recorded event holds want, answered with where that event is and the
// event itself; when it holds other data, the request is refused with
// conflict(the first field that differs) and nothing is written. A
// recording that retracted (nil: the stream's own corrections,
// servicekit.RetractedOn) says is retracted does not count: decide records
// the fact again under the id it is given, the next of the fact's chain
// (servicekit.FactOnStream).
// expectNew says the stream is normally new (command.ExpectNew): the
// append expects no stream instead of reading it first.
func (s *service) once(ctx context.Context, meta command.Meta, name, stream, id string, expectNew bool,
	want events.Payload, conflict func(field string) error, retracted func(command.History) servicekit.Retraction,
	decide func(h command.History, id string) ([]command.Event, error)) (command.Result, *eventstore.RecordedEvent, error) {
	c, answer := s.onceCommand(meta, name, stream, id, expectNew, want, conflict, retracted, decide)
	res, err := s.h.Execute(ctx, c)
	if err != nil {
		return res, nil, err
	}
	res, found := answer(res)
	return res, found, nil
}

// onceCommand is once's command, unrun, and how its result answers (the
// recorded event when it was a replay).
func (s *service) onceCommand(meta command.Meta, name, stream, id string, expectNew bool,
	want events.Payload, conflict func(field string) error, retracted func(command.History) servicekit.Retraction,
	decide func(h command.History, id string) ([]command.Event, error)) (command.Command, func(command.Result) (command.Result, *eventstore.RecordedEvent)) {
	var found *eventstore.RecordedEvent
	c := command.Command{Name: name, Stream: stream, Meta: meta, RetryOnConflict: true, ExpectNew: expectNew,
		Decide: func(_ context.Context, h command.History) ([]command.Event, error) {
			found = nil
			gone := servicekit.RetractedOn(h)
			if retracted != nil {
				gone = retracted(h)
			}
			_, next, e, err := servicekit.FactOnStream(h, id, gone)
			if err != nil {
				return nil, err
			}
			if e == nil {
				return decide(h, next)
			}
			field, err := s.differs(*e, want)
			if err != nil {
				return nil, err
			}
			if field != "" {
				return nil, conflict(field)
			}
			r := *e
			found = &r
			return nil, nil
		}}
	return c, func(res command.Result) (command.Result, *eventstore.RecordedEvent) {
		if found != nil {
			return command.Result{Stream: stream, Revision: found.Revision, Position: found.Position, EventIDs: []string{found.ID}, Replayed: true}, found
		}
		return res, nil
	}
}

// differs names the first field (by JSON name, in alphabetical order) in
// which the payload recorded in r differs from want; "" when r records
// want: byte for byte when r is encoded as this service encodes want, else
// as JSON objects after decoding r with the registry (so that an older
// version of the event type compares by its current form).
func (s *service) differs(r eventstore.RecordedEvent, want events.Payload) (string, error) {
	if r.Type != want.EventType() {
		return "", errs.E(errs.Internal, "%s@%d is a %s, not the %s its id names", r.Stream, r.Revision, r.Type, want.EventType())
	}
	wb, err := json.Marshal(want)
	if err != nil {
		return "", errs.E(errs.Internal, "encode %s: %v", want.EventType(), err)
	}
	if bytes.Equal(wb, r.Data) {
		return "", nil // as this service writes it
	}
	got, err := s.reg.Decode(r.Type, r.Data)
	if err != nil {
		return "", errs.E(errs.Internal, "decode %s@%d (%s): %v", r.Stream, r.Revision, r.Type, err)
	}
	a, b := servicekit.Fields(got), servicekit.Fields(want)
	names := slices.Collect(maps.Keys(a))
	for n := range b {
		if _, ok := a[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		if !bytes.Equal(a[n], b[n]) {
			return n, nil
		}
	}
	return "", nil
}

// follow records a fact about an existing pairing: first on its stream,
// where allowed decides whether the pairing's state allows it, then on both
// workers' streams. payload is the fact the request records (what names it
// in a conflict: "its completion", "session s1"); a stream already holding
// the fact's id with other data refuses the request (409 naming the field).
func (s *service) follow(ctx context.Context, meta command.Meta, c auth.Claims, name, mentorshipID, fact, what string,
	at time.Time, payload func(events.MentorshipStarted) events.Payload, allowed func(pairing) error) (Response, error) {
	if err := events.ValidID("mentorshipId", mentorshipID); err != nil {
		return Response{}, servicekit.Invalid(err)
	}
	mstream := events.MentorshipStream(mentorshipID)
	mh, err := command.Load(ctx, s.store, mstream)
	if err != nil {
		return Response{}, err
	}
	cur, err := s.foldPairing(mh, nil)
	if err != nil {
		return Response{}, err
	}
	if !cur.started {
		return Response{}, errs.E(errs.NotFound, "mentorship %s", mentorshipID)
	}
	// The pairing's facts as the workers' corrections leave them: the
	// corrections are on the workers' streams (where every view and audit
	// reads the facts), so the pairing's decisions read them there.
	copies, err := s.copies(ctx, mentorshipID, cur.start)
	if err != nil {
		return Response{}, err
	}
	dropped, err := copies.dropped(mh)
	if err != nil {
		return Response{}, err
	}
	if cur, err = s.foldPairing(mh, dropped); err != nil {
		return Response{}, err
	}
	if !cur.started {
		return Response{}, errs.E(errs.FailedPrecondition, "mentorship %s: a correction retracted its start", mentorshipID)
	}
	if err := mayRecord(c, cur.start.AcademyID, cur.start.EmployerOrgID); err != nil {
		return Response{}, err
	}
	if career.BeforeDay(at, cur.startedAt) {
		return Response{}, kit.Invalid("occurredAt", "mentorship %s started on %s", mentorshipID, career.CivilDay(cur.startedAt))
	}
	if err := copies.agree(fact, what); err != nil {
		return Response{}, err
	}
	// The parties and trade come from the start, which never changes.
	p := payload(cur.start)
	if err := p.Validate(); err != nil {
		return Response{}, servicekit.Invalid(err)
	}
	other := func(field string) error {
		return kit.FieldErr(field, errs.E(errs.Conflict, "mentorship %s already records %s with another %s", mentorshipID, what, field))
	}
	resp := Response{MentorshipID: mentorshipID, EventType: p.EventType()}
	pairingID := eventID(mentorshipID, fact, mstream)
	var rec *eventstore.RecordedEvent
	resp.Mentorship, rec, err = s.once(ctx, meta, name, mstream, pairingID, false, p, other,
		func(command.History) servicekit.Retraction { return copies.retracted(fact) },
		func(h command.History, id string) ([]command.Event, error) {
			dropped, err := copies.dropped(h)
			if err != nil {
				return nil, err
			}
			st, err := s.foldPairing(h, dropped)
			if err != nil {
				return nil, err
			}
			if err := allowed(st); err != nil {
				return nil, err
			}
			return []command.Event{{Type: p.EventType(), Data: p, OccurredAt: at, ID: id}}, nil
		})
	if err != nil {
		return Response{}, err
	}
	if rec != nil {
		// Replayed on the pairing's stream: the copies carry what it
		// recorded, on its date.
		if p, err = s.reg.Decode(rec.Type, rec.Data); err != nil {
			return Response{}, errs.E(errs.Internal, "decode %s@%d: %v", mstream, rec.Revision, err)
		}
		m, err := command.DecodeMetadata(rec.Metadata)
		if err != nil {
			return Response{}, err
		}
		at = m.OccurredAt
	}
	// The copies on both workers' streams decide nothing: write them together.
	var wg sync.WaitGroup
	errs2 := make([]error, 2)
	for k, side := range []struct {
		worker string
		out    *command.Result
	}{{cur.start.MasterID, &resp.Master}, {cur.start.ApprenticeID, &resp.Apprentice}} {
		stream := events.CraftsmanStream(side.worker)
		id := eventID(mentorshipID, fact, stream)
		wg.Add(1)
		go func() {
			defer wg.Done()
			*side.out, _, errs2[k] = s.once(ctx, meta, name, stream, id, false, p, other, nil, func(_ command.History, id string) ([]command.Event, error) {
				return []command.Event{{Type: p.EventType(), Data: p, OccurredAt: at, ID: id}}, nil
			})
		}()
	}
	wg.Wait()
	for _, err := range errs2 {
		if err != nil {
			return Response{}, err
		}
	}
	return resp.finish(), nil
}

func (s *service) LogSession(ctx context.Context, req LogSessionRequest) (Response, error) {
	meta, c, err := servicekit.Writer(ctx)
	if err != nil {
		return Response{}, err
	}
	at, err := servicekit.When(req.OccurredAt, s.clock())
	if err != nil {
		return Response{}, err
	}
	key := req.SessionID
	if key == "" {
		key = command.KeyFrom(ctx)
	}
	if key == "" {
		key = command.NewID()
	}
	if len(key) > maxSessionID {
		return Response{}, kit.Invalid("sessionId", "is longer than %d characters", maxSessionID)
	}
	return s.follow(ctx, meta, c, "log mentorship session", req.MentorshipID, "session:"+key, "session "+key, at,
		func(start events.MentorshipStarted) events.Payload {
			return events.MentorshipSessionLogged{MentorshipParties: start.MentorshipParties, Hours: req.Hours, Topic: req.Topic}
		},
		func(st pairing) error {
			if st.status != career.MentorshipActive {
				return errs.E(errs.FailedPrecondition, "mentorship %s is %s", req.MentorshipID, st.status)
			}
			return nil
		})
}

func (s *service) CompleteMentorship(ctx context.Context, req CompleteRequest) (Response, error) {
	meta, c, err := servicekit.Writer(ctx)
	if err != nil {
		return Response{}, err
	}
	if req.LevelReached == nil {
		return Response{}, kit.Invalid("levelReached", "is required (the level the apprentice reached)")
	}
	at, err := servicekit.When(req.OccurredAt, s.clock())
	if err != nil {
		return Response{}, err
	}
	return s.follow(ctx, meta, c, "complete mentorship", req.MentorshipID, "completed", "its completion", at,
		func(start events.MentorshipStarted) events.Payload {
			return events.MentorshipCompleted{MentorshipParties: start.MentorshipParties, Trade: start.Trade, LevelReached: req.LevelReached}
		}, activeOnly(req.MentorshipID))
}

func (s *service) EndMentorship(ctx context.Context, req EndRequest) (Response, error) {
	meta, c, err := servicekit.Writer(ctx)
	if err != nil {
		return Response{}, err
	}
	if req.Reason == "" {
		return Response{}, kit.Invalid("reason", "is required")
	}
	at, err := servicekit.When(req.OccurredAt, s.clock())
	if err != nil {
		return Response{}, err
	}
	return s.follow(ctx, meta, c, "end mentorship", req.MentorshipID, "ended", "its early end", at,
		func(start events.MentorshipStarted) events.Payload {
			return events.MentorshipEndedEarly{MentorshipParties: start.MentorshipParties, Reason: req.Reason}
		}, activeOnly(req.MentorshipID))
}

// activeOnly allows a completion or an early end of an active pairing only.
func activeOnly(mentorshipID string) func(pairing) error {
	return func(st pairing) error {
		if st.status != career.MentorshipActive {
			return errs.E(errs.FailedPrecondition, "mentorship %s is already %s", mentorshipID, st.status)
		}
		return nil
	}
}

func (s *service) Correct(ctx context.Context, req servicekit.CorrectionRequest) (command.Result, error) {
	return s.corrector.Correct(ctx, req)
}
