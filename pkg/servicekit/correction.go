package servicekit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/kit"
)

// CorrectionRequest corrects a fact on a craftsman's stream (POST
// /v1/craftsmen/{craftsmanId}/corrections): an EventCorrected supersedes
// the event SupersedesEventID with a reason; both stay in the history.
// With Replacement the corrected fact replaces the original; without, the
// original is retracted. Superseding a correction reverses it.
type CorrectionRequest struct {
	CraftsmanID       string              `json:"-"` // from the path
	SupersedesEventID string              `json:"supersedesEventId"`
	Reason            string              `json:"reason"`
	Replacement       *ReplacementRequest `json:"replacement,omitempty"`
}

// ReplacementRequest is the corrected fact: the full payload of the
// original's type (Type, when given, must name it) and, when the date was
// wrong, the corrected occurredAt.
type ReplacementRequest struct {
	Type       string          `json:"type,omitempty"`
	Data       json.RawMessage `json:"data"`
	OccurredAt string          `json:"occurredAt,omitempty"`
}

// Corrector records corrections of the event types a service owns.
type Corrector struct {
	// Handler appends to craftsman streams (with the service's Seal).
	Handler *command.Handler
	// Registry decodes the stream's events and the replacement.
	Registry *events.Registry
	// Owned maps each event type the service records (current name) to the
	// JSON fields that identify the fact; a replacement must keep them
	// (a correction fixes a fact, it does not move it to another worker,
	// honour or pairing).
	Owned map[string][]string
	// PlatformOrg is the issuer recorded for an admin's corrections.
	PlatformOrg string
	// Follow, when set, decides what a correction entails on the stream
	// beyond itself (a fact another fact was derived from: a placement and
	// its entitlement). It is called in the correction's decision, once
	// the correction is checked, and not for a replayed correction; the
	// events it returns are appended with the correction, in the same
	// append (with an Idempotency-Key, give them no id: the key names
	// them). An error refuses the correction and nothing is written. It
	// must decide the same events for the same history and correction.
	Follow func(ctx context.Context, c Correcting) ([]command.Event, error)
}

// Correcting is a correction about to be recorded, as Follow sees it.
type Correcting struct {
	// History is the stream before the correction.
	History command.History
	// Original is the fact corrected (a correction's target followed back
	// through corrections).
	Original *eventstore.RecordedEvent
	// Event is the correction.
	Event events.EventCorrected
	// ID is the correction's event id; "" when the request's
	// Idempotency-Key names it (Meta.IdempotencyKey).
	ID   string
	Meta command.Meta
}

// WithCorrection is the stream with this correction recorded last (under
// a placeholder id when the key names it): what a Follow hook folds to
// check the rules of its commands.
func (k Correcting) WithCorrection() (command.History, error) {
	data, err := json.Marshal(k.Event)
	if err != nil {
		return command.History{}, errs.E(errs.Internal, "encode correction: %v", err)
	}
	corr := eventstore.RecordedEvent{Stream: k.History.Stream, ID: k.ID, Type: events.TypeEventCorrected, Data: data}
	if corr.ID == "" {
		corr.ID = "this-correction"
	}
	if n := len(k.History.Events); n > 0 {
		corr.Revision = k.History.Events[n-1].Revision + 1
	}
	return command.History{Stream: k.History.Stream, Exists: true, Events: append(slices.Clip(k.History.Events), corr)}, nil
}

// AsCorrected is WithCorrection through command.Corrected: the stream's
// facts in force, as corrected, once this correction is recorded.
func (k Correcting) AsCorrected() ([]eventstore.RecordedEvent, error) {
	h, err := k.WithCorrection()
	if err != nil {
		return nil, err
	}
	return command.Corrected(h, events.TypeEventCorrected)
}

// DateField is the field a Follow hook's refusal of a date names: the
// replacement's occurredAt when the correction re-dates the fact, else
// the fact it supersedes.
func (k Correcting) DateField() string {
	if k.Event.Replacement != nil && k.Event.Replacement.OccurredAt != nil {
		return "replacement.occurredAt"
	}
	return "supersedesEventId"
}

// OwnedTypes lists the event types c corrects, sorted.
func (c Corrector) OwnedTypes() []string { return slices.Sorted(maps.Keys(c.Owned)) }

