package training

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-kit/kit/endpoint"
	httptransport "github.com/go-kit/kit/transport/http"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
)

// Route is one HTTP route of the service (method and Go ServeMux
// pattern), the type the other services' Routes share.
type Route = servicekit.Route

// Routes lists the service's API routes; openapi.yaml describes exactly
// these (tested).
func Routes() []Route {
	return []Route{
		{Method: "POST", Pattern: "/v1/craftsmen/{craftsmanId}/enrolments", Name: "Enrol"},
		{Method: "POST", Pattern: "/v1/craftsmen/{craftsmanId}/corrections", Name: "Correct"},
		{Method: "POST", Pattern: "/v1/craftsmen/{craftsmanId}/completions", Name: "CompleteTraining"},
		{Method: "POST", Pattern: "/v1/craftsmen/{craftsmanId}/graduations", Name: "RecordGraduation"},
		{Method: "POST", Pattern: "/v1/craftsmen/{craftsmanId}/titles", Name: "RecordTitle"},
		{Method: "POST", Pattern: "/v1/craftsmen/{craftsmanId}/assessments", Name: "RecordAssessment"},
		{Method: "POST", Pattern: "/v1/craftsmen/{craftsmanId}/certificates", Name: "CertifySkillLevel"},
		{Method: "POST", Pattern: "/v1/backfill/completions", Name: "BackfillCompletions"},
		{Method: "POST", Pattern: "/v1/backfill/certificates", Name: "BackfillCertificates"},
		{Method: "POST", Pattern: "/v1/backfill/graduations", Name: "BackfillGraduations"},
		{Method: "POST", Pattern: "/v1/backfill/titles", Name: "BackfillTitles"},
		{Method: "POST", Pattern: "/v1/backfill/enrolments", Name: "BackfillEnrolments"},
		{Method: "POST", Pattern: "/v1/backfill/assessments", Name: "BackfillAssessments"},
	}
}

// HTTPOptions tune NewHTTPHandler.
type HTTPOptions struct {
	// Limiter, when set, rate-limits callers (429 + Retry-After).
	Limiter *kit.RateLimiter
	// Backfill configures the bulk endpoints (workers, progress callback).
	Backfill command.Backfill
}

// NewHTTPHandler serves the training JSON API (Routes) for svc. Every route
// needs a bearer token signed with key. It serves no /healthz, /readyz or
// /metrics: the binary (or the all-in-one) mounts those beside it.
func NewHTTPHandler(svc Service, logger *slog.Logger, key auth.Key, o HTTPOptions) http.Handler {
	mw := []endpoint.Middleware{auth.EndpointMiddleware(key)}
	if o.Limiter != nil {
		mw = append(mw, o.Limiter.Endpoint())
	}
	set := NewSet(svc, mw...)
	opts := kit.ServerOptions(logger, httptransport.ServerBefore(command.HTTPToContext))
	path := func(id *string, r *http.Request) { *id = r.PathValue("craftsmanId") }
	byName := map[string]http.Handler{
		"Enrol": httptransport.NewServer(set.Enrol, command.DecodeRequest(false, func(q *EnrolRequest, r *http.Request) { path(&q.CraftsmanID, r) }),
			command.EncodeResponse, opts...),
		"CompleteTraining": httptransport.NewServer(set.CompleteTraining, command.DecodeRequest(false, func(q *CompleteTrainingRequest, r *http.Request) { path(&q.CraftsmanID, r) }),
			command.EncodeResponse, opts...),
		"RecordGraduation": httptransport.NewServer(set.RecordGraduation, command.DecodeRequest(false, func(q *GraduationRequest, r *http.Request) { path(&q.CraftsmanID, r) }),
			command.EncodeResponse, opts...),
		"RecordTitle": httptransport.NewServer(set.RecordTitle, command.DecodeRequest(false, func(q *TitleRequest, r *http.Request) { path(&q.CraftsmanID, r) }),
			command.EncodeResponse, opts...),
		"RecordAssessment": httptransport.NewServer(set.RecordAssessment, command.DecodeRequest(false, func(q *AssessmentRequest, r *http.Request) { path(&q.CraftsmanID, r) }),
			command.EncodeResponse, opts...),
		"Correct": httptransport.NewServer(set.Correct, command.DecodeRequest(false, func(q *servicekit.CorrectionRequest, r *http.Request) { path(&q.CraftsmanID, r) }),
			command.EncodeResponse, opts...),
		"CertifySkillLevel": httptransport.NewServer(set.CertifySkillLevel, command.DecodeRequest(false, func(q *CertifyRequest, r *http.Request) { path(&q.CraftsmanID, r) }),
			command.EncodeResponse, opts...),
	}
	authed := auth.HTTPMiddleware(key, kit.EncodeError)
	limit := kit.LimitHTTP(o.Limiter)
	byName["BackfillCompletions"] = authed(limit(command.BackfillHandler{Backfill: o.Backfill, Encode: kit.EncodeError,
		Prepare: servicekit.ImportPrepare(svc, prepareCompletion)}))
	byName["BackfillCertificates"] = authed(limit(command.BackfillHandler{Backfill: o.Backfill, Encode: kit.EncodeError,
		Prepare: servicekit.ImportPrepare(svc, prepareCertificate)}))
	byName["BackfillGraduations"] = authed(limit(command.BackfillHandler{Backfill: o.Backfill, Encode: kit.EncodeError,
		Prepare: servicekit.ImportPrepare(svc, prepareGraduation)}))
	byName["BackfillTitles"] = authed(limit(command.BackfillHandler{Backfill: o.Backfill, Encode: kit.EncodeError,
		Prepare: servicekit.ImportPrepare(svc, prepareTitle)}))
	byName["BackfillEnrolments"] = authed(limit(command.BackfillHandler{Backfill: o.Backfill, Encode: kit.EncodeError,
		Prepare: servicekit.ImportPrepare(svc, prepareEnrolment)}))
	byName["BackfillAssessments"] = authed(limit(command.BackfillHandler{Backfill: o.Backfill, Encode: kit.EncodeError,
		Prepare: servicekit.ImportPrepare(svc, prepareAssessment)}))

	mux := http.NewServeMux()
	for _, rt := range Routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, byName[rt.Name])
	}
	mux.Handle("/", command.NotFoundHandler())
	return mux
}

