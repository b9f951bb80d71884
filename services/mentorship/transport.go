package mentorship

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/go-kit/kit/endpoint"
	httptransport "github.com/go-kit/kit/transport/http"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
)

// Route is one HTTP route of the service (method, Go ServeMux pattern and
// operation name).
type Route = servicekit.Route

// Routes lists the service's API routes; the OpenAPI file describes
// exactly these (tested).
func Routes() []Route {
	return []Route{
		{Method: "POST", Pattern: "/v1/mentorships", Name: "StartMentorship"},
		{Method: "POST", Pattern: "/v1/mentorships/{mentorshipId}/sessions", Name: "LogSession"},
		{Method: "POST", Pattern: "/v1/mentorships/{mentorshipId}/complete", Name: "CompleteMentorship"},
		{Method: "POST", Pattern: "/v1/mentorships/{mentorshipId}/end", Name: "EndMentorship"},
		{Method: "POST", Pattern: "/v1/craftsmen/{craftsmanId}/corrections", Name: "Correct"},
		{Method: "POST", Pattern: "/v1/backfill/mentorships", Name: "BackfillMentorships"},
	}
}

// HTTPOptions tune NewHTTPHandler.
type HTTPOptions struct {
	// Metrics, when set, instruments every route (kit.Metrics.HTTP).
	Metrics *kit.Metrics
	// Limiter, when set, rate-limits callers (429 + Retry-After).
	Limiter *kit.RateLimiter
	// Backfill configures the bulk endpoint (workers, progress callback).
	Backfill command.Backfill
}

// NewHTTPHandler serves the mentorship service's JSON API (Routes) for
// svc. Every route needs a bearer token signed with key; errors use
// kit.EncodeError's body. /healthz, /readyz and /metrics are mounted by the
// binary (or the all-in-one) beside it.
func NewHTTPHandler(svc Service, logger *slog.Logger, key auth.Key, o HTTPOptions) http.Handler {
	mw := []endpoint.Middleware{auth.EndpointMiddleware(key)}
	if o.Limiter != nil {
		mw = append(mw, o.Limiter.Endpoint())
	}
	set := NewSet(svc, mw...)
	opts := kit.ServerOptions(logger, httptransport.ServerBefore(command.HTTPToContext))
	byName := map[string]http.Handler{
		"StartMentorship": httptransport.NewServer(set.StartMentorship, command.DecodeRequest[StartRequest](false, nil), kit.EncodeJSON, opts...),
		"LogSession": httptransport.NewServer(set.LogSession, command.DecodeRequest(false, func(q *LogSessionRequest, r *http.Request) {
			q.MentorshipID = r.PathValue("mentorshipId")
		}), kit.EncodeJSON, opts...),
		"CompleteMentorship": httptransport.NewServer(set.CompleteMentorship, command.DecodeRequest(false, func(q *CompleteRequest, r *http.Request) {
			q.MentorshipID = r.PathValue("mentorshipId")
		}), kit.EncodeJSON, opts...),
		"EndMentorship": httptransport.NewServer(set.EndMentorship, command.DecodeRequest(false, func(q *EndRequest, r *http.Request) {
			q.MentorshipID = r.PathValue("mentorshipId")
		}), kit.EncodeJSON, opts...),
	}
	byName["Correct"] = httptransport.NewServer(set.Correct, command.DecodeRequest(false, func(q *servicekit.CorrectionRequest, r *http.Request) {
		q.CraftsmanID = r.PathValue("craftsmanId")
	}), command.EncodeResponse, opts...)
	authed := auth.HTTPMiddleware(key, kit.EncodeError)
	limit := kit.LimitHTTP(o.Limiter)
	own, _ := servicekit.Find[*service](svc) // under the middlewares
	byName["BackfillMentorships"] = authed(limit(command.BackfillHandler{Backfill: o.Backfill, Encode: kit.EncodeError,
		Prepare: servicekit.BackfillLines("mentorships", func(rec command.Record) (command.Line, error) {
			return prepareMentorship(svc, own, rec)
		})}))
	mux := http.NewServeMux()
	for _, rt := range Routes() {
		h := byName[rt.Name]
		if o.Metrics != nil {
			h = o.Metrics.HTTP("mentorship."+rt.Name, h)
		}
		mux.Handle(rt.Method+" "+rt.Pattern, h)
	}
	mux.Handle("/", command.NotFoundHandler())
	return mux
}

// MentorshipLine is one back-filled pairing (a JSON Lines object): the
// fields of StartRequest (occurredAt required), an optional idempotency
// key (default: derived from the line's content), its sessions, and its
// completion or early end when it has one.
type MentorshipLine struct {
	Key string `json:"key,omitempty"`
	StartRequest
	Sessions  []LogSessionRequest `json:"sessions,omitempty"`
	Completed *CompleteRequest    `json:"completed,omitempty"`
	Ended     *EndRequest         `json:"ended,omitempty"`
}