// Correct appends the correction. Only issuers and admins may correct, and
// an issuer only a fact its own organisation recorded. The superseded
// event must be on the craftsman's stream and be of a type the service
// owns (or a correction of one). Without an Idempotency-Key the
// correction's event id derives from its content, so the same correction
// sent twice is recorded once (Replayed) — while it is in force: sent
// again after it was reversed or overridden it is recorded again
// (contentID).
func (c Corrector) Correct(ctx context.Context, req CorrectionRequest) (command.Result, error) {
	meta, cl, err := command.MetaFrom(ctx)
	if err != nil {
		return command.Result{}, err
	}
	if err := cl.RequireRole(auth.RoleIssuer, auth.RoleAdmin); err != nil {
		return command.Result{}, err
	}
	meta = c.asIssuer(meta, cl)
	if err := events.ValidID("craftsmanId", req.CraftsmanID); err != nil {
		return command.Result{}, fieldErr(err)
	}
	switch {
	case req.SupersedesEventID == "":
		return command.Result{}, kit.Invalid("supersedesEventId", "is required")
	case req.Reason == "":
		return command.Result{}, kit.Invalid("reason", "is required")
	case req.Replacement != nil && len(bytes.TrimSpace(req.Replacement.Data)) == 0:
		return command.Result{}, kit.Invalid("replacement.data", "is required (omit replacement to retract)")
	}
	now := c.Handler.Now()
	var repAt *time.Time
	if r := req.Replacement; r != nil && r.OccurredAt != "" {
		at, err := command.ParseWhen(r.OccurredAt, now, events.FutureSkew)
		if err != nil {
			return command.Result{}, kit.FieldErr("replacement.occurredAt", err)
		}
		repAt = &at
	}
	keyed := meta.IdempotencyKey != ""
	stream := events.CraftsmanStream(req.CraftsmanID)
	var found *eventstore.RecordedEvent
	res, err := c.Handler.Execute(ctx, command.Command{Name: "correct event", Stream: stream, Meta: meta, RetryOnConflict: true,
		Decide: func(ctx context.Context, h command.History) ([]command.Event, error) {
			found = nil
			byID := make(map[string]*eventstore.RecordedEvent, len(h.Events))
			for i := range h.Events {
				byID[h.Events[i].ID] = &h.Events[i]
			}
			target, ok := byID[req.SupersedesEventID]
			if !ok {
				return nil, kit.FieldErr("supersedesEventId", errs.E(errs.NotFound, "craftsman %s has no event %s", req.CraftsmanID, req.SupersedesEventID))
			}
			orig, err := c.original(byID, target)
			if err != nil {
				return nil, err
			}
			m, err := command.DecodeMetadata(orig.Metadata)
			if err != nil {
				return nil, errs.E(errs.Internal, "metadata of %s@%d: %v", orig.Stream, orig.Revision, err)
			}
			if !cl.IsAdmin() && m.IssuerOrgID != cl.OrgID {
				return nil, errs.E(errs.PermissionDenied, "event %s was recorded by organisation %s; %s %s of organisation %s may not correct it",
					orig.ID, m.IssuerOrgID, cl.Role, cl.Subject, cl.OrgID)
			}
			p := events.EventCorrected{CraftsmanID: req.CraftsmanID, SupersedesEventID: req.SupersedesEventID, Reason: req.Reason}
			if req.Replacement != nil {
				rep, err := c.replacement(orig, req.Replacement, repAt)
				if err != nil {
					return nil, err
				}
				p.Replacement = rep
			}
			// Without a key the id derives from the correction as encoded
			// (the replacement re-encoded from its decoded payload), so the
			// same correction sent again, however formatted, is found.
			data, err := json.Marshal(p)
			if err != nil {
				return nil, errs.E(errs.Internal, "encode correction: %v", err)
			}
			id := ""
			if !keyed {
				var err error
				if id, found, err = contentID(h, byID, req.CraftsmanID, data); err != nil || found != nil {
					return nil, err
				}
			}
			if err := p.Validate(); err != nil {
				return nil, fieldErr(err)
			}
			if err := p.ValidateAt(now); err != nil {
				return nil, fieldErr(err)
			}
			if err := recordedAgainInForce(h, byID, target, orig, data, id); err != nil {
				return nil, err
			}
			evs := []command.Event{{Type: p.EventType(), Data: data, ID: id}}
			if c.Follow != nil {
				more, err := c.Follow(ctx, Correcting{History: h, Original: orig, Event: p, ID: id, Meta: meta})
				if err != nil {
					return nil, err
				}
				evs = append(evs, more...)
			}
			return evs, nil
		}})
	if err != nil {
		return res, err
	}
	if found != nil {
		return command.Result{Stream: stream, Revision: found.Revision, Position: found.Position, EventIDs: []string{found.ID}, Replayed: true}, nil
	}
	return res, nil
}

