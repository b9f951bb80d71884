package readmodel

import (
	"cmp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
)

// View is a craftsman's record as of a moment: the events recorded by
// AsOf (and, when OccurredBy is set, that had happened by then), with
// corrections applied — a superseded event is left out of the state and
// its replacement (if any) takes its place; both stay in Timeline.
type View struct {
	ID        string
	AsOf      time.Time         // zero = live
	Effective []events.Recorded // the facts in force, in occurrence order
	// timeline is everything, corrections included, in occurrence order:
	// built on the first call of Timeline (most answers never need it).
	timeline    []TimelineEntry
	tlOnce      sync.Once
	all         []events.Recorded // the craftsman's and mentorships' records
	superseded  map[string]string // event id -> correcting event id
	Trades      []TradeLevel
	Region      string
	BirthDate   string
	Name        string // recorded in clear, or the sealed value (SealedName) when Personal is PersonalSealed; never when erased
	Personal    string // PersonalNone, PersonalClear, PersonalSealed or PersonalErased
	Mentorships []string
	// Records are the craftsman stream's events recorded by AsOf, raw
	// (for the domain's career fold, which applies corrections itself).
	Records []events.Recorded
	// fold is the career fold Trades came from, as of foldAt, for a view
	// without asOf or occurredBy (nil otherwise): see CareerAt.
	fold   *career.State
	foldAt time.Time
}

// CareerAt is career.Fold(v.Records, at, career.AsRecorded) for a live view
// (no asOf, no occurredBy), taken from the fold the view's levels came from
// instead of folding again; false when that is not the same answer, and the
// caller must fold.
//
// The view folds as of t0, the ledger's last moment (the latest record or
// occurrence time of its records). For at ≥ t0, and no correction among the
// records, both folds see the same events and the same facts: every record
// was recorded by t0 and every fact occurred by t0, and a fold uses its
// instant for nothing else than that filter, State.AsOf and each trade's
// YearsOfWork (events/career: Fold and finish), which State.At sets again for
// at. A correction may carry a replacement occurring after t0: no reuse.
func (v *View) CareerAt(at time.Time) (*career.State, bool) {
	if v.fold == nil || at.Before(v.foldAt) {
		return nil, false
	}
	for _, r := range v.Records {
		if _, ok := r.Payload.(events.EventCorrected); ok {
			return nil, false
		}
	}
	return v.fold.At(at), true
}

// TradeLevel is the level held in one trade (from the domain's career
// fold) and the event proving it.
type TradeLevel struct {
	Trade    events.Trade
	Level    events.Level
	Since    time.Time
	Evidence events.Ref
}

// Timeline is every event of the view, corrections included, in
// occurrence order (built once, on first use; safe for concurrent use).
func (v *View) Timeline() []TimelineEntry {
	v.tlOnce.Do(func() {
		// Honours withdrawn by a withdrawal in force (not corrected away).
		var withdrawn map[string]string // honour id -> withdrawal event id
		for _, r := range v.Effective {
			if w, ok := r.Payload.(events.HonourWithdrawn); ok {
				if withdrawn == nil {
					withdrawn = map[string]string{}
				}
				withdrawn[w.HonourID] = r.ID
			}
		}
		tl := make([]TimelineEntry, 0, len(v.all))
		for _, r := range v.all {
			e := TimelineEntry{Record: r, Kind: KindOf(r.Type), SupersededBy: v.superseded[r.ID]}
			if h, ok := r.Payload.(events.HonourConferred); ok {
				e.WithdrawnBy = withdrawn[h.HonourID]
			}
			tl = append(tl, e)
		}
		sort.SliceStable(tl, func(i, j int) bool { return occurrence(&tl[i].Record).Before(occurrence(&tl[j].Record)) })
		v.timeline = tl
	})
	return v.timeline
}

// TimelineEntry is one event of the growth timeline.
type TimelineEntry struct {
	Record       events.Recorded
	Kind         string
	SupersededBy string // event id of the correction, when corrected
	WithdrawnBy  string // for an honour's conferral: event id of the withdrawal in force, when withdrawn
}