// CompletionLine is one back-filled course completion: a JSON Lines object,
// or a CSV row with the columns of CompletionColumns.
type CompletionLine struct {
	CraftsmanID string `json:"craftsmanId"`
	// Key is the line's idempotency key; empty = derived from the content.
	Key string `json:"key,omitempty"`
	CompleteTrainingRequest
}

// CertificateLine is one back-filled certificate.
type CertificateLine struct {
	CraftsmanID string `json:"craftsmanId"`
	Key         string `json:"key,omitempty"`
	CertifyRequest
}

// GraduationLine is one back-filled graduation.
type GraduationLine struct {
	CraftsmanID string `json:"craftsmanId"`
	Key         string `json:"key,omitempty"`
	GraduationRequest
}

// TitleLine is one back-filled professional title.
type TitleLine struct {
	CraftsmanID string `json:"craftsmanId"`
	Key         string `json:"key,omitempty"`
	TitleRequest
}

// EnrolmentLine is one back-filled enrolment.
type EnrolmentLine struct {
	CraftsmanID string `json:"craftsmanId"`
	Key         string `json:"key,omitempty"`
	EnrolRequest
}

// AssessmentLine is one back-filled assessment.
type AssessmentLine struct {
	CraftsmanID string `json:"craftsmanId"`
	Key         string `json:"key,omitempty"`
	AssessmentRequest
}

// CSV columns of the back-fill files (header names; order is free; only
// craftsmanId and the fields the command requires must have values).
var (
	GraduationColumns = []string{"craftsmanId", "key", "schoolKind", "schoolName", "speciality", "tradeCode", "tradeName",
		"programmeTarget", "seniorClass", "preparatoryTechnician", "finalYear", "occurredAt"}
	TitleColumns = []string{"craftsmanId", "key", "tier", "title", "series", "tradeCode", "tradeName", "awardingOrg",
		"certificateNumber", "occurredAt"}
	CompletionColumns = []string{"craftsmanId", "key", "enrolmentId", "academyId", "courseId", "tradeCode", "tradeName",
		"module", "hours", "mode", "score", "passed", "occurredAt"}
	CertificateColumns = []string{"craftsmanId", "key", "tradeCode", "tradeName", "level", "certificateNumber", "family",
		"evaluatingOrgId", "issuingOrgId", "issuingOrgName", "issuingOrgKind", "route", "entitlementId", "assessmentId", "occurredAt"}
	EnrolmentColumns = []string{"craftsmanId", "key", "enrolmentId", "academyId", "courseId", "tradeCode", "tradeName",
		"module", "mode", "occurredAt"}
	AssessmentColumns = []string{"craftsmanId", "key", "assessmentId", "tradeCode", "tradeName", "level", "evaluatingOrgId",
		"theoryScore", "practicalScore", "passed", "occurredAt"}
)

func csvFloat(f map[string]string, name string) (*float64, error) {
	s := f[name]
	if s == "" {
		return nil, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, kit.Invalid(name, "%q is not a number", s)
	}
	return &v, nil
}