// asIssuer is meta with the issuer a correction by cl is recorded under:
// an admin corrects as the platform, whatever organisation their token
// names (the correction's issuer must be the original's or the platform's
// for an auditor's verify to accept it).
func (c Corrector) asIssuer(meta command.Meta, cl auth.Claims) command.Meta {
	if meta.Issuer == "" || cl.IsAdmin() {
		meta.Issuer = c.PlatformOrg
	}
	return meta
}

// Recorded rebuilds the Correcting that the correction id recorded on h
// was decided with (the history before it, the fact it corrects, the
// caller's meta as Correct records it), for a service answering a
// replayed correction as it answered the first time; ok is false when id
// is not a correction on h whose fact this corrector owns.
func (c Corrector) Recorded(ctx context.Context, h command.History, id string) (k Correcting, ok bool, err error) {
	idx := slices.IndexFunc(h.Events, func(r eventstore.RecordedEvent) bool { return r.ID == id })
	if idx < 0 || h.Events[idx].Type != events.TypeEventCorrected {
		return Correcting{}, false, nil
	}
	p, err := c.Registry.Decode(h.Events[idx].Type, h.Events[idx].Data)
	if err != nil {
		return Correcting{}, false, errs.E(errs.Internal, "decode %s@%d: %v", h.Stream, h.Events[idx].Revision, err)
	}
	ec, isCorr := p.(events.EventCorrected)
	if !isCorr {
		return Correcting{}, false, nil
	}
	before := command.History{Stream: h.Stream, Exists: idx > 0, Events: h.Events[:idx:idx]}
	byID := make(map[string]*eventstore.RecordedEvent, idx)
	for i := range before.Events {
		byID[before.Events[i].ID] = &before.Events[i]
	}
	target, found := byID[ec.SupersedesEventID]
	if !found {
		return Correcting{}, false, nil
	}
	orig, err := c.original(byID, target)
	if err != nil {
		return Correcting{}, false, nil // not a fact this corrector decided on
	}
	meta, cl, err := command.MetaFrom(ctx)
	if err != nil {
		return Correcting{}, false, err
	}
	meta = c.asIssuer(meta, cl)
	if meta.IdempotencyKey != "" {
		id = ""
	}
	return Correcting{History: before, Original: orig, Event: ec, ID: id, Meta: meta}, true, nil
}

// contentID is the event id of a correction encoded as data, without an
// Idempotency-Key: derived from its content, so the same correction sent
// again is found on the stream (found: a replay). A correction found but
// no longer in force (reversed, or overridden by a later correction of the
// same fact) is not a replay: the one sent again re-applies it, under the
// next id of the chain derived from the found one's, so it is recorded
// anew, and a retry of it is a replay of that one.
func contentID(h command.History, byID map[string]*eventstore.RecordedEvent, craftsmanID string, data []byte) (string, *eventstore.RecordedEvent, error) {
	id := events.DeterministicID("correction", craftsmanID, string(data))
	var inForce map[string]bool
	for range len(h.Events) + 1 {
		r, ok := byID[id]
		if !ok {
			return id, nil, nil
		}
		if inForce == nil {
			var err error
			if inForce, err = command.InForce(h, events.TypeEventCorrected); err != nil {
				return "", nil, err
			}
		}
		if inForce[id] {
			return id, r, nil
		}
		id = events.DeterministicID("correction sent again", craftsmanID, id)
	}
	return "", nil, errs.E(errs.Internal, "correction of %s: no free id", craftsmanID)
}

