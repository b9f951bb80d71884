package career

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/craftledger/craftledger/events"
)

// fact is an event to apply, after corrections: e's payload, or the
// replacement of the correction by that superseded it.
type fact struct {
	e        *events.Recorded
	by       *events.Recorded // the correction whose replacement this is (nil: none)
	payload  events.Payload
	occurred time.Time
}

// source is where the fact comes from: its event, or the correction and
// the event it supersedes.
func (f *fact) source() Source {
	if f.by == nil {
		return Source{Ref: f.e.Ref()}
	}
	orig := f.e.Ref()
	return Source{Ref: f.by.Ref(), Supersedes: &orig}
}

// factsPool recycles Fold's list of facts: scratch that no answer keeps
// (apply copies what it needs), so a fold allocates no fresh memory for
// it. Lists longer than maxPooledFacts are left to the collector.
var factsPool = sync.Pool{New: func() any { return new([]fact) }}

const maxPooledFacts = 1 << 12

// Fold folds a craftsman's events (their craftsman-<id> stream, in any
// order) into their state as of asOf, under mode. It never fails: events
// it does not understand or that make no sense in context (an end without
// a start) are skipped, as projections must keep going; the commands that
// wrote them validated them.
func Fold(evs []events.Recorded, asOf time.Time, mode Mode) *State {
	s := &State{AsOf: asOf.UTC(), Mode: mode, Trades: map[string]*Trade{}}
	for _, e := range evs {
		if _, id, ok := events.SplitStream(e.Stream); ok && strings.HasPrefix(e.Stream, events.CategoryCraftsman+"-") {
			s.CraftsmanID = id
			break
		}
	}
	visible := func(e *events.Recorded) bool {
		return mode == AsOccurred || !e.RecordedAt.After(asOf)
	}

	// Corrections: the domain's rule (decide).
	dec := decide(evs, visible)
	s.Corrections = dec.notes
	s.Events += len(dec.notes) // one note a correction
	decided := dec.Of

	scratch := factsPool.Get().(*[]fact)
	facts := (*scratch)[:0]
	if cap(facts) < len(evs) {
		facts = make([]fact, 0, len(evs))
	}
	defer func() {
		clear(facts) // the pool keeps no event or payload alive
		if cap(facts) <= maxPooledFacts {
			*scratch = facts[:0]
			factsPool.Put(scratch)
		}
	}()
	// Placements retracted by a correction, and those still standing: an
	// entitlement a retracted placement granted goes with it (nil unless a
	// placement was retracted).
	var retracted, placed map[string]bool
	for i := range evs {
		e := &evs[i]
		if !visible(e) {
			continue
		}
		if _, ok := e.Payload.(events.EventCorrected); ok {
			continue
		}
		f := fact{e: e, payload: e.Payload, occurred: e.Meta.OccurredAt}
		if d, ok := decided[e.ID]; ok {
			if d.Retracted() {
				if p, ok := e.Payload.(events.CompetitionPlaced); ok {
					if retracted == nil {
						retracted = map[string]bool{}
					}
					retracted[p.PlacementID] = true
				}
				continue // retracted
			}
			f.payload, f.by = d.Replacement.Payload, d.By
			if d.Replacement.OccurredAt != nil {
				f.occurred = *d.Replacement.OccurredAt
			}
		}
		if len(decided) > 0 {
			if p, ok := f.payload.(events.CompetitionPlaced); ok {
				if placed == nil {
					placed = map[string]bool{}
				}
				placed[p.PlacementID] = true
			}
		}
		if f.occurred.After(asOf) {
			continue
		}
		facts = append(facts, f)
	}
	if len(retracted) > 0 {
		facts = slices.DeleteFunc(facts, func(f fact) bool {
			g, ok := f.payload.(events.PromotionEntitlementGranted)
			return ok && withdrawn(g, retracted, placed)
		})
	}
	slices.SortStableFunc(facts, func(a, b fact) int {
		if c := a.occurred.Compare(b.occurred); c != 0 {
			return c
		}
		// Then by the event's record time, stream, revision and id.
		if c := a.e.RecordedAt.Compare(b.e.RecordedAt); c != 0 {
			return c
		}
		if c := strings.Compare(a.e.Stream, b.e.Stream); c != 0 {
			return c
		}
		if a.e.Revision != b.e.Revision {
			if a.e.Revision < b.e.Revision {
				return -1
			}
			return 1
		}
		return strings.Compare(a.e.ID, b.e.ID)
	})
	// Size the longest lists once instead of growing them by doubling:
	// training, certificates, mentorships (a master's list grows with every
	// pairing; a Mentorship is 224 bytes) and each trade's levels (at most
	// one per certificate or appointment).
	var nTraining, nCerts, nMentorships, nLevels int
	for i := range facts {
		switch facts[i].payload.(type) {
		case events.TrainingCompleted:
			nTraining++
		case events.SkillLevelCertified:
			nCerts++
			nLevels++
		case events.UpperGradeAppointed:
			nLevels++
		case events.MentorshipStarted:
			nMentorships++
		}
	}
	if nTraining > 0 {
		s.Training = make([]Training, 0, nTraining)
	}
	if nCerts > 0 {
		s.Certificates = make([]Certificate, 0, nCerts)
	}
	if nMentorships > 0 {
		s.Mentorships = make([]Mentorship, 0, nMentorships)
	}
	for i := range facts {
		s.apply(&facts[i], nLevels)
	}
	s.Events += len(facts)
	s.finish()
	return s
}