// Kinds are the kinds of timeline entries (KindOf's answers), a fresh
// slice each call so no caller can change another's.
func Kinds() []string {
	return []string{"registration", "profile", "trade", "employment", "education", "title", "training", "assessment", "certificate", "entitlement", "appointment", "competition", "mentorship", "honour", "innovation", "correction", "erasure", "academy", "policy"}
}

// KindOf classifies an event type for the timeline.
func KindOf(typ string) string {
	switch events.CurrentType(typ) {
	case events.TypeCraftsmanRegistered:
		return "registration"
	case events.TypeCraftsmanProfileChanged:
		return "profile"
	case events.TypeTradeEntered:
		return "trade"
	case events.TypeEmploymentStarted, events.TypeEmploymentEnded:
		return "employment"
	case events.TypeGraduated:
		return "education"
	case events.TypeProfessionalTitleObtained:
		return "title"
	case events.TypeTrainingEnrolled, events.TypeTrainingCompleted:
		return "training"
	case events.TypeAssessmentRecorded:
		return "assessment"
	case events.TypeSkillLevelCertified:
		return "certificate"
	case events.TypePromotionEntitlementGranted, events.TypePromotionEntitlementApproved:
		return "entitlement"
	case events.TypeUpperGradeAppointed:
		return "appointment"
	case events.TypeCompetitionPlaced, events.TypeCompetitionDefined, events.TypeCompetitionResultsPublished:
		return "competition"
	case events.TypeMentorshipStarted, events.TypeMentorshipSessionLogged, events.TypeMentorshipCompleted, events.TypeMentorshipEndedEarly:
		return "mentorship"
	case events.TypeHonourConferred, events.TypeHonourWithdrawn:
		return "honour"
	case events.TypeInnovationRecognised:
		return "innovation"
	case events.TypeEventCorrected:
		return "correction"
	case events.TypePersonalDataErased:
		return "erasure"
	case events.TypeAcademyRegistered, events.TypeCourseAdded:
		return "academy"
	case events.TypePolicyPublished:
		return "policy"
	}
	return "other"
}

// RecordedBy keeps the records recorded at or before t (all when t is
// zero) and, when occurredBy is set, that had occurred by then.
func RecordedBy(recs []events.Recorded, t, occurredBy time.Time) []events.Recorded {
	return recordedBy(recs, t, occurredBy)
}