func csvBool(f map[string]string, name string) (bool, error) {
	switch strings.ToLower(f[name]) {
	case "", "false", "0", "no", "n":
		return false, nil
	case "true", "1", "yes", "y":
		return true, nil
	}
	return false, kit.Invalid(name, "%q is not a boolean (true/false)", f[name])
}

// csvLevel reads the level in column name, which must have one; a bad
// value is an error about that column.
func csvLevel(f map[string]string, name string) (events.Level, error) {
	v := f[name]
	if v == "" {
		return 0, kit.Invalid(name, "is required")
	}
	level, err := events.ParseLevel(v)
	if fe := (*events.FieldError)(nil); errors.As(err, &fe) {
		return 0, kit.Invalid(name, "%s", fe.Message)
	} else if err != nil {
		return 0, kit.FieldErr(name, err)
	}
	return level, nil
}

func prepareCompletion(svc Service, bt batcher, rec command.Record) (command.Line, error) {
	var l CompletionLine
	if rec.Fields != nil {
		f := rec.Fields
		if err := rec.CheckColumns(CompletionColumns); err != nil {
			return command.Line{}, err
		}
		hours, err := csvFloat(f, "hours")
		if err != nil {
			return command.Line{}, err
		}
		score, err := csvFloat(f, "score")
		if err != nil {
			return command.Line{}, err
		}
		passed, err := csvBool(f, "passed")
		if err != nil {
			return command.Line{}, err
		}
		l = CompletionLine{CraftsmanID: f["craftsmanId"], Key: f["key"], CompleteTrainingRequest: CompleteTrainingRequest{
			EnrolmentID: f["enrolmentId"], AcademyID: f["academyId"], CourseID: f["courseId"],
			Trade: events.Trade{Code: f["tradeCode"], Name: f["tradeName"]}, Module: f["module"], Mode: f["mode"],
			Score: score, Passed: passed, OccurredAt: f["occurredAt"]}}
		if hours != nil {
			l.Hours = *hours
		}
	} else if err := command.DecodeLine(rec, &l); err != nil {
		return command.Line{}, err
	}
	if err := idField("craftsmanId", l.CraftsmanID); err != nil {
		return command.Line{}, err
	}
	req := l.CompleteTrainingRequest
	req.CraftsmanID = l.CraftsmanID
	return servicekit.ImportLine(l.CraftsmanID, l.Key, req, svc.CompleteTraining, bt, batcher.completionCommand), nil
}

func prepareCertificate(svc Service, bt batcher, rec command.Record) (command.Line, error) {
	var l CertificateLine
	if rec.Fields != nil {
		f := rec.Fields
		if err := rec.CheckColumns(CertificateColumns); err != nil {
			return command.Line{}, err
		}
		level, err := csvLevel(f, "level")
		if err != nil {
			return command.Line{}, err
		}
		l = CertificateLine{CraftsmanID: f["craftsmanId"], Key: f["key"], CertifyRequest: CertifyRequest{
			Trade: events.Trade{Code: f["tradeCode"], Name: f["tradeName"]}, Level: level,
			CertificateNumber: f["certificateNumber"], Family: f["family"], EvaluatingOrgID: f["evaluatingOrgId"],
			IssuingOrg: events.Org{ID: f["issuingOrgId"], Name: f["issuingOrgName"], Kind: f["issuingOrgKind"]},
			Route:      f["route"], EntitlementID: f["entitlementId"], AssessmentID: f["assessmentId"], OccurredAt: f["occurredAt"]}}
	} else if err := command.DecodeLine(rec, &l); err != nil {
		return command.Line{}, err
	}
	if err := idField("craftsmanId", l.CraftsmanID); err != nil {
		return command.Line{}, err
	}
	req := l.CertifyRequest
	req.CraftsmanID = l.CraftsmanID
	return servicekit.ImportLine(l.CraftsmanID, l.Key, req, svc.CertifySkillLevel, bt, batcher.certifyCommand), nil
}

func prepareGraduation(svc Service, bt batcher, rec command.Record) (command.Line, error) {
	var l GraduationLine
	if f := rec.Fields; f != nil {
		if err := rec.CheckColumns(GraduationColumns); err != nil {
			return command.Line{}, err
		}
		l = GraduationLine{CraftsmanID: f["craftsmanId"], Key: f["key"], GraduationRequest: GraduationRequest{
			SchoolKind: f["schoolKind"], SchoolName: f["schoolName"], Speciality: f["speciality"],
			Trade: events.Trade{Code: f["tradeCode"], Name: f["tradeName"]}, OccurredAt: f["occurredAt"]}}
		if f["programmeTarget"] != "" {
			level, err := csvLevel(f, "programmeTarget")
			if err != nil {
				return command.Line{}, err
			}
			l.ProgrammeTarget = &level
		}
		for name, dst := range map[string]*bool{"seniorClass": &l.SeniorClass, "preparatoryTechnician": &l.PreparatoryTechnician, "finalYear": &l.FinalYear} {
			b, err := csvBool(f, name)
			if err != nil {
				return command.Line{}, err
			}
			*dst = b
		}
	} else if err := command.DecodeLine(rec, &l); err != nil {
		return command.Line{}, err
	}
	if err := idField("craftsmanId", l.CraftsmanID); err != nil {
		return command.Line{}, err
	}
	req := l.GraduationRequest
	req.CraftsmanID = l.CraftsmanID
	return servicekit.ImportLine(l.CraftsmanID, l.Key, req, svc.RecordGraduation, bt, batcher.graduationCommand), nil
}