// withdrawn reports whether entitlement g came from a competition
// placement that a correction retracted (and that is not recorded again):
// a retracted placement grants nothing, so neither approval nor a
// certificate may use its entitlement, and it does not count toward the
// yearly cap.
func withdrawn(g events.PromotionEntitlementGranted, retracted, placed map[string]bool) bool {
	id := g.Source.PlacementID
	return g.Source.Kind == events.SourceCompetition && retracted[id] && !placed[id]
}

// cmpRecorded orders events by record time, then stream position.
func cmpRecorded(a, b *events.Recorded) int {
	if c := a.RecordedAt.Compare(b.RecordedAt); c != 0 {
		return c
	}
	if c := strings.Compare(a.Stream, b.Stream); c != 0 {
		return c
	}
	switch {
	case a.Revision < b.Revision:
		return -1
	case a.Revision > b.Revision:
		return 1
	}
	return strings.Compare(a.ID, b.ID)
}

func (s *State) trade(t events.Trade, on time.Time) *Trade {
	tr, ok := s.Trades[t.Code]
	if !ok {
		tr = &Trade{Code: t.Code, Name: t.Name, EnteredOn: on.UTC()}
		s.Trades[t.Code] = tr
	}
	if tr.Name == "" {
		tr.Name = t.Name
	}
	return tr
}