func recordedBy(recs []events.Recorded, t, occurredBy time.Time) []events.Recorded {
	if t.IsZero() && occurredBy.IsZero() {
		return recs
	}
	out := make([]events.Recorded, 0, len(recs))
	for _, r := range recs {
		if !t.IsZero() && r.RecordedAt.After(t) {
			continue
		}
		if !occurredBy.IsZero() && r.Meta.OccurredAt.After(occurredBy) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// pairingFact is the identity of a pairing fact across the streams it is
// copied to: its type, occurrence (as an instant) and payload, compared
// field by field (a comparable key, not an encoding of the record).
type pairingFact struct {
	typ     string
	sec     int64
	nsec    int
	payload any // the payload itself, comparable (pairingOf)
}

// completedFact is a MentorshipCompleted as a pairing fact: the level
// reached by value (a pointer compares by address).
type completedFact struct {
	events.MentorshipCompleted // LevelReached nil
	level                      events.Level
	hasLevel                   bool
}

// pairingOf is p as a pairingFact's payload: only a comparable payload
// compiles (a field a key cannot compare is refused here, not at run time).
func pairingOf[P comparable](p P) any { return p }

func mentorshipFact(r *events.Recorded) (pairingFact, bool) {
	var p any
	switch e := r.Payload.(type) {
	case events.MentorshipStarted:
		p = pairingOf(e)
	case events.MentorshipSessionLogged:
		p = pairingOf(e)
	case events.MentorshipCompleted:
		c := completedFact{MentorshipCompleted: e}
		if e.LevelReached != nil {
			c.level, c.hasLevel = *e.LevelReached, true
		}
		c.LevelReached = nil
		p = pairingOf(c)
	case events.MentorshipEndedEarly:
		p = pairingOf(e)
	default:
		return pairingFact{}, false
	}
	at := r.Meta.OccurredAt
	return pairingFact{typ: r.Type, sec: at.Unix(), nsec: at.Nanosecond(), payload: p}, true
}

// occurrence is the instant an event counts from: occurredAt, or the
// record time when it has none.
func occurrence(r *events.Recorded) time.Time {
	if !r.Meta.OccurredAt.IsZero() {
		return r.Meta.OccurredAt
	}
	return r.RecordedAt
}

// buildView folds a craftsman's records (and their mentorships' records)
// into a View.
func buildView(c *Craftsman, mentorships []*Mentorship, asOf, occurredBy time.Time) *View {
	v := &View{ID: c.ID, AsOf: asOf}
	// Clipped: appending the mentorships must never write into the
	// craftsman's own slice (readers run concurrently).
	//
	// With occurredBy, the records are still every one recorded by asOf:
	// corrections count from what they correct (career.AsOccurred), and
	// the facts are kept by their occurrence below.
	recs := slices.Clip(recordedBy(c.Records, asOf, time.Time{}))
	v.Records = recs
	// The mentorship service writes each pairing fact on the pairing's
	// stream and, the same, on both workers' streams: a pairing's record
	// is added only when the craftsman's own stream lacks its copy (a
	// pairing recorded by other means, or a copy never written).
	var own map[pairingFact]bool
	for _, m := range mentorships {
		mr := recordedBy(m.Records, asOf, time.Time{})
		if !occurredBy.IsZero() {
			mr = occurredFacts(mr, occurredBy)
		}
		if len(mr) == 0 {
			continue
		}
		v.Mentorships = append(v.Mentorships, m.ID)
		if own == nil {
			own = map[pairingFact]bool{}
			for i := range v.Records {
				if k, ok := mentorshipFact(&v.Records[i]); ok {
					own[k] = true
				}
			}
		}
		for i := range mr {
			if k, ok := mentorshipFact(&mr[i]); !ok || !own[k] {
				recs = append(recs, mr[i])
			}
		}
	}
	v.Effective, v.superseded = effectiveOf(recs, occurredBy)
	if !occurredBy.IsZero() {
		recs = occurredFacts(recs, occurredBy)
	}
	v.all = recs
	var prof profile
	levels := map[string]*TradeLevel{}
	var tradeOrder []string
	raise := func(t events.Trade, l events.Level, r events.Recorded) {
		tl := levels[t.Code]
		if tl == nil {
			tl = &TradeLevel{Trade: t, Level: events.Apprentice, Since: occurrence(&r), Evidence: r.Ref()}
			levels[t.Code] = tl
			tradeOrder = append(tradeOrder, t.Code)
		}
		if tl.Trade.Name == "" {
			tl.Trade.Name = t.Name
		}
		if l > tl.Level {
			tl.Level, tl.Since, tl.Evidence = l, occurrence(&r), r.Ref()
		}
	}
	for _, r := range v.Effective {
		switch p := r.Payload.(type) {
		case events.CraftsmanRegistered:
			prof.registered(&p)
		case events.CraftsmanProfileChanged:
			prof.changed(&p)
		case events.TradeEntered:
			raise(p.Trade, events.Apprentice, r)
		case events.EmploymentStarted:
			raise(p.Trade, events.Apprentice, r)
		case events.SkillLevelCertified:
			if p.CraftsmanID == c.ID {
				raise(p.Trade, p.Level, r)
			}
		case events.UpperGradeAppointed:
			if p.CraftsmanID == c.ID {
				raise(p.Trade, p.Grade, r)
			}
		case events.TrainingEnrolled:
			raise(p.Trade, events.Apprentice, r)
		case events.TrainingCompleted:
			raise(p.Trade, events.Apprentice, r)
		}
	}
	prof.done(c.erased)
	v.Region, v.BirthDate, v.Name, v.Personal = prof.region, prof.birthDate, prof.name, prof.personal
	if !occurredBy.IsZero() {
		// The domain's "as occurred" view: everything recorded by asOf
		// (until now without) about facts that had occurred by then
		// (corrections included); as of asOf when that is earlier.
		at := occurredBy
		if !asOf.IsZero() && asOf.Before(at) {
			at = asOf
		}
		v.Trades, _, _ = foldTrades(v.Records, at, career.AsOccurred, levels, tradeOrder)
	} else {
		var st *career.State
		var at time.Time
		v.Trades, st, at = foldTrades(v.Records, asOf, career.AsRecorded, levels, tradeOrder)
		if asOf.IsZero() && occurredBy.IsZero() {
			v.fold, v.foldAt = st, at
		}
	}
	return v
}

// foldTrades takes the trades and the level held in each from the domain's
// career fold (events/career), as of asOf or, live, as of the ledger's
// last moment (so the answer depends on the events only). The first event
// of a trade (first) stands as evidence while no level is held. It also
// returns the fold and its instant.
func foldTrades(recs []events.Recorded, asOf time.Time, mode career.Mode, first map[string]*TradeLevel, order []string) ([]TradeLevel, *career.State, time.Time) {
	at := asOf
	if at.IsZero() {
		at = lastMoment(recs)
	}
	st := career.Fold(recs, at, mode)
	out := make([]TradeLevel, 0, len(st.Trades))
	for _, t := range st.Trades {
		tl := TradeLevel{Trade: events.Trade{Code: t.Code, Name: t.Name}, Level: t.Level, Since: t.EnteredOn}
		if f := first[t.Code]; f != nil {
			tl.Evidence = f.Evidence
			if tl.Trade.Name == "" {
				tl.Trade.Name = f.Trade.Name
			}
		}
		if n := len(t.Levels); n > 0 {
			held := t.Levels[n-1]
			for _, lh := range t.Levels {
				if lh.Level == t.Level {
					held = lh
				}
			}
			tl.Since, tl.Evidence = held.Since, held.Ref
		}
		out = append(out, tl)
	}
	// In the order the trades first appear (order: a handful of codes),
	// the others after them by code.
	slices.SortStableFunc(out, func(a, b TradeLevel) int {
		ra, rb := slices.Index(order, a.Trade.Code), slices.Index(order, b.Trade.Code)
		switch {
		case ra >= 0 && rb >= 0:
			return cmp.Compare(ra, rb)
		case ra >= 0:
			return -1
		case rb >= 0:
			return 1
		}
		return strings.Compare(a.Trade.Code, b.Trade.Code)
	})
	return out, st, at
}

// lastMoment is the latest record or occurrence time of recs: a live fold
// is taken as of it, so that its answer depends on the events only.
func lastMoment(recs []events.Recorded) time.Time {
	var at time.Time
	for i := range recs {
		r := &recs[i]
		if r.RecordedAt.After(at) {
			at = r.RecordedAt
		}
		if r.Meta.OccurredAt.After(at) {
			at = r.Meta.OccurredAt
		}
	}
	return at
}

// effectiveOf is recs with corrections applied by the domain's rule
// (career.Decide: what career.Fold applies — the latest correction of an
// event decides it, correcting a correction cancels it): an event
// retracted is left out, one replaced gives way to its replacement (in the
// deciding correction's record, occurring when the replacement says or
// else when the event did), corrections themselves are left out. When
// occurredBy is set only the facts that had occurred by then stay (the
// corrections are judged over every record, as career.AsOccurred does).
// The facts are in occurrence order (stable). It also answers what
// superseded what: an event -> the correction deciding it, a correction
// -> the later one that cancelled it (nil when there is no correction).
func effectiveOf(recs []events.Recorded, occurredBy time.Time) ([]events.Recorded, map[string]string) {
	dec := career.Decide(recs)
	var superseded map[string]string // event id -> correcting event id (nil: no corrections)
	if len(dec.Of)+len(dec.CancelledBy) > 0 {
		superseded = make(map[string]string, len(dec.Of)+len(dec.CancelledBy))
		for id, d := range dec.Of {
			superseded[id] = d.By.ID
		}
		for id, by := range dec.CancelledBy {
			superseded[id] = by.ID
		}
	}
	eff := make([]events.Recorded, 0, len(recs))
	for _, r := range recs {
		if _, isCorr := r.Payload.(events.EventCorrected); isCorr {
			continue
		}
		if d, ok := dec.Of[r.ID]; ok {
			if d.Retracted() {
				continue
			}
			rep := *d.By
			rep.Type, rep.Payload = d.Replacement.Type, d.Replacement.Payload
			rep.Meta.OccurredAt = r.Meta.OccurredAt
			if rep.Meta.OccurredAt.IsZero() {
				rep.Meta.OccurredAt = occurrence(&r)
			}
			if d.Replacement.OccurredAt != nil {
				rep.Meta.OccurredAt = *d.Replacement.OccurredAt
			}
			r = rep
		}
		if !occurredBy.IsZero() && r.Meta.OccurredAt.After(occurredBy) {
			continue
		}
		eff = append(eff, r)
	}
	slices.SortStableFunc(eff, func(a, b events.Recorded) int { return occurrence(&a).Compare(occurrence(&b)) })
	return eff, superseded
}

// occurredFacts keeps of recs the events that had occurred by occurredBy
// and the corrections about them, at any depth (a correction counts from
// what it corrects, not from its own time: career.AsOccurred), in their
// order.
func occurredFacts(recs []events.Recorded, occurredBy time.Time) []events.Recorded {
	keep := make([]bool, len(recs))
	kept := map[string]bool{}
	var corrs []int
	for i := range recs {
		if _, ok := recs[i].Payload.(events.EventCorrected); ok {
			corrs = append(corrs, i)
			continue
		}
		if !recs[i].Meta.OccurredAt.After(occurredBy) {
			keep[i] = true
			kept[recs[i].ID] = true
		}
	}
	for more := true; more; {
		more = false
		for _, i := range corrs {
			if !keep[i] && kept[recs[i].Payload.(events.EventCorrected).SupersedesEventID] {
				keep[i], kept[recs[i].ID], more = true, true, true
			}
		}
	}
	out := make([]events.Recorded, 0, len(recs))
	for i := range recs {
		if keep[i] {
			out = append(out, recs[i])
		}
	}
	return out
}

// profile is what the profile events in force say (region, birth date,
// name and what is known of the personal data), applied in occurrence
// order; views and summaries share it.
type profile struct{ region, birthDate, name, personal string }

func (p *profile) registered(e *events.CraftsmanRegistered) {
	p.region, p.birthDate = e.Region, e.BirthDate
	if e.Personal != nil {
		p.name, p.personal = e.Personal.Name, PersonalClear
	} else if e.SealedPersonal != nil {
		p.name, p.personal = SealedName(e.SealedPersonal), PersonalSealed
	}
}

func (p *profile) changed(e *events.CraftsmanProfileChanged) {
	if e.Region != "" {
		p.region = e.Region
	}
	if e.BirthDate != "" {
		p.birthDate = e.BirthDate
	}
	if e.Personal != nil && e.Personal.Name != "" {
		p.name, p.personal = e.Personal.Name, PersonalClear
	} else if e.SealedPersonal != nil {
		p.name, p.personal = SealedName(e.SealedPersonal), PersonalSealed
	}
}

// done settles the personal data once every fact is applied: erased
// wins, and nothing recorded is PersonalNone.
func (p *profile) done(erased bool) {
	switch {
	case erased:
		p.name, p.personal = "", PersonalErased
	case p.personal == "":
		p.personal = PersonalNone
	}
}

// SealedName is how View.Name and Summary.Name keep personal data sealed
// under the craftsman's key (Personal is PersonalSealed): the sealed value
// itself, never a name in clear, which a reader holding the keyring opens
// for display (ParseSealedName, then the keyring's Open). A snapshot thus
// holds no name that forgetting would have to find: destroying the key is
// enough.
func SealedName(s *events.SealedPersonal) string {
	return s.Alg + " " + s.KeyID + " " + s.Nonce + " " + s.Ciphertext
}

// ParseSealedName reads back what SealedName wrote; ok is false for ""
// (a snapshot written before the twelfth session kept no sealed value).
func ParseSealedName(name string) (s events.SealedPersonal, ok bool) {
	parts := strings.SplitN(name, " ", 4)
	if len(parts) != 4 {
		return s, false
	}
	return events.SealedPersonal{Alg: parts[0], KeyID: parts[1], Nonce: parts[2], Ciphertext: parts[3]}, true
}
