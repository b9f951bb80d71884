package training

import (
	"context"
	"errors"
	"fmt"
	"maps"
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

// Service records training and certification facts on craftsmen's streams.
// The caller comes from ctx (auth claims), the idempotency key and
// correlation ids from command.HTTPToContext.
type Service interface {
	Enrol(ctx context.Context, req EnrolRequest) (command.Result, error)
	CompleteTraining(ctx context.Context, req CompleteTrainingRequest) (command.Result, error)
	RecordGraduation(ctx context.Context, req GraduationRequest) (command.Result, error)
	RecordTitle(ctx context.Context, req TitleRequest) (command.Result, error)
	RecordAssessment(ctx context.Context, req AssessmentRequest) (command.Result, error)
	CertifySkillLevel(ctx context.Context, req CertifyRequest) (command.Result, error)
	// Correct records an EventCorrected superseding a training fact
	// (enrolment, completion, graduation, title, assessment, certificate)
	// on a craftsman's stream (servicekit.Corrector).
	Correct(ctx context.Context, req servicekit.CorrectionRequest) (command.Result, error)
}

// Corrected lists the event types the training service corrects, with the
// fields a replacement must keep (a correction fixes a fact; it does not
// move it to another worker, academy, certificate or organisation). A
// certificate also keeps its level, route and entitlement: those are what
// CertifySkillLevel checks (an exceptional certificate's approved, unused
// entitlement), which a replacement does not go through — a certificate
// recorded at the wrong level or by the wrong route is retracted and
// certified again.
func Corrected() map[string][]string {
	return events.CorrectionIdentity(events.TypeTrainingEnrolled, events.TypeTrainingCompleted, events.TypeGraduated, events.TypeProfessionalTitleObtained, events.TypeAssessmentRecorded, events.TypeSkillLevelCertified)
}

// EnrolRequest enrols a craftsman in a course of an academy. Trade and mode
// default to the course's.
type EnrolRequest struct {
	CraftsmanID string       `json:"-"`
	EnrolmentID string       `json:"enrolmentId"`
	AcademyID   string       `json:"academyId"`
	CourseID    string       `json:"courseId"`
	Trade       events.Trade `json:"trade,omitzero"`
	Module      string       `json:"module,omitempty"`
	Mode        string       `json:"mode,omitempty"`
	OccurredAt  string       `json:"occurredAt,omitempty"`
}

// CompleteTrainingRequest records completed training hours. With an
// enrolmentId the enrolment must exist and be open; trade and mode default
// to the course's.
type CompleteTrainingRequest struct {
	CraftsmanID string       `json:"-"`
	EnrolmentID string       `json:"enrolmentId,omitempty"`
	AcademyID   string       `json:"academyId"`
	CourseID    string       `json:"courseId"`
	Trade       events.Trade `json:"trade,omitzero"`
	Module      string       `json:"module,omitempty"`
	Hours       float64      `json:"hours"`
	Mode        string       `json:"mode,omitempty"`
	Score       *float64     `json:"score,omitempty"`
	Passed      bool         `json:"passed"`
	OccurredAt  string       `json:"occurredAt,omitempty"`
}

// GraduationRequest records a school graduation (OccurredAt = graduation date).
type GraduationRequest struct {
	CraftsmanID           string        `json:"-"`
	SchoolKind            string        `json:"schoolKind"`
	SchoolName            string        `json:"schoolName,omitempty"`
	Speciality            string        `json:"speciality"`
	Trade                 events.Trade  `json:"trade"`
	ProgrammeTarget       *events.Level `json:"programmeTarget,omitempty"`
	SeniorClass           bool          `json:"seniorClass,omitempty"`
	PreparatoryTechnician bool          `json:"preparatoryTechnician,omitempty"`
	FinalYear             bool          `json:"finalYear,omitempty"`
	OccurredAt            string        `json:"occurredAt,omitempty"`
}

// TitleRequest records a professional title (职称).
type TitleRequest struct {
	CraftsmanID       string       `json:"-"`
	Tier              string       `json:"tier"`
	Title             string       `json:"title"`
	Series            string       `json:"series,omitempty"`
	Trade             events.Trade `json:"trade"`
	AwardingOrg       string       `json:"awardingOrg,omitempty"`
	CertificateNumber string       `json:"certificateNumber,omitempty"`
	OccurredAt        string       `json:"occurredAt,omitempty"`
}

// AssessmentRequest records a skill assessment by an evaluating
// organisation (the caller's).
type AssessmentRequest struct {
	CraftsmanID     string       `json:"-"`
	AssessmentID    string       `json:"assessmentId"`
	Trade           events.Trade `json:"trade"`
	Level           events.Level `json:"level"`
	EvaluatingOrgID string       `json:"evaluatingOrgId"`
	TheoryScore     *float64     `json:"theoryScore,omitempty"`
	PracticalScore  *float64     `json:"practicalScore,omitempty"`
	// Passed is required: an assessment records its outcome, and a
	// missing one must not read as a failure.
	Passed     *bool  `json:"passed"`
	OccurredAt string `json:"occurredAt,omitempty"`
}

// CertifyRequest records a skill-level certificate. Route "exceptional"
// must name an approved promotion entitlement on the worker's stream for
// the same trade and level, not used by another certificate.
type CertifyRequest struct {
	CraftsmanID       string       `json:"-"`
	Trade             events.Trade `json:"trade"`
	Level             events.Level `json:"level"`
	CertificateNumber string       `json:"certificateNumber"`
	Family            string       `json:"family"`
	EvaluatingOrgID   string       `json:"evaluatingOrgId"`
	IssuingOrg        events.Org   `json:"issuingOrg"`
	Route             string       `json:"route"`
	EntitlementID     string       `json:"entitlementId,omitempty"`
	AssessmentID      string       `json:"assessmentId,omitempty"`
	OccurredAt        string       `json:"occurredAt,omitempty"`
}

// PlatformOrg is the issuer organisation recorded for admins acting
// without an organisation of their own.
const PlatformOrg = servicekit.PlatformOrg

// Options configure the service.
type Options struct {
	// MaxRetries bounds the conflict-retry loop (0 = pkg/command's default).
	MaxRetries int
}

type service struct {
	h     *command.Handler
	store eventstore.Store
	clock func() time.Time
	reg   *events.Registry
	folds *folds

	corrector servicekit.Corrector

	// courses caches courses known to exist ("academy/course" -> course).
	// Courses are never removed, so a positive answer stays true.
	courses sync.Map
}

// New returns the training service over store. clock is the only source of
// "now" (occurredAt defaults, future checks).
func New(store eventstore.Store, clock func() time.Time, opts Options) (Service, error) {
	if clock == nil {
		return nil, errs.E(errs.InvalidArgument, "training: a clock is required")
	}
	h := command.New(store, command.Options{Clock: clock, Seal: servicekit.Seal, MaxRetries: opts.MaxRetries})
	reg := events.NewRegistry()
	s := &service{
		h: h, store: store, clock: clock, reg: reg, folds: newFolds(4096),
		corrector: servicekit.Corrector{Handler: h, Registry: reg, Owned: Corrected(), PlatformOrg: PlatformOrg},
	}
	s.corrector.Follow = s.followCorrection
	return s, nil
}

func one(p events.Payload, at time.Time) []command.Event {
	return []command.Event{{Type: p.EventType(), Data: p, OccurredAt: at}}
}

// course returns a course of an academy, NotFound when the academy or the
// course does not exist.
func (s *service) course(ctx context.Context, academyID, courseID string) (events.CourseAdded, error) {
	key := academyID + "/" + courseID
	if c, ok := s.courses.Load(key); ok {
		return c.(events.CourseAdded), nil
	}
	h, err := command.Load(ctx, s.store, events.AcademyStream(academyID))
	if err != nil {
		return events.CourseAdded{}, err
	}
	registered := false
	var found *events.CourseAdded
	for _, r := range h.Events {
		p, err := s.reg.Decode(r.Type, r.Data)
		if err != nil {
			continue // unknown types are not this decision's concern
		}
		switch p := p.(type) {
		case events.AcademyRegistered:
			registered = true
		case events.CourseAdded:
			if p.CourseID == courseID {
				found = &p
			}
		}
	}
	if !registered {
		return events.CourseAdded{}, kit.FieldErr("academyId", errs.E(errs.NotFound, "academy %s is not registered", academyID))
	}
	if found == nil {
		return events.CourseAdded{}, kit.FieldErr("courseId", errs.E(errs.NotFound, "course %s of academy %s does not exist", courseID, academyID))
	}
	s.courses.Store(key, *found)
	return *found, nil
}

// craftsmanCommand is a command on a registered craftsman's stream: decide
// runs on the craftsman's folded state.
func (s *service) craftsmanCommand(name, id string, meta command.Meta, decide func(craftsman) ([]command.Event, error)) (command.Command, error) {
	if err := events.ValidID("craftsmanId", id); err != nil {
		return command.Command{}, servicekit.Invalid(err)
	}
	return command.Command{
		Name: name, Stream: events.CraftsmanStream(id), Meta: meta, RetryOnConflict: true,
		Decide: func(_ context.Context, h command.History) ([]command.Event, error) {
			st := s.folds.fold(s.reg, h)
			if !st.registered {
				return nil, errs.E(errs.NotFound, "craftsman %s is not registered", id)
			}
			return decide(st)
		},
	}, nil
}

func (s *service) Enrol(ctx context.Context, req EnrolRequest) (command.Result, error) {
	c, err := s.enrolCommand(ctx, req)
	if err != nil {
		return command.Result{}, err
	}
	return s.h.Execute(ctx, c)
}

// enrolCommand validates and authorizes an enrolment and returns its
// command, not yet run (back-fill batches these).
func (s *service) enrolCommand(ctx context.Context, req EnrolRequest) (command.Command, error) {
	meta, c, err := servicekit.Writer(ctx)
	if err != nil {
		return command.Command{}, err
	}
	if err := first(idField("academyId", req.AcademyID), idField("courseId", req.CourseID)); err != nil {
		return command.Command{}, err
	}
	if err := auth.RequireWriteFor(c, req.AcademyID); err != nil {
		return command.Command{}, err
	}
	course, err := s.course(ctx, req.AcademyID, req.CourseID)
	if err != nil {
		return command.Command{}, err
	}
	p := events.TrainingEnrolled{CraftsmanID: req.CraftsmanID, EnrolmentID: req.EnrolmentID, AcademyID: req.AcademyID,
		CourseID: req.CourseID, Trade: req.Trade, Module: req.Module, Mode: req.Mode}
	if p.Trade.Code == "" {
		p.Trade = course.Trade
	}
	if p.Mode == "" {
		p.Mode = course.Mode
	}
	at, err := servicekit.Check(p, req.OccurredAt, s.clock())
	if err != nil {
		return command.Command{}, err
	}
	return s.craftsmanCommand("enrol", req.CraftsmanID, meta, func(st craftsman) ([]command.Event, error) {
		if _, ok := st.enrolments[req.EnrolmentID]; ok {
			return nil, errs.E(errs.Conflict, "enrolment %s of craftsman %s already exists", req.EnrolmentID, req.CraftsmanID)
		}
		return one(p, at), nil
	})
}

func (s *service) CompleteTraining(ctx context.Context, req CompleteTrainingRequest) (command.Result, error) {
	c, err := s.completionCommand(ctx, req)
	if err != nil {
		return command.Result{}, err
	}
	return s.h.Execute(ctx, c)
}

// completionCommand validates and authorizes a completion and returns its
// command, not yet run (back-fill batches these).
func (s *service) completionCommand(ctx context.Context, req CompleteTrainingRequest) (command.Command, error) {
	meta, c, err := servicekit.Writer(ctx)
	if err != nil {
		return command.Command{}, err
	}
	if err := first(idField("craftsmanId", req.CraftsmanID), idField("academyId", req.AcademyID), idField("courseId", req.CourseID)); err != nil {
		return command.Command{}, err
	}
	if err := auth.RequireWriteFor(c, req.AcademyID); err != nil {
		return command.Command{}, err
	}
	course, err := s.course(ctx, req.AcademyID, req.CourseID)
	if err != nil {
		return command.Command{}, err
	}
	p := events.TrainingCompleted{CraftsmanID: req.CraftsmanID, EnrolmentID: req.EnrolmentID, AcademyID: req.AcademyID,
		CourseID: req.CourseID, Trade: req.Trade, Module: req.Module, Hours: req.Hours, Mode: req.Mode, Score: req.Score, Passed: req.Passed}
	if p.Trade.Code == "" {
		p.Trade = course.Trade
	}
	if p.Mode == "" {
		p.Mode = course.Mode
	}
	at, err := servicekit.Check(p, req.OccurredAt, s.clock())
	if err != nil {
		return command.Command{}, err
	}
	return s.craftsmanCommand("complete training", req.CraftsmanID, meta, func(st craftsman) ([]command.Event, error) {
		if req.EnrolmentID != "" {
			e, ok := st.enrolments[req.EnrolmentID]
			switch {
			case !ok:
				return nil, kit.FieldErr("enrolmentId", errs.E(errs.NotFound, "enrolment %s of craftsman %s", req.EnrolmentID, req.CraftsmanID))
			case e.academy != req.AcademyID || e.course != req.CourseID:
				return nil, kit.Invalid("enrolmentId", "enrolment %s is for course %s of academy %s", req.EnrolmentID, e.course, e.academy)
			case e.completed:
				return nil, errs.E(errs.FailedPrecondition, "enrolment %s of craftsman %s is already completed", req.EnrolmentID, req.CraftsmanID)
			case !at.IsZero() && career.BeforeDay(at, e.at):
				return nil, kit.Invalid("occurredAt", "the completion of enrolment %s cannot be dated before the enrolment (%s)", req.EnrolmentID, career.CivilDay(e.at))
			}
		}
		return one(p, at), nil
	})
}

func (s *service) RecordGraduation(ctx context.Context, req GraduationRequest) (command.Result, error) {
	c, err := s.graduationCommand(ctx, req)
	if err != nil {
		return command.Result{}, err
	}
	return s.h.Execute(ctx, c)
}

// graduationCommand validates a graduation and returns its command, not yet
// run (back-fill batches these); the caller's link to the craftsman is
// checked in the decision, on the stream.
func (s *service) graduationCommand(ctx context.Context, req GraduationRequest) (command.Command, error) {
	meta, c, err := servicekit.Writer(ctx)
	if err != nil {
		return command.Command{}, err
	}
	p := events.Graduated{CraftsmanID: req.CraftsmanID, SchoolKind: req.SchoolKind, SchoolName: req.SchoolName, Speciality: req.Speciality,
		Trade: req.Trade, ProgrammeTarget: req.ProgrammeTarget, SeniorClass: req.SeniorClass,
		PreparatoryTechnician: req.PreparatoryTechnician, FinalYear: req.FinalYear}
	at, err := servicekit.Check(p, req.OccurredAt, s.clock())
	if err != nil {
		return command.Command{}, err
	}
	return s.craftsmanCommand("record graduation", req.CraftsmanID, meta, func(st craftsman) ([]command.Event, error) {
		if err := st.requireLinked(c, req.CraftsmanID); err != nil {
			return nil, err
		}
		return one(p, at), nil
	})
}

func (s *service) RecordTitle(ctx context.Context, req TitleRequest) (command.Result, error) {
	c, err := s.titleCommand(ctx, req)
	if err != nil {
		return command.Result{}, err
	}
	return s.h.Execute(ctx, c)
}

// titleCommand validates a professional title and returns its command, not
// yet run (back-fill batches these); the caller's link to the craftsman is
// checked in the decision, on the stream.
func (s *service) titleCommand(ctx context.Context, req TitleRequest) (command.Command, error) {
	meta, c, err := servicekit.Writer(ctx)
	if err != nil {
		return command.Command{}, err
	}
	p := events.ProfessionalTitleObtained{CraftsmanID: req.CraftsmanID, Tier: req.Tier, Title: req.Title, Series: req.Series,
		Trade: req.Trade, AwardingOrg: req.AwardingOrg, CertificateNumber: req.CertificateNumber}
	at, err := servicekit.Check(p, req.OccurredAt, s.clock())
	if err != nil {
		return command.Command{}, err
	}
	return s.craftsmanCommand("record title", req.CraftsmanID, meta, func(st craftsman) ([]command.Event, error) {
		if err := st.requireLinked(c, req.CraftsmanID); err != nil {
			return nil, err
		}
		return one(p, at), nil
	})
}

func (s *service) RecordAssessment(ctx context.Context, req AssessmentRequest) (command.Result, error) {
	c, err := s.assessmentCommand(ctx, req)
	if err != nil {
		return command.Result{}, err
	}
	return s.h.Execute(ctx, c)
}

// assessmentCommand validates and authorizes an assessment and returns its
// command, not yet run (back-fill batches these).
func (s *service) assessmentCommand(ctx context.Context, req AssessmentRequest) (command.Command, error) {
	meta, c, err := servicekit.Writer(ctx)
	if err != nil {
		return command.Command{}, err
	}
	if req.Passed == nil {
		return command.Command{}, kit.Invalid("passed", "is required (true or false)")
	}
	p := events.AssessmentRecorded{CraftsmanID: req.CraftsmanID, AssessmentID: req.AssessmentID, Trade: req.Trade, Level: req.Level,
		EvaluatingOrgID: req.EvaluatingOrgID, TheoryScore: req.TheoryScore, PracticalScore: req.PracticalScore, Passed: *req.Passed}
	at, err := servicekit.Check(p, req.OccurredAt, s.clock())
	if err != nil {
		return command.Command{}, err
	}
	if err := auth.RequireWriteFor(c, req.EvaluatingOrgID); err != nil {
		return command.Command{}, err
	}
	return s.craftsmanCommand("record assessment", req.CraftsmanID, meta, func(st craftsman) ([]command.Event, error) {
		if st.assessments[req.AssessmentID] {
			return nil, errs.E(errs.Conflict, "assessment %s of craftsman %s already exists", req.AssessmentID, req.CraftsmanID)
		}
		return one(p, at), nil
	})
}

func (s *service) CertifySkillLevel(ctx context.Context, req CertifyRequest) (command.Result, error) {
	c, err := s.certifyCommand(ctx, req)
	if err != nil {
		return command.Result{}, err
	}
	return s.h.Execute(ctx, c)
}

// certifyCommand validates and authorizes a certificate and returns its
// command, not yet run (back-fill batches these).
func (s *service) certifyCommand(ctx context.Context, req CertifyRequest) (command.Command, error) {
	meta, c, err := servicekit.Writer(ctx)
	if err != nil {
		return command.Command{}, err
	}
	p := events.SkillLevelCertified{CraftsmanID: req.CraftsmanID, Trade: req.Trade, Level: req.Level, CertificateNumber: req.CertificateNumber,
		Family: req.Family, EvaluatingOrgID: req.EvaluatingOrgID, IssuingOrg: req.IssuingOrg, Route: req.Route, EntitlementID: req.EntitlementID}
	at, err := servicekit.Check(p, req.OccurredAt, s.clock())
	if err != nil {
		return command.Command{}, err
	}
	if req.Route == events.RouteRegular && req.EntitlementID != "" {
		return command.Command{}, kit.Invalid("entitlementId", "only the exceptional route cites an entitlement")
	}
	// The issuing or the evaluating organisation records a certificate.
	if !auth.CanWriteFor(c, req.IssuingOrg.ID) && !auth.CanWriteFor(c, req.EvaluatingOrgID) {
		return command.Command{}, auth.RequireWriteFor(c, req.IssuingOrg.ID)
	}
	return s.craftsmanCommand("certify skill level", req.CraftsmanID, meta, func(st craftsman) ([]command.Event, error) {
		if prev, ok := st.certificates[req.CertificateNumber]; ok {
			return nil, kit.FieldErr("certificateNumber", errs.E(errs.Conflict, "certificate %s is already recorded for craftsman %s (%s %s)",
				req.CertificateNumber, req.CraftsmanID, prev.Trade.Code, prev.Level))
		}
		if req.AssessmentID != "" && !st.assessments[req.AssessmentID] {
			return nil, kit.FieldErr("assessmentId", errs.E(errs.NotFound, "assessment %s of craftsman %s", req.AssessmentID, req.CraftsmanID))
		}
		if req.Route == events.RouteExceptional {
			if err := st.usableEntitlement(req.EntitlementID, req.Trade.Code, req.Level); err != nil {
				return nil, err
			}
			if err := st.certifiedAfter(req.EntitlementID, at); err != nil {
				return nil, err
			}
		}
		return one(p, at), nil
	})
}

func idField(field, id string) error {
	if err := events.ValidID(field, id); err != nil {
		return servicekit.Invalid(err)
	}
	return nil
}

func first(es ...error) error {
	for _, e := range es {
		if e != nil {
			return e
		}
	}
	return nil
}

// batcher is implemented by the service itself (not by its middlewares):
// back-fill builds line commands with it and appends runs of one
// craftsman's lines together.
type batcher interface {
	enrolCommand(ctx context.Context, req EnrolRequest) (command.Command, error)
	completionCommand(ctx context.Context, req CompleteTrainingRequest) (command.Command, error)
	graduationCommand(ctx context.Context, req GraduationRequest) (command.Command, error)
	titleCommand(ctx context.Context, req TitleRequest) (command.Command, error)
	assessmentCommand(ctx context.Context, req AssessmentRequest) (command.Command, error)
	certifyCommand(ctx context.Context, req CertifyRequest) (command.Command, error)
	Handler() *command.Handler
}

func (s *service) Handler() *command.Handler { return s.h }

// Correct implements Service: only the organisation that recorded the
// original fact (or an admin) may correct it.
func (s *service) Correct(ctx context.Context, req servicekit.CorrectionRequest) (command.Result, error) {
	return s.corrector.Correct(ctx, req)
}

// certificateStaysUsable refuses (servicekit.Corrector.Follow) a
// correction that leaves an exceptional-route certificate in force — a
// reversed retraction brings it back, a replacement replaces it — when its
// entitlement is not one CertifySkillLevel would accept on the stream as
// corrected (usableEntitlement): withdrawn by a placement's correction (or
// with its placement), not approved, of another trade or level, or used by
// another certificate in force. A certificate is corrected without going
// through CertifySkillLevel, so without this a certificate retracted
// before its placement's correction withdrew the entitlement came back in
// force through it. A retraction is always recorded.
func (s *service) certificateStaysUsable(_ context.Context, k servicekit.Correcting) ([]command.Event, error) {
	if events.CurrentType(k.Original.Type) != events.TypeSkillLevelCertified {
		return nil, nil
	}
	p, err := s.reg.Decode(k.Original.Type, k.Original.Data)
	if err != nil {
		return nil, errs.E(errs.Internal, "decode %s@%d: %v", k.Original.Stream, k.Original.Revision, err)
	}
	number := p.(events.SkillLevelCertified).CertificateNumber
	h, err := k.WithCorrection()
	if err != nil {
		return nil, err
	}
	st := s.folds.fold(s.reg, h)
	cert, ok := st.certificates[number]
	if !ok || cert.Route != events.RouteExceptional {
		return nil, nil
	}
	refuse := func(why string) error {
		return kit.FieldErr("supersedesEventId", errs.E(errs.FailedPrecondition,
			"the correction would leave certificate %s in force through entitlement %s, which it may not use: %s; certify again through an entitlement the craftsman holds", number, cert.EntitlementID, why))
	}
	for n, other := range st.certificates {
		if n != number && other.Route == events.RouteExceptional && other.EntitlementID == cert.EntitlementID {
			return nil, refuse(fmt.Sprintf("certificate %s in force used it", n))
		}
	}
	if e := st.entitlements[cert.EntitlementID]; e != nil && e.usedBy == number {
		// Its own use is not another's.
		cp := *e
		cp.usedBy = ""
		st.entitlements = maps.Clone(st.entitlements)
		st.entitlements[cert.EntitlementID] = &cp
	}
	if err := st.usableEntitlement(cert.EntitlementID, cert.Trade.Code, cert.Level); err != nil {
		var fe *kit.FieldError
		if errors.As(err, &fe) {
			return nil, refuse(fe.Err.Error())
		}
		return nil, err
	}
	return nil, nil
}