// apply applies one fact; levels is room for a trade's first level list.
func (s *State) apply(f *fact, levels int) {
	on := f.occurred.UTC()
	src := f.source()
	switch p := f.payload.(type) {
	case events.CraftsmanRegistered:
		s.Registered, s.RegisteredOn = true, on
		if s.CraftsmanID == "" {
			s.CraftsmanID = p.CraftsmanID
		}
		s.NationalIDHash, s.BirthDate, s.Region = p.NationalIDHash, p.BirthDate, p.Region
		if !s.Erased {
			s.Personal, s.SealedPersonal = p.Personal, p.SealedPersonal
		}
	case events.CraftsmanProfileChanged:
		if p.NationalIDHash != "" {
			s.NationalIDHash = p.NationalIDHash
		}
		if p.BirthDate != "" {
			s.BirthDate = p.BirthDate
		}
		if p.Region != "" {
			s.Region = p.Region
		}
		switch {
		case s.Erased: // forgotten: personal data recorded before the erasure stays gone
		case p.Personal != nil:
			s.Personal, s.SealedPersonal = p.Personal, nil
		case p.SealedPersonal != nil:
			s.Personal, s.SealedPersonal = nil, p.SealedPersonal
		}
	case events.PersonalDataErased:
		if !s.Erased {
			s.Erased, s.ErasedOn = true, on
		}
		s.Personal, s.SealedPersonal = nil, nil
	case events.TradeEntered:
		s.trade(p.Trade, on)
	case events.EmploymentStarted:
		s.trade(p.Trade, on)
		s.Employments = append(s.Employments, Employment{ID: p.EmploymentID, EmployerOrgID: p.EmployerOrgID, EmployerName: p.EmployerName,
			Trade: p.Trade.Code, Start: on, Source: src})
	case events.EmploymentEnded:
		for i := range s.Employments {
			if em := &s.Employments[i]; em.ID == p.EmploymentID && em.End.IsZero() {
				em.End = on
				break
			}
		}
	case events.Graduated:
		s.Education = append(s.Education, Education{SchoolKind: p.SchoolKind, SchoolName: p.SchoolName, Speciality: p.Speciality, Trade: p.Trade.Code,
			ProgrammeTarget: p.ProgrammeTarget, SeniorClass: p.SeniorClass, PreparatoryTechnician: p.PreparatoryTechnician, FinalYear: p.FinalYear, Date: on, Source: src})
	case events.ProfessionalTitleObtained:
		s.Titles = append(s.Titles, Title{Tier: p.Tier, Title: p.Title, Trade: p.Trade.Code, Date: on, Source: src})
	case events.TrainingEnrolled:
		s.trade(p.Trade, on)
		s.Enrolments = append(s.Enrolments, Enrolment{ID: p.EnrolmentID, AcademyID: p.AcademyID, CourseID: p.CourseID, Trade: p.Trade.Code, Mode: p.Mode, Date: on, Source: src})
	case events.TrainingCompleted:
		tr := s.trade(p.Trade, on)
		s.Training = append(s.Training, Training{AcademyID: p.AcademyID, CourseID: p.CourseID, Trade: p.Trade.Code, Module: p.Module, Hours: p.Hours,
			Mode: p.Mode, Score: p.Score, Passed: p.Passed, Date: on, Source: src})
		if p.Passed {
			tr.TrainingHours += p.Hours
			if tr.HoursByMode == nil {
				tr.HoursByMode = map[string]float64{}
			}
			tr.HoursByMode[p.Mode] += p.Hours
		}
		if p.EnrolmentID != "" {
			for i := range s.Enrolments {
				if s.Enrolments[i].ID == p.EnrolmentID {
					s.Enrolments[i].Completed = true
				}
			}
		}
	case events.SkillLevelCertified:
		tr := s.trade(p.Trade, on)
		s.Certificates = append(s.Certificates, Certificate{Trade: p.Trade.Code, Level: p.Level, Number: p.CertificateNumber, Family: p.Family,
			EvaluatingOrgID: p.EvaluatingOrgID, IssuingOrg: p.IssuingOrg, Route: p.Route, EntitlementID: p.EntitlementID, Date: on, Source: src})
		tr.reach(LevelHeld{Level: p.Level, Since: on, Via: "certificate", CertificateNumber: p.CertificateNumber, Route: p.Route, Source: src}, levels)
		if p.EntitlementID != "" {
			for i := range s.Entitlements {
				if s.Entitlements[i].ID == p.EntitlementID {
					s.Entitlements[i].Used = true
				}
			}
		}
	case events.PromotionEntitlementGranted:
		s.trade(p.Trade, on)
		s.Entitlements = append(s.Entitlements, Entitlement{ID: p.EntitlementID, Trade: p.Trade.Code, Level: p.Level, Origin: p.Source,
			RequiresApproval: p.RequiresApproval, Granted: on, Source: src})
	case events.PromotionEntitlementApproved:
		for i := range s.Entitlements {
			if en := &s.Entitlements[i]; en.ID == p.EntitlementID {
				r := src.Ref
				en.Approved, en.ApprovedOn, en.ApprovalRef, en.ApprovalEvidence = true, on, p.ApprovalRef, &r
			}
		}
	case events.UpperGradeAppointed:
		tr := s.trade(p.Trade, on)
		s.Appointments = append(s.Appointments, Appointment{Trade: p.Trade.Code, Grade: p.Grade, EmployerOrgID: p.EmployerOrgID, ApprovalRef: p.ApprovalRef, Date: on, Source: src})
		tr.reach(LevelHeld{Level: p.Grade, Since: on, Via: "appointment", Source: src}, levels)
	case events.CompetitionPlaced:
		s.trade(p.Trade, on)
		s.Competitions = append(s.Competitions, Placement{CompetitionID: p.CompetitionID, CompetitionName: p.CompetitionName, PlacementID: p.PlacementID,
			Tier: p.Tier, Year: p.Year, Track: p.Track, TeamSize: p.TeamSize, Trade: p.Trade.Code, Rank: p.Rank, Award: p.Award, Date: on, Source: src})
	case events.MentorshipStarted:
		role, other := "apprentice", p.MasterID
		if p.MasterID == s.CraftsmanID {
			role, other = "master", p.ApprenticeID
		}
		s.Mentorships = append(s.Mentorships, Mentorship{ID: p.MentorshipID, Role: role, Counterpart: other, Kind: p.Kind, Trade: p.Trade.Code,
			Started: on, Status: MentorshipActive, Source: src})
	case events.MentorshipSessionLogged:
		if m := s.mentorship(p.MentorshipID); m != nil {
			m.Sessions++
			m.SessionHours += p.Hours
		}
	case events.MentorshipCompleted:
		if m := s.mentorship(p.MentorshipID); m != nil && m.Status == MentorshipActive {
			r := src.Ref
			m.Status, m.Ended, m.LevelReached, m.EndEvidence = MentorshipCompleted, on, p.LevelReached, &r
		}
	case events.MentorshipEndedEarly:
		if m := s.mentorship(p.MentorshipID); m != nil && m.Status == MentorshipActive {
			r := src.Ref
			m.Status, m.Ended, m.EndEvidence = MentorshipEndedEarly, on, &r
		}
	case events.HonourConferred:
		h := Honour{ID: p.HonourID, Code: p.Code, Name: p.Name, Level: p.Level, ConferringBody: p.ConferringBody, PlacementID: p.PlacementID, Date: on, Source: src}
		if p.Trade != nil {
			h.Trade = p.Trade.Code
		}
		s.Honours = append(s.Honours, h)
	case events.HonourWithdrawn:
		for i := range s.Honours {
			if h := &s.Honours[i]; h.ID == p.HonourID && !h.Withdrawn {
				r := src.Ref
				h.Withdrawn, h.WithdrawnOn, h.WithdrawReason, h.WithdrawRef = true, on, p.Reason, &r
			}
		}
	case events.InnovationRecognised:
		in := Innovation{ID: p.InnovationID, Kind: p.Kind, Category: p.Category, Title: p.Title, Level: p.Level, InUse: p.InUse, Role: p.Role, StudioID: p.StudioID, Date: on, Source: src}
		if p.Trade != nil {
			in.Trade = p.Trade.Code
		}
		s.Innovations = append(s.Innovations, in)
	}
}

