package training

import (
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

// The state the training decisions need, folded from a craftsman's stream.

type enrolment struct {
	academy, course string
	completed       bool
	at              time.Time // when the craftsman enrolled (the event's occurredAt)
}

type entitlement struct {
	trade    string
	level    events.Level
	approved bool
	usedBy   string // certificate number that used it
	// placement is the competition placement that granted it ("" for
	// another source).
	placement string
	// granted and approvedAt are when it was granted and approved (the
	// events' occurredAt): a certificate through it is dated on or after
	// both.
	granted, approvedAt time.Time
}

type craftsman struct {
	registered   bool
	registrar    string            // organisation that registered the craftsman (issuerOrgId)
	employers    map[string]string // open employment id -> employer organisation
	enrolments   map[string]enrolment
	assessments  map[string]bool
	certificates map[string]events.SkillLevelCertified
	entitlements map[string]*entitlement
	// placed are the competition placements the stream records, retracted
	// or not; standing those no correction retracted. An entitlement whose
	// placement was retracted went with it.
	placed, standing map[string]bool
	// recorded are the entitlements a corrected history records,
	// withdrawn or not (a correction of a placement retracts the
	// entitlement it no longer earns); one in force is in entitlements.
	recorded map[string]bool
}

func newCraftsman() craftsman {
	return craftsman{
		employers: map[string]string{}, enrolments: map[string]enrolment{}, assessments: map[string]bool{},
		certificates: map[string]events.SkillLevelCertified{}, entitlements: map[string]*entitlement{},
		placed: map[string]bool{}, standing: map[string]bool{}, recorded: map[string]bool{},
	}
}

// clone returns a deep copy, so a cached state is never changed.
func (st craftsman) clone() craftsman {
	c := st
	c.employers = maps.Clone(st.employers)
	c.enrolments = maps.Clone(st.enrolments)
	c.assessments = maps.Clone(st.assessments)
	c.certificates = maps.Clone(st.certificates)
	c.placed = maps.Clone(st.placed)
	c.standing = maps.Clone(st.standing)
	c.recorded = maps.Clone(st.recorded)
	c.entitlements = make(map[string]*entitlement, len(st.entitlements))
	for k, e := range st.entitlements {
		cp := *e
		c.entitlements[k] = &cp
	}
	return c
}

// folds remembers the state folded from each recently used stream, so a
// command folds only the events appended since (histories only grow; a
// history whose event at the remembered length differs is folded anew).
type folds struct {
	mu  sync.Mutex
	max int
	m   map[string]foldEntry
}

type foldEntry struct {
	n      int
	lastID string
	st     craftsman
}

func newFolds(max int) *folds { return &folds{max: max, m: make(map[string]foldEntry)} }

func (f *folds) fold(reg *events.Registry, h command.History) craftsman {
	f.mu.Lock()
	e, ok := f.m[h.Stream]
	f.mu.Unlock()
	var st craftsman
	from := 0
	if ok && e.n <= len(h.Events) && e.n > 0 && h.Events[e.n-1].ID == e.lastID {
		if e.n == len(h.Events) {
			return e.st
		}
		st, from = e.st.clone(), e.n
	}
	// Decisions see facts as corrected: a correction changes what came
	// before it, so a history with a new correction is folded anew.
	if from == 0 || slices.ContainsFunc(h.Events[from:], func(r eventstore.RecordedEvent) bool { return r.Type == events.TypeEventCorrected }) {
		st, from = newCraftsman(), 0
	}
	evs := h.Events[from:]
	if from == 0 {
		if c, err := command.Corrected(h, events.TypeEventCorrected); err == nil {
			if len(c) != len(h.Events) {
				// Corrections: the placements recorded, retracted or not.
				st.placedIn(reg, h.Events)
			}
			evs = c
		}
	}
	for _, r := range evs {
		st.apply(reg, r)
	}
	// A batch's decisions (command.Handler.ExecuteBatch) fold events not
	// yet appended (no position): never cached, as the append may fail and
	// another event later take the same id and revision.
	if len(h.Events) > 0 && !h.Events[len(h.Events)-1].Position.IsStart() {
		f.mu.Lock()
		if len(f.m) >= f.max {
			for k := range f.m { // evict an arbitrary entry
				delete(f.m, k)
				break
			}
		}
		f.m[h.Stream] = foldEntry{n: len(h.Events), lastID: h.Events[len(h.Events)-1].ID, st: st}
		f.mu.Unlock()
	}
	return st
}

// placedIn adds the placements recorded among evs to st.placed and their
// entitlements to st.recorded.
func (st *craftsman) placedIn(reg *events.Registry, evs []eventstore.RecordedEvent) {
	for _, r := range evs {
		if t := events.CurrentType(r.Type); t != events.TypeCompetitionPlaced && t != events.TypePromotionEntitlementGranted {
			continue
		}
		if p, err := reg.Decode(r.Type, r.Data); err == nil {
			switch p := p.(type) {
			case events.CompetitionPlaced:
				st.placed[p.PlacementID] = true
			case events.PromotionEntitlementGranted:
				st.recorded[p.EntitlementID] = true
			}
		}
	}
}

// apply folds one event into st.
func (st *craftsman) apply(reg *events.Registry, r eventstore.RecordedEvent) {
	{
		p, err := reg.Decode(r.Type, r.Data)
		if err != nil {
			return // types this service does not decide on
		}
		switch p := p.(type) {
		case events.CraftsmanRegistered:
			st.registered = true
			if m, err := command.DecodeMetadata(r.Metadata); err == nil {
				st.registrar = m.IssuerOrgID
			}
		case events.EmploymentStarted:
			st.employers[p.EmploymentID] = p.EmployerOrgID
		case events.EmploymentEnded:
			delete(st.employers, p.EmploymentID)
		case events.AssessmentRecorded:
			st.assessments[p.AssessmentID] = true
		case events.TrainingEnrolled:
			st.enrolments[p.EnrolmentID] = enrolment{academy: p.AcademyID, course: p.CourseID, at: command.OccurredAt(r)}
		case events.TrainingCompleted:
			if e, ok := st.enrolments[p.EnrolmentID]; ok {
				e.completed = true
				st.enrolments[p.EnrolmentID] = e
			}
		case events.SkillLevelCertified:
			st.certificates[p.CertificateNumber] = p
			if e := st.entitlements[p.EntitlementID]; e != nil && p.Route == events.RouteExceptional {
				e.usedBy = p.CertificateNumber
			}
		case events.CompetitionPlaced:
			st.placed[p.PlacementID] = true
			st.standing[p.PlacementID] = true
		case events.PromotionEntitlementGranted:
			e := &entitlement{trade: p.Trade.Code, level: p.Level, granted: command.OccurredAt(r)}
			if p.Source.Kind == events.SourceCompetition {
				e.placement = p.Source.PlacementID
			}
			st.entitlements[p.EntitlementID] = e
		case events.PromotionEntitlementApproved:
			if e := st.entitlements[p.EntitlementID]; e != nil {
				e.approved, e.approvedAt = true, command.OccurredAt(r)
			}
		}
	}
}

// usableEntitlement checks that the exceptional route may use entitlement
// id for trade and level.
func (st craftsman) usableEntitlement(id, trade string, level events.Level) error {
	e := st.entitlements[id]
	switch {
	case e == nil && st.recorded[id]:
		return kit.FieldErr("entitlementId", errs.E(errs.FailedPrecondition, "entitlement %s was withdrawn by a correction: the competition placement that granted it was corrected to one that earns no such entitlement", id))
	case e == nil:
		return kit.FieldErr("entitlementId", errs.E(errs.FailedPrecondition, "the exceptional route needs a promotion entitlement, and entitlement %s was not granted to this craftsman", id))
	case e.placement != "" && st.placed[e.placement] && !st.standing[e.placement]:
		return kit.FieldErr("entitlementId", errs.E(errs.FailedPrecondition, "entitlement %s was withdrawn: the competition placement %s that granted it was retracted by a correction", id, e.placement))
	case e.trade != trade || e.level != level:
		return kit.FieldErr("entitlementId", errs.E(errs.FailedPrecondition, "entitlement %s grants %s in trade %s, not %s in %s", id, e.level, e.trade, level, trade))
	case !e.approved:
		// Every entitlement, even one granted under rules that did not ask
		// for it (recorded before they had to): the level is certified only
		// once the human-resources department approves (核准) it.
		return kit.FieldErr("entitlementId", errs.E(errs.FailedPrecondition, "entitlement %s is not approved yet (核准 by the human-resources department)", id))
	case e.usedBy != "":
		return kit.FieldErr("entitlementId", errs.E(errs.FailedPrecondition, "entitlement %s was already used by certificate %s", id, e.usedBy))
	}
	return nil
}

// certifiedAfter refuses (400 on occurredAt) a certificate dated at that
// uses entitlement id before the day it was granted or approved: the exceptional
// route certifies a level the entitlement grants, once approved (at zero
// is now: never before).
func (st craftsman) certifiedAfter(id string, at time.Time) error {
	e := st.entitlements[id]
	switch {
	case e == nil || at.IsZero():
	case career.BeforeDay(at, e.granted):
		return kit.Invalid("occurredAt", "the certificate cannot be dated before entitlement %s was granted (%s)", id, career.CivilDay(e.granted))
	case career.BeforeDay(at, e.approvedAt):
		return kit.Invalid("occurredAt", "the certificate cannot be dated before entitlement %s was approved (%s)", id, career.CivilDay(e.approvedAt))
	}
	return nil
}

// links are the organisations linked to the craftsman (servicekit.Links):
// the registrar, current employers and the academies of enrolments.
func (st craftsman) links() servicekit.Links {
	l := servicekit.Links{Registrar: st.registrar}
	for _, org := range st.employers {
		l.Employers = append(l.Employers, org)
	}
	for _, e := range st.enrolments {
		l.Academies = append(l.Academies, e.academy)
	}
	return l
}

// requireLinked refuses (403) c recording a fact about the craftsman that
// names no organisation of its own (a graduation, a title) unless c is an
// admin, or an issuer of the organisation that registered the craftsman,
// of a current employer, or of an academy the craftsman is enrolled at.
func (st craftsman) requireLinked(c auth.Claims, id string) error {
	return st.links().Require(c, id)
}