func prepareTitle(svc Service, bt batcher, rec command.Record) (command.Line, error) {
	var l TitleLine
	if f := rec.Fields; f != nil {
		if err := rec.CheckColumns(TitleColumns); err != nil {
			return command.Line{}, err
		}
		l = TitleLine{CraftsmanID: f["craftsmanId"], Key: f["key"], TitleRequest: TitleRequest{
			Tier: f["tier"], Title: f["title"], Series: f["series"], Trade: events.Trade{Code: f["tradeCode"], Name: f["tradeName"]},
			AwardingOrg: f["awardingOrg"], CertificateNumber: f["certificateNumber"], OccurredAt: f["occurredAt"]}}
	} else if err := command.DecodeLine(rec, &l); err != nil {
		return command.Line{}, err
	}
	if err := idField("craftsmanId", l.CraftsmanID); err != nil {
		return command.Line{}, err
	}
	req := l.TitleRequest
	req.CraftsmanID = l.CraftsmanID
	return servicekit.ImportLine(l.CraftsmanID, l.Key, req, svc.RecordTitle, bt, batcher.titleCommand), nil
}

func prepareEnrolment(svc Service, bt batcher, rec command.Record) (command.Line, error) {
	var l EnrolmentLine
	if f := rec.Fields; f != nil {
		if err := rec.CheckColumns(EnrolmentColumns); err != nil {
			return command.Line{}, err
		}
		l = EnrolmentLine{CraftsmanID: f["craftsmanId"], Key: f["key"], EnrolRequest: EnrolRequest{
			EnrolmentID: f["enrolmentId"], AcademyID: f["academyId"], CourseID: f["courseId"],
			Trade: events.Trade{Code: f["tradeCode"], Name: f["tradeName"]}, Module: f["module"], Mode: f["mode"],
			OccurredAt: f["occurredAt"]}}
	} else if err := command.DecodeLine(rec, &l); err != nil {
		return command.Line{}, err
	}
	if err := idField("craftsmanId", l.CraftsmanID); err != nil {
		return command.Line{}, err
	}
	req := l.EnrolRequest
	req.CraftsmanID = l.CraftsmanID
	return servicekit.ImportLine(l.CraftsmanID, l.Key, req, svc.Enrol, bt, batcher.enrolCommand), nil
}

func prepareAssessment(svc Service, bt batcher, rec command.Record) (command.Line, error) {
	var l AssessmentLine
	if f := rec.Fields; f != nil {
		if err := rec.CheckColumns(AssessmentColumns); err != nil {
			return command.Line{}, err
		}
		level, err := csvLevel(f, "level")
		if err != nil {
			return command.Line{}, err
		}
		theory, err := csvFloat(f, "theoryScore")
		if err != nil {
			return command.Line{}, err
		}
		practical, err := csvFloat(f, "practicalScore")
		if err != nil {
			return command.Line{}, err
		}
		l = AssessmentLine{CraftsmanID: f["craftsmanId"], Key: f["key"], AssessmentRequest: AssessmentRequest{
			AssessmentID: f["assessmentId"], Trade: events.Trade{Code: f["tradeCode"], Name: f["tradeName"]}, Level: level,
			EvaluatingOrgID: f["evaluatingOrgId"], TheoryScore: theory, PracticalScore: practical,
			OccurredAt: f["occurredAt"]}}
		if f["passed"] != "" { // blank: the service refuses the line, passed is required
			passed, err := csvBool(f, "passed")
			if err != nil {
				return command.Line{}, err
			}
			l.Passed = &passed
		}
	} else if err := command.DecodeLine(rec, &l); err != nil {
		return command.Line{}, err
	}
	if err := idField("craftsmanId", l.CraftsmanID); err != nil {
		return command.Line{}, err
	}
	req := l.AssessmentRequest
	req.CraftsmanID = l.CraftsmanID
	return servicekit.ImportLine(l.CraftsmanID, l.Key, req, svc.RecordAssessment, bt, batcher.assessmentCommand), nil
}