func (s *State) mentorship(id string) *Mentorship {
	for i := len(s.Mentorships) - 1; i >= 0; i-- {
		if s.Mentorships[i].ID == id {
			return &s.Mentorships[i]
		}
	}
	return nil
}

// reach records a level; the first date a level was reached is kept. room
// is the capacity a trade's first level list is made with (the career's
// level facts over all its trades: a trade holds each level once, so at
// most as many as there are levels).
func (t *Trade) reach(l LevelHeld, room int) {
	for _, h := range t.Levels {
		if h.Level == l.Level {
			return
		}
	}
	if t.Levels == nil {
		t.Levels = make([]LevelHeld, 0, min(max(room, 1), int(events.ChiefTechnician)+1))
	}
	t.Levels = append(t.Levels, l)
	slices.SortStableFunc(t.Levels, func(a, b LevelHeld) int { return int(a.Level) - int(b.Level) })
	if l.Level > t.Level {
		t.Level = l.Level
	}
}

// At is s as of at instead: a copy with AsOf and each trade's years of
// work set again for at (what finish derives from the instant). It equals
// Fold's answer as of at only when the fold as of at sees the same facts —
// the caller's to know (no fact recorded or occurring between the two
// instants, no correction).
func (s *State) At(at time.Time) *State {
	st := *s
	st.AsOf = at.UTC()
	st.Trades = make(map[string]*Trade, len(s.Trades))
	for code, t := range s.Trades {
		tc := *t
		st.Trades[code] = &tc
	}
	st.finish()
	return &st
}

func (s *State) finish() {
	for code, t := range s.Trades {
		t.YearsOfWork = round2(s.WorkYears([]string{code}, time.Time{}, s.AsOf))
	}
}

func round2(f float64) float64 {
	return float64(int64(f*100+0.5)) / 100
}