// recordedAgainInForce refuses a correction of a correction (target) that
// would put back in force a retracted fact (orig) recorded again since:
// a request sent after the retraction recorded the fact anew under the
// next id of its chain (RecordedAgainID), and reversing the retraction
// would leave both recordings in force — an honour conferred twice, a
// session counted twice. The later recording is to be retracted first.
// data and id are the correction's (id "" when a key names it).
func recordedAgainInForce(h command.History, byID map[string]*eventstore.RecordedEvent, target, orig *eventstore.RecordedEvent, data []byte, id string) error {
	if target.Type != events.TypeEventCorrected {
		return nil
	}
	var later []string
	for next := RecordedAgainID(orig.ID); byID[next] != nil && len(later) <= len(h.Events); next = RecordedAgainID(next) {
		later = append(later, next)
	}
	if len(later) == 0 {
		return nil
	}
	gone := RetractedOn(h)
	if g, err := gone(0, orig.ID); err != nil || !g {
		return err // in force already: the correction changes nothing of the kind
	}
	if id == "" {
		id = "\x00correction being decided"
	}
	after := command.History{Stream: h.Stream, Exists: true, Events: append(h.Events[:len(h.Events):len(h.Events)],
		eventstore.RecordedEvent{Stream: h.Stream, ID: id, Type: events.TypeEventCorrected, Data: data, Revision: uint64(len(h.Events))})}
	goneAfter := RetractedOn(after)
	if g, err := goneAfter(0, orig.ID); err != nil || g {
		return err // still retracted after it
	}
	for _, l := range later {
		if g, err := goneAfter(0, l); err != nil || !g {
			if err != nil {
				return err
			}
			return kit.FieldErr("supersedesEventId", errs.E(errs.Conflict,
				"event %s was retracted and its fact recorded again since as event %s, which is in force: this correction would put both in force; correct %s first",
				orig.ID, l, l))
		}
	}
	return nil
}

// original follows corrections back to the fact they correct and checks
// the service owns it.
func (c Corrector) original(byID map[string]*eventstore.RecordedEvent, target *eventstore.RecordedEvent) (*eventstore.RecordedEvent, error) {
	e := target
	for depth := 0; e.Type == events.TypeEventCorrected; depth++ {
		var ec events.EventCorrected
		if err := json.Unmarshal(e.Data, &ec); err != nil || depth > 64 {
			return nil, errs.E(errs.Internal, "correction %s@%d: %v", e.Stream, e.Revision, err)
		}
		next, ok := byID[ec.SupersedesEventID]
		if !ok {
			return nil, kit.FieldErr("supersedesEventId", errs.E(errs.FailedPrecondition, "correction %s supersedes %s, which is not on the stream", e.ID, ec.SupersedesEventID))
		}
		e = next
	}
	if _, ok := c.Owned[events.CurrentType(e.Type)]; !ok {
		return nil, kit.Invalid("supersedesEventId", "event %s is a %s, which this service does not record (it corrects %v)", e.ID, e.Type, c.OwnedTypes())
	}
	return e, nil
}

// replacement decodes the corrected payload as the original's type and
// checks that it keeps the fact's identity.
func (c Corrector) replacement(orig *eventstore.RecordedEvent, r *ReplacementRequest, at *time.Time) (*events.Replacement, error) {
	typ := events.CurrentType(orig.Type)
	if r.Type != "" && events.CurrentType(r.Type) != typ {
		return nil, kit.Invalid("replacement.type", "%s cannot replace a %s", r.Type, typ)
	}
	p, err := c.Registry.Decode(typ, r.Data)
	if err != nil {
		return nil, fieldErr(events.Prefix("replacement.data", err))
	}
	op, err := c.Registry.Decode(orig.Type, orig.Data)
	if err != nil {
		return nil, errs.E(errs.Internal, "decode %s@%d: %v", orig.Stream, orig.Revision, err)
	}
	was, now := Fields(op), Fields(p)
	for _, k := range c.Owned[typ] {
		if !bytes.Equal(was[k], now[k]) {
			if len(was[k]) == 0 {
				return nil, kit.Invalid("replacement.data."+k, "must stay absent, as in the original (a correction fixes a fact; it does not make it another one)")
			}
			return nil, kit.Invalid("replacement.data."+k, "must stay %s (a correction fixes a fact; it does not make it another one)", was[k])
		}
	}
	rep, err := events.NewReplacement(p, at)
	if err != nil {
		return nil, errs.E(errs.Internal, "encode replacement: %v", err)
	}
	return rep, nil
}

// Fields are a payload's top-level JSON fields, as encoded (a struct's
// encoding is canonical: equal values, equal bytes).
func Fields(p events.Payload) map[string]json.RawMessage {
	b, _ := json.Marshal(p)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	return m
}

// fieldErr turns an events.FieldError into the API's field error.
func fieldErr(err error) error {
	var fe *events.FieldError
	if errors.As(err, &fe) {
		return kit.Invalid(fe.Field, "%s", fe.Message)
	}
	return err
}