// prepareMentorship makes a line of one pairing. With own (the service
// under svc's middlewares) set, the line runs in own's group (command.
// Group): a master's neighbouring lines' starts are appended to the
// master's stream together (backfillStarts); else through svc's methods.
func prepareMentorship(svc Service, own *service, rec command.Record) (command.Line, error) {
	l, err := decodeMentorship(rec)
	if err != nil {
		return command.Line{}, err
	}
	// The master's stream decides the limit: one master's lines run in order.
	line := command.Line{Shard: l.MasterID, Key: l.Key, Run: func(ctx context.Context) (command.Result, error) {
		start, err := svc.StartMentorship(ctx, l.StartRequest)
		if err != nil {
			return command.Result{}, err
		}
		return l.rest(ctx, svc, start)
	}}
	if own != nil {
		line.Group, line.Value = own.starts, l
	}
	return line, nil
}

// decodeMentorship decodes and checks a line as far as it can be without
// a clock or a stream.
func decodeMentorship(rec command.Record) (MentorshipLine, error) {
	var l MentorshipLine
	if err := command.DecodeLine(rec, &l); err != nil {
		return l, err
	}
	if err := events.ValidID("mentorshipId", l.MentorshipID); err != nil {
		return l, servicekit.Invalid(err)
	}
	if err := events.ValidID("masterId", l.MasterID); err != nil {
		return l, servicekit.Invalid(err)
	}
	if l.OccurredAt == "" {
		return l, kit.Invalid("occurredAt", "is required for a back-filled record")
	}
	if l.Completed != nil && l.Ended != nil {
		return l, kit.Invalid("ended", "a pairing is either completed or ended early, not both")
	}
	// Check the whole line before its first command, so a bad line writes
	// nothing: here what needs no clock and no stream, and every later
	// fact's date with the start (StartRequest.later: not in the future,
	// not before the start).
	parties := events.MentorshipParties{MentorshipID: l.MentorshipID, MasterID: l.MasterID, ApprenticeID: l.ApprenticeID}
	l.later = nil
	for i, s := range l.Sessions {
		field := fmt.Sprintf("sessions[%d]", i)
		if s.OccurredAt == "" {
			return l, kit.Invalid(field+".occurredAt", "is required for a back-filled record")
		}
		if err := (events.MentorshipSessionLogged{MentorshipParties: parties, Hours: s.Hours, Topic: s.Topic}).Validate(); err != nil {
			return l, servicekit.Invalid(events.Prefix(field, err))
		}
		switch {
		case len(s.SessionID) > maxSessionID:
			return l, kit.Invalid(field+".sessionId", "is longer than %d characters", maxSessionID)
		case s.SessionID == "" && len(fmt.Sprintf("%s-%d", l.Key, i)) > maxSessionID:
			return l, kit.Invalid("key", "names the line's sessions (%s-%d): at most %d characters in all", l.Key, i, maxSessionID)
		}
		l.later = append(l.later, laterDate{field, s.OccurredAt})
	}
	if c := l.Completed; c != nil {
		if c.LevelReached == nil {
			return l, kit.Invalid("completed.levelReached", "is required")
		}
		if c.OccurredAt == "" {
			return l, kit.Invalid("completed.occurredAt", "is required for a back-filled record")
		}
		if err := (events.MentorshipCompleted{MentorshipParties: parties, Trade: l.Trade, LevelReached: c.LevelReached}).Validate(); err != nil {
			return l, servicekit.Invalid(events.Prefix("completed", err))
		}
		l.later = append(l.later, laterDate{"completed", c.OccurredAt})
	}
	if e := l.Ended; e != nil {
		if e.Reason == "" {
			return l, kit.Invalid("ended.reason", "is required")
		}
		if e.OccurredAt == "" {
			return l, kit.Invalid("ended.occurredAt", "is required for a back-filled record")
		}
		l.later = append(l.later, laterDate{"ended", e.OccurredAt})
	}
	return l, nil
}

// ends says whether the line ends its pairing (completed or ended early),
// which changes its master's active pairings for the lines after it.
func (l MentorshipLine) ends() bool { return l.Completed != nil || l.Ended != nil }

// rest records the line's sessions and its completion or early end after
// its start (answered start), through svc, and answers the line.
func (l MentorshipLine) rest(ctx context.Context, svc Service, start Response) (command.Result, error) {
	last, replayed := start, start.Replayed
	var err error
	key := command.KeyFrom(ctx)
	for i, s := range l.Sessions {
		s.MentorshipID = l.MentorshipID
		if s.SessionID == "" {
			s.SessionID = fmt.Sprintf("%s-%d", key, i) // the line's key names its sessions
		}
		if last, err = svc.LogSession(ctx, s); err != nil {
			return command.Result{}, kit.FieldErr(fmt.Sprintf("sessions[%d]", i), err)
		}
		replayed = replayed && last.Replayed
	}
	switch {
	case l.Completed != nil:
		c := *l.Completed
		c.MentorshipID = l.MentorshipID
		if last, err = svc.CompleteMentorship(ctx, c); err != nil {
			return command.Result{}, kit.FieldErr("completed", err)
		}
	case l.Ended != nil:
		e := *l.Ended
		e.MentorshipID = l.MentorshipID
		if last, err = svc.EndMentorship(ctx, e); err != nil {
			return command.Result{}, kit.FieldErr("ended", err)
		}
	}
	res := last.Mentorship
	res.Position = last.Position
	res.Replayed = replayed && last.Replayed
	return res, nil
}
