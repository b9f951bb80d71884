package schema

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/graphql-go/graphql"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/graphql/readmodel"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/errs"
)

// craftsmanNode is what Craftsman fields resolve from.
type craftsmanNode struct {
	shown     shownOnce // what name, personalData and erased show
	id        string
	s         readmodel.Summary // live, for authorization
	asOf, occ time.Time
	model     readmodel.Reader
	viewOnce  sync.Once
	v         *readmodel.View
	recsOnce  sync.Once
	recs      []events.Recorded

	once  sync.Once // the career fold, shared by pathway and eligibility
	state *career.State
	at    time.Time
	// viewToo: the query reads fields of the view as well, so the view
	// will be built anyway and its fold can serve pathway and eligibility.
	viewToo bool
}

// readsView reports whether a craftsman selection names a field that is
// read from the view (anything but id, asOf, pathway, pathways and
// eligibility), counting a fragment as one that does.
func readsView(fas []*astField) bool {
	for _, fa := range fas {
		if fa.SelectionSet == nil {
			continue
		}
		for _, s := range fa.SelectionSet.Selections {
			f, ok := s.(*astField)
			if !ok {
				return true
			}
			if f.Name == nil {
				continue
			}
			switch f.Name.Value {
			case "id", "asOf", "pathway", "pathways", "eligibility", "__typename":
			default:
				return true
			}
		}
	}
	return false
}

// rec is one decoded event with the payload type T.
type rec[T any] struct {
	r events.Recorded
	p T
}

// view builds the craftsman's view as of the query, once, when a field
// needs it (pathway and eligibility need only the records).
func (c *craftsmanNode) view() *readmodel.View {
	c.viewOnce.Do(func() {
		v, _, ok := c.model.Craftsman(c.id, c.asOf, c.occ)
		if !ok {
			v = &readmodel.View{ID: c.id, AsOf: c.asOf}
		}
		c.v = v
	})
	return c.v
}

// records are the craftsman stream's events recorded by asOf (and occurred
// by occurredBy), for the domain's fold.
func (c *craftsmanNode) records() []events.Recorded {
	c.recsOnce.Do(func() { c.recs = readmodel.RecordedBy(c.model.Records(c.id), c.asOf, c.occ) })
	return c.recs
}

func effective[T any](v *readmodel.View) []rec[T] {
	var out []rec[T]
	for _, r := range v.Effective {
		if p, ok := r.Payload.(T); ok {
			out = append(out, rec[T]{r: r, p: p})
		}
	}
	return out
}

// canRead is the one authorization rule for a craftsman's record.
func canRead(c auth.Claims, id string, s readmodel.Summary) error {
	if auth.CanRead(c, id, s.Orgs()...) {
		return nil
	}
	switch c.Role {
	case auth.RoleWorker:
		return errs.E(errs.PermissionDenied, "a worker may read only their own record, not craftsman %s", id)
	default:
		return errs.E(errs.PermissionDenied, "craftsman %s is not linked to organisation %s", id, c.OrgID)
	}
}

func (b *builder) asOfArgs(extra graphql.FieldConfigArgument) graphql.FieldConfigArgument {
	args := graphql.FieldConfigArgument{
		"asOf":       {Type: graphql.String, Description: "Rebuild from the events recorded by then (a date = the end of that day in the ledger's calendar, UTC+8; or an RFC 3339 time)."},
		"occurredBy": {Type: graphql.String, Description: "Keep only events that had occurred (occurredAt) by then."},
	}
	for k, v := range extra {
		args[k] = v
	}
	return viewArgs(args)
}

// loadCraftsman resolves one craftsman, authorised, as of the arguments.
func (b *builder) loadCraftsman(p graphql.ResolveParams, id string) (*craftsmanNode, error) {
	c, err := caller(p.Context)
	if err != nil {
		return nil, err
	}
	asOf, _, err := argTime(p, "asOf", true)
	if err != nil {
		return nil, err
	}
	occ, _, err := argTime(p, "occurredBy", true)
	if err != nil {
		return nil, err
	}
	s, ok := b.d.Model.Summary(id)
	if !ok {
		// Workers learn nothing about other ids; everyone else a plain 404.
		if c.Role == auth.RoleWorker && c.CraftsmanID != id {
			return nil, canRead(c, id, s)
		}
		return nil, errs.E(errs.NotFound, "craftsman %s", id)
	}
	if err := canRead(c, id, s); err != nil {
		return nil, err
	}
	n := &craftsmanNode{id: id, s: s, asOf: asOf, occ: occ, model: b.d.Model, viewToo: readsView(p.Info.FieldASTs)}
	if len(n.records()) == 0 {
		return nil, errs.E(errs.NotFound, "craftsman %s has no events recorded by %s", id, asOf.Format(time.RFC3339))
	}
	return n, nil
}

func dateOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func (b *builder) domainFields(f graphql.Fields) {
	levelT := graphql.NewObject(graphql.ObjectConfig{
		Name:        "Level",
		Description: "A rank of the eight-level skill ladder (新八级工).",
		Fields: graphql.Fields{
			"rank": fieldOf(graphql.NewNonNull(graphql.Int), "0 apprentice … 7 chief technician.", func(l events.Level) any { return int(l) }),
			"api":  fieldOf(graphql.NewNonNull(graphql.String), "API name, e.g. senior_technician.", func(l events.Level) any { return l.Info().API }),
			"zh":   fieldOf(graphql.NewNonNull(graphql.String), "", func(l events.Level) any { return l.Info().Chinese }),
			"en":   fieldOf(graphql.NewNonNull(graphql.String), "", func(l events.Level) any { return l.Info().English }),
			"grade": fieldOf(graphql.Int, "National grade 5..1; null for apprentice and the upper grades.", func(l events.Level) any {
				g := l.Info().Grade
				if g == 0 {
					return nil
				}
				return g
			}),
		},
	})
	tradeT := graphql.NewObject(graphql.ObjectConfig{
		Name:        "Trade",
		Description: "A trade (工种) by national occupation code.",
		Fields: graphql.Fields{
			"code": fieldOf(graphql.NewNonNull(graphql.String), "", func(t events.Trade) any { return t.Code }),
			"name": fieldOf(graphql.String, "", func(t events.Trade) any { return nilIfEmpty(t.Name) }),
		},
	})
	refT := graphql.NewObject(graphql.ObjectConfig{
		Name:        "EventRef",
		Description: "Evidence: the event that proves a fact.",
		Fields: graphql.Fields{
			"stream":   fieldOf(graphql.NewNonNull(graphql.String), "", func(r events.Ref) any { return r.Stream }),
			"revision": fieldOf(graphql.NewNonNull(graphql.Float), "", func(r events.Ref) any { return float64(r.Revision) }),
			"eventId":  fieldOf(graphql.String, "", func(r events.Ref) any { return nilIfEmpty(r.EventID) }),
		},
	})
	tradeLevelT := graphql.NewObject(graphql.ObjectConfig{
		Name: "TradeLevel",
		Fields: graphql.Fields{
			"trade":    fieldOf(graphql.NewNonNull(tradeT), "", func(t readmodel.TradeLevel) any { return t.Trade }),
			"level":    fieldOf(graphql.NewNonNull(levelT), "Current level in this trade.", func(t readmodel.TradeLevel) any { return t.Level }),
			"since":    fieldOf(graphql.NewNonNull(graphql.DateTime), "The date that level was reached: occurredAt's civil date in China (UTC+8, career.CivilDate), as midnight UTC of that date.", func(t readmodel.TradeLevel) any { return civilDate(t.Since) }),
			"evidence": fieldOf(graphql.NewNonNull(refT), "", func(t readmodel.TradeLevel) any { return t.Evidence }),
		},
	})
	occurred := func(r events.Recorded) any { return dateOrNil(r.Meta.OccurredAt) }
	certT := graphql.NewObject(graphql.ObjectConfig{
		Name:        "Certificate",
		Description: "A skill-level certificate or vocational qualification.",
		Fields: graphql.Fields{
			"number":         fieldOf(graphql.NewNonNull(graphql.String), "", func(c rec[events.SkillLevelCertified]) any { return c.p.CertificateNumber }),
			"family":         fieldOf(graphql.NewNonNull(graphql.String), "skill_level or vocational_qualification.", func(c rec[events.SkillLevelCertified]) any { return c.p.Family }),
			"trade":          fieldOf(graphql.NewNonNull(tradeT), "", func(c rec[events.SkillLevelCertified]) any { return c.p.Trade }),
			"level":          fieldOf(graphql.NewNonNull(levelT), "", func(c rec[events.SkillLevelCertified]) any { return c.p.Level }),
			"issuingOrg":     fieldOf(graphql.String, "", func(c rec[events.SkillLevelCertified]) any { return nilIfEmpty(c.p.IssuingOrg.ID) }),
			"issuingOrgKind": fieldOf(graphql.String, "", func(c rec[events.SkillLevelCertified]) any { return nilIfEmpty(c.p.IssuingOrg.Kind) }),
			"route":          fieldOf(graphql.String, "regular or exceptional.", func(c rec[events.SkillLevelCertified]) any { return nilIfEmpty(c.p.Route) }),
			"issuedOn":       fieldOf(graphql.DateTime, "", func(c rec[events.SkillLevelCertified]) any { return occurred(c.r) }),
			"evidence":       fieldOf(graphql.NewNonNull(refT), "", func(c rec[events.SkillLevelCertified]) any { return c.r.Ref() }),
		},
	})
	trainingT := graphql.NewObject(graphql.ObjectConfig{
		Name: "TrainingCompletion",
		Fields: graphql.Fields{
			"academyId": fieldOf(graphql.NewNonNull(graphql.String), "", func(c rec[events.TrainingCompleted]) any { return c.p.AcademyID }),
			"courseId":  fieldOf(graphql.NewNonNull(graphql.String), "", func(c rec[events.TrainingCompleted]) any { return c.p.CourseID }),
			"module":    fieldOf(graphql.String, "", func(c rec[events.TrainingCompleted]) any { return nilIfEmpty(c.p.Module) }),
			"trade":     fieldOf(graphql.NewNonNull(tradeT), "", func(c rec[events.TrainingCompleted]) any { return c.p.Trade }),
			"mode":      fieldOf(graphql.NewNonNull(graphql.String), "", func(c rec[events.TrainingCompleted]) any { return c.p.Mode }),
			"hours":     fieldOf(graphql.NewNonNull(graphql.Float), "", func(c rec[events.TrainingCompleted]) any { return c.p.Hours }),
			"passed":    fieldOf(graphql.NewNonNull(graphql.Boolean), "", func(c rec[events.TrainingCompleted]) any { return c.p.Passed }),
			"score": fieldOf(graphql.Float, "", func(c rec[events.TrainingCompleted]) any {
				if c.p.Score == nil {
					return nil
				}
				return *c.p.Score
			}),
			"completedOn": fieldOf(graphql.DateTime, "", func(c rec[events.TrainingCompleted]) any { return occurred(c.r) }),
			"evidence":    fieldOf(graphql.NewNonNull(refT), "", func(c rec[events.TrainingCompleted]) any { return c.r.Ref() }),
		},
	})
	yearT := graphql.NewObject(graphql.ObjectConfig{
		Name: "YearHours",
		Fields: graphql.Fields{
			"year":  fieldOf(graphql.NewNonNull(graphql.Int), "", func(y yearHours) any { return y.year }),
			"hours": fieldOf(graphql.NewNonNull(graphql.Float), "", func(y yearHours) any { return y.hours }),
			"count": fieldOf(graphql.NewNonNull(graphql.Int), "", func(y yearHours) any { return y.count }),
		},
	})
	trainingSummaryT := graphql.NewObject(graphql.ObjectConfig{
		Name:        "Training",
		Description: "Completed training matching the filter, with totals.",
		Fields: graphql.Fields{
			"totalHours":  fieldOf(graphql.NewNonNull(graphql.Float), "", func(t *trainingResult) any { return t.hours }),
			"passedHours": fieldOf(graphql.NewNonNull(graphql.Float), "", func(t *trainingResult) any { return t.passedHours }),
			"count":       fieldOf(graphql.NewNonNull(graphql.Int), "", func(t *trainingResult) any { return len(t.items) }),
			"completions": fieldOf(graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(trainingT))), "", func(t *trainingResult) any { return t.items }),
			"byYear":      fieldOf(graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(yearT))), "Hours per calendar year of completion (the year of its civil date in China, UTC+8), ascending.", func(t *trainingResult) any { return t.byYear() }),
		},
	})
	compT := graphql.NewObject(graphql.ObjectConfig{
		Name: "CompetitionPlacement",
		Fields: graphql.Fields{
			"competitionId":   fieldOf(graphql.NewNonNull(graphql.String), "", func(c rec[events.CompetitionPlaced]) any { return c.p.CompetitionID }),
			"competitionName": fieldOf(graphql.String, "", func(c rec[events.CompetitionPlaced]) any { return nilIfEmpty(c.p.CompetitionName) }),
			"tier":            fieldOf(graphql.NewNonNull(graphql.String), "", func(c rec[events.CompetitionPlaced]) any { return c.p.Tier }),
			"year": fieldOf(graphql.Int, "", func(c rec[events.CompetitionPlaced]) any {
				if c.p.Year == 0 {
					return nil
				}
				return c.p.Year
			}),
			"track":    fieldOf(graphql.NewNonNull(graphql.String), "", func(c rec[events.CompetitionPlaced]) any { return c.p.Track }),
			"trade":    fieldOf(graphql.NewNonNull(tradeT), "", func(c rec[events.CompetitionPlaced]) any { return c.p.Trade }),
			"rank":     fieldOf(graphql.NewNonNull(graphql.Int), "", func(c rec[events.CompetitionPlaced]) any { return c.p.Rank }),
			"award":    fieldOf(graphql.NewNonNull(graphql.String), "", func(c rec[events.CompetitionPlaced]) any { return c.p.Award }),
			"teamSize": fieldOf(graphql.NewNonNull(graphql.Int), "", func(c rec[events.CompetitionPlaced]) any { return c.p.TeamSize }),
			"placedOn": fieldOf(graphql.DateTime, "", func(c rec[events.CompetitionPlaced]) any { return occurred(c.r) }),
			"evidence": fieldOf(graphql.NewNonNull(refT), "", func(c rec[events.CompetitionPlaced]) any { return c.r.Ref() }),
		},
	})
	honourT := graphql.NewObject(graphql.ObjectConfig{
		Name: "Honour",
		Fields: graphql.Fields{
			"honourId":       fieldOf(graphql.NewNonNull(graphql.String), "", func(h *honourItem) any { return h.p.HonourID }),
			"code":           fieldOf(graphql.NewNonNull(graphql.String), "", func(h *honourItem) any { return h.p.Code }),
			"name":           fieldOf(graphql.String, "", func(h *honourItem) any { return nilIfEmpty(h.p.Name) }),
			"level":          fieldOf(graphql.NewNonNull(graphql.String), "national, provincial, city, enterprise or academy.", func(h *honourItem) any { return h.p.Level }),
			"conferringBody": fieldOf(graphql.NewNonNull(graphql.String), "", func(h *honourItem) any { return h.p.ConferringBody }),
			"conferredOn":    fieldOf(graphql.DateTime, "", func(h *honourItem) any { return occurred(h.r) }),
			"withdrawn":      fieldOf(graphql.NewNonNull(graphql.Boolean), "", func(h *honourItem) any { return h.withdrawn != nil }),
			"withdrawnOn": fieldOf(graphql.DateTime, "", func(h *honourItem) any {
				if h.withdrawn == nil {
					return nil
				}
				return occurred(*h.withdrawn)
			}),
			"evidence": fieldOf(graphql.NewNonNull(refT), "", func(h *honourItem) any { return h.r.Ref() }),
		},
	})
	innovT := graphql.NewObject(graphql.ObjectConfig{
		Name: "Innovation",
		Fields: graphql.Fields{
			"innovationId": fieldOf(graphql.NewNonNull(graphql.String), "", func(c rec[events.InnovationRecognised]) any { return c.p.InnovationID }),
			"kind":         fieldOf(graphql.NewNonNull(graphql.String), "", func(c rec[events.InnovationRecognised]) any { return c.p.Kind }),
			"title":        fieldOf(graphql.NewNonNull(graphql.String), "", func(c rec[events.InnovationRecognised]) any { return c.p.Title }),
			"level":        fieldOf(graphql.NewNonNull(graphql.String), "", func(c rec[events.InnovationRecognised]) any { return c.p.Level }),
			"role":         fieldOf(graphql.NewNonNull(graphql.String), "", func(c rec[events.InnovationRecognised]) any { return c.p.Role }),
			"inUse":        fieldOf(graphql.NewNonNull(graphql.Boolean), "", func(c rec[events.InnovationRecognised]) any { return c.p.InUse }),
			"patentNumber": fieldOf(graphql.String, "", func(c rec[events.InnovationRecognised]) any { return nilIfEmpty(c.p.PatentNumber) }),
			"recognisedOn": fieldOf(graphql.DateTime, "", func(c rec[events.InnovationRecognised]) any { return occurred(c.r) }),
			"evidence":     fieldOf(graphql.NewNonNull(refT), "", func(c rec[events.InnovationRecognised]) any { return c.r.Ref() }),
		},
	})
	mentorshipT := graphql.NewObject(graphql.ObjectConfig{
		Name:        "Mentorship",
		Description: "A master–apprentice pairing (名师带徒).",
		Fields: graphql.Fields{
			"id":           fieldOf(graphql.NewNonNull(graphql.String), "", func(m *mentorshipItem) any { return m.id }),
			"masterId":     fieldOf(graphql.NewNonNull(graphql.String), "", func(m *mentorshipItem) any { return m.start.MasterID }),
			"apprenticeId": fieldOf(graphql.NewNonNull(graphql.String), "", func(m *mentorshipItem) any { return m.start.ApprenticeID }),
			"kind":         fieldOf(graphql.NewNonNull(graphql.String), "", func(m *mentorshipItem) any { return m.start.Kind }),
			"trade":        fieldOf(graphql.NewNonNull(tradeT), "", func(m *mentorshipItem) any { return m.start.Trade }),
			"status":       fieldOf(graphql.NewNonNull(graphql.String), "active, completed or ended.", func(m *mentorshipItem) any { return m.status }),
			"sessions":     fieldOf(graphql.NewNonNull(graphql.Int), "", func(m *mentorshipItem) any { return m.sessions }),
			"hours":        fieldOf(graphql.NewNonNull(graphql.Float), "", func(m *mentorshipItem) any { return m.hours }),
			"startedOn":    fieldOf(graphql.DateTime, "", func(m *mentorshipItem) any { return dateOrNil(m.started) }),
			"levelReached": fieldOf(levelT, "", func(m *mentorshipItem) any {
				if m.reached == nil {
					return nil
				}
				return *m.reached
			}),
		},
	})
	entryT := graphql.NewObject(graphql.ObjectConfig{
		Name:        "TimelineEntry",
		Description: "One event of the growth timeline, readable.",
		Fields: graphql.Fields{
			"date":       fieldOf(graphql.NewNonNull(graphql.DateTime), "The date it happened: occurredAt's (record time's if none) civil date in China (UTC+8, career.CivilDate), as midnight UTC of that date.", func(e readmodel.TimelineEntry) any { return civilDate(occurrenceOf(e.Record)) }),
			"recordedAt": fieldOf(graphql.NewNonNull(graphql.DateTime), "", func(e readmodel.TimelineEntry) any { return e.Record.RecordedAt }),
			"kind":       fieldOf(graphql.NewNonNull(graphql.String), "registration, profile, trade, employment, education, title, training, assessment, certificate, entitlement, appointment, competition, mentorship, honour, innovation, correction, erasure (or other).", func(e readmodel.TimelineEntry) any { return e.Kind }),
			"type":       fieldOf(graphql.NewNonNull(graphql.String), "Stored event type.", func(e readmodel.TimelineEntry) any { return e.Record.Type }),
			"title": &graphql.Field{
				Type:        graphql.NewNonNull(graphql.String),
				Description: "A readable sentence in lang: en (default) or zh (简体中文).",
				Args: graphql.FieldConfigArgument{
					"lang": {Type: graphql.String, DefaultValue: langEN, Description: "en or zh."},
				},
				Resolve: func(p graphql.ResolveParams) (any, error) {
					e, _ := p.Source.(readmodel.TimelineEntry)
					lang, _ := p.Args["lang"].(string)
					if lang != langEN && lang != langZH {
						return nil, Wrap(errs.E(errs.InvalidArgument, "argument lang: %q is not en or zh", lang))
					}
					s := describeIn(e.Record, lang)
					return &s, nil
				},
			},
			"trade": fieldOf(tradeT, "", func(e readmodel.TimelineEntry) any {
				if t, ok := tradeOf(e.Record.Payload); ok {
					return t
				}
				return nil
			}),
			"issuer":       fieldOf(graphql.String, "", func(e readmodel.TimelineEntry) any { return nilIfEmpty(e.Record.Meta.IssuerOrgID) }),
			"supersededBy": fieldOf(graphql.String, "Event id of the correction that supersedes this entry.", func(e readmodel.TimelineEntry) any { return nilIfEmpty(e.SupersededBy) }),
			"withdrawnBy":  fieldOf(graphql.String, "For an honour's conferral: event id of the withdrawal (HonourWithdrawn, in force, recorded by asOf) that took the honour back.", func(e readmodel.TimelineEntry) any { return nilIfEmpty(e.WithdrawnBy) }),
			"supersedes": fieldOf(graphql.String, "For a correction: the event id it supersedes.", func(e readmodel.TimelineEntry) any {
				if c, ok := e.Record.Payload.(events.EventCorrected); ok {
					return nilIfEmpty(c.SupersedesEventID)
				}
				return nil
			}),
			"evidence": fieldOf(graphql.NewNonNull(refT), "", func(e readmodel.TimelineEntry) any { return e.Record.Ref() }),
		},
	})
	timelineConn := b.ct.connection("TimelineEntry", entryT, nil)

	craftsmanT := graphql.NewObject(graphql.ObjectConfig{
		Name:        "Craftsman",
		Description: "A worker's lifelong record, as of the query's asOf.",
		Fields: withPersonal(b, "The craftsman was forgotten (PersonalDataErased, or the key destroyed): no personal data, as of any date; the ledger's history stays.",
			func(c *craftsmanNode) (*shownOnce, string, string) { return &c.shown, c.view().Name, c.view().Personal }, graphql.Fields{
				"id":           fieldOf(graphql.NewNonNull(graphql.ID), "", func(c *craftsmanNode) any { return c.id }),
				"region":       fieldOf(graphql.String, "", func(c *craftsmanNode) any { return nilIfEmpty(c.view().Region) }),
				"birthDate":    fieldOf(graphql.String, "", func(c *craftsmanNode) any { return nilIfEmpty(c.view().BirthDate) }),
				"asOf":         fieldOf(graphql.DateTime, "The moment this view was rebuilt for (null = live).", func(c *craftsmanNode) any { return dateOrNil(c.asOf) }),
				"employers":    fieldOf(graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(graphql.String))), "Current employer organisations.", func(c *craftsmanNode) any { return employersOf(c.view()) }),
				"trades":       fieldOf(graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(tradeLevelT))), "Trades with the current level in each.", func(c *craftsmanNode) any { return c.view().Trades }),
				"certificates": fieldOf(graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(certT))), "", func(c *craftsmanNode) any { return effective[events.SkillLevelCertified](c.view()) }),
				"training": {
					Type:        trainingSummaryT,
					Description: "Completed training, filterable by trade, mode and window (occurredAt), with totals.",
					Args: graphql.FieldConfigArgument{
						"trade": {Type: graphql.String}, "mode": {Type: graphql.String},
						"from": {Type: graphql.String, Description: "Date or time (inclusive)."}, "to": {Type: graphql.String, Description: "Date (inclusive) or time."},
					},
					Resolve: func(p graphql.ResolveParams) (any, error) {
						c, ok := p.Source.(*craftsmanNode)
						if !ok {
							return nil, Wrap(errs.E(errs.Internal, "training: source is %T", p.Source))
						}
						r, err := training(p, c.view())
						return r, Wrap(err)
					},
				},
				"competitions":            fieldOf(graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(compT))), "", func(c *craftsmanNode) any { return effective[events.CompetitionPlaced](c.view()) }),
				"honours":                 fieldOf(graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(honourT))), "Conferred honours, withdrawn ones marked.", func(c *craftsmanNode) any { return honours(c.view()) }),
				"innovations":             fieldOf(graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(innovT))), "", func(c *craftsmanNode) any { return effective[events.InnovationRecognised](c.view()) }),
				"mentorshipsAsMaster":     fieldOf(graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(mentorshipT))), "", func(c *craftsmanNode) any { return mentorships(c.view(), true) }),
				"mentorshipsAsApprentice": fieldOf(graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(mentorshipT))), "", func(c *craftsmanNode) any { return mentorships(c.view(), false) }),
				"timeline": {
					Type:        timelineConn,
					Description: "The growth timeline: every event in occurrence order, corrections included, filterable by kind.",
					Args:        pageArgs(graphql.FieldConfigArgument{"kinds": {Type: graphql.NewList(graphql.NewNonNull(graphql.String))}, "trade": {Type: graphql.String}}),
					Resolve: func(p graphql.ResolveParams) (any, error) {
						c, ok := p.Source.(*craftsmanNode)
						if !ok {
							return nil, Wrap(errs.E(errs.Internal, "timeline: source is %T", p.Source))
						}
						conn, err := b.timeline(p, c.view())
						return conn, Wrap(err)
					},
				},
			}),
	})
	b.careerFields(craftsmanT, levelT, refT)

	f["craftsman"] = &graphql.Field{
		Type:        graphql.NewNonNull(craftsmanT),
		Description: "One craftsman by id. Workers: only themselves; HR and issuers: craftsmen linked to their organisation (it registered them, employs or employed them, they enrolled or trained at its academy, or its HR approved (核准) one of their entitlements; retracted facts and other facts it recorded give no link); auditors and admins: anyone.",
		Args:        b.asOfArgs(graphql.FieldConfigArgument{"id": {Type: graphql.NewNonNull(graphql.ID)}}),
		Resolve: b.resolver(func(p graphql.ResolveParams) (any, error) {
			id, err := argRequiredString(p, "id")
			if err != nil {
				return nil, err
			}
			return b.loadCraftsman(p, id)
		}),
	}
	f["levels"] = &graphql.Field{
		Type:        graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(levelT))),
		Description: "The skill ladder (public).",
		Resolve: b.resolver(func(graphql.ResolveParams) (any, error) {
			var out []events.Level
			for _, li := range events.Ladder() {
				out = append(out, li.Rank)
			}
			return out, nil
		}),
	}
	b.catalogueFields(f, tradeT, levelT)
	b.populationFields(f, levelT)
	b.integrityFields(f)
}

// civilDate is t's date in the ledger's calendar (career.CivilDate);
// the zero time stays zero.
func civilDate(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return career.CivilDate(t)
}

func occurrenceOf(r events.Recorded) time.Time {
	if !r.Meta.OccurredAt.IsZero() {
		return r.Meta.OccurredAt
	}
	return r.RecordedAt
}

func employersOf(v *readmodel.View) []string {
	cur := map[string]string{}
	for _, r := range v.Effective {
		switch p := r.Payload.(type) {
		case events.EmploymentStarted:
			cur[p.EmploymentID] = p.EmployerOrgID
		case events.EmploymentEnded:
			delete(cur, p.EmploymentID)
		}
	}
	out := []string{}
	for _, o := range cur {
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	slices.Sort(out)
	return out
}

type trainingResult struct {
	hours, passedHours float64
	items              []rec[events.TrainingCompleted]
}

type yearHours struct {
	year, count int
	hours       float64
}

func (t *trainingResult) byYear() []yearHours {
	by := map[int]*yearHours{}
	for _, it := range t.items {
		y := career.CivilDate(occurrenceOf(it.r)).Year()
		if by[y] == nil {
			by[y] = &yearHours{year: y}
		}
		by[y].hours += it.p.Hours
		by[y].count++
	}
	out := make([]yearHours, 0, len(by))
	for _, y := range by {
		out = append(out, *y)
	}
	slices.SortFunc(out, func(a, b yearHours) int { return a.year - b.year })
	return out
}

func training(p graphql.ResolveParams, v *readmodel.View) (*trainingResult, error) {
	trade, _, err := argString(p, "trade")
	if err != nil {
		return nil, err
	}
	mode, _, err := argString(p, "mode")
	if err != nil {
		return nil, err
	}
	from, _, err := argTime(p, "from", false)
	if err != nil {
		return nil, err
	}
	to, _, err := argTime(p, "to", true)
	if err != nil {
		return nil, err
	}
	res := &trainingResult{items: []rec[events.TrainingCompleted]{}}
	for _, t := range effective[events.TrainingCompleted](v) {
		at := occurrenceOf(t.r)
		if (trade != "" && t.p.Trade.Code != trade) || (mode != "" && t.p.Mode != mode) ||
			(!from.IsZero() && at.Before(from)) || (!to.IsZero() && at.After(to)) {
			continue
		}
		res.items = append(res.items, t)
		res.hours += t.p.Hours
		if t.p.Passed {
			res.passedHours += t.p.Hours
		}
	}
	return res, nil
}

type honourItem struct {
	r         events.Recorded
	p         events.HonourConferred
	withdrawn *events.Recorded
}

func honours(v *readmodel.View) []*honourItem {
	out := []*honourItem{}
	byID := map[string]*honourItem{}
	for _, r := range v.Effective {
		switch p := r.Payload.(type) {
		case events.HonourConferred:
			h := &honourItem{r: r, p: p}
			byID[p.HonourID] = h
			out = append(out, h)
		case events.HonourWithdrawn:
			if h := byID[p.HonourID]; h != nil {
				w := r
				h.withdrawn = &w
			}
		}
	}
	return out
}

type mentorshipItem struct {
	id       string
	start    events.MentorshipStarted
	started  time.Time
	status   string
	sessions int
	hours    float64
	reached  *events.Level
}

func mentorships(v *readmodel.View, asMaster bool) []*mentorshipItem {
	byID := map[string]*mentorshipItem{}
	var order []string
	for _, r := range v.Effective {
		_, id, _ := events.SplitStream(r.Stream)
		if !strings.HasPrefix(r.Stream, events.CategoryMentorship+"-") {
			continue
		}
		m := byID[id]
		switch p := r.Payload.(type) {
		case events.MentorshipStarted:
			m = &mentorshipItem{id: id, start: p, started: occurrenceOf(r), status: "active"}
			byID[id] = m
			order = append(order, id)
		case events.MentorshipSessionLogged:
			if m != nil {
				m.sessions++
				m.hours += p.Hours
			}
		case events.MentorshipCompleted:
			if m != nil {
				m.status, m.reached = "completed", p.LevelReached
			}
		case events.MentorshipEndedEarly:
			if m != nil {
				m.status = "ended"
			}
		}
	}
	out := []*mentorshipItem{}
	for _, id := range order {
		m := byID[id]
		if (asMaster && m.start.MasterID == v.ID) || (!asMaster && m.start.ApprenticeID == v.ID) {
			out = append(out, m)
		}
	}
	return out
}

func (b *builder) timeline(p graphql.ResolveParams, v *readmodel.View) (*Connection, error) {
	kinds, err := argStrings(p, "kinds")
	if err != nil {
		return nil, err
	}
	known := readmodel.Kinds()
	for _, k := range kinds {
		if !slices.Contains(known, k) {
			return nil, errs.E(errs.InvalidArgument, "argument kinds: unknown kind %q (%s)", k, strings.Join(known, ", "))
		}
	}
	trade, _, err := argString(p, "trade")
	if err != nil {
		return nil, err
	}
	tl := v.Timeline()
	items := make([]readmodel.TimelineEntry, 0, len(tl))
	for _, e := range tl {
		if len(kinds) > 0 && !slices.Contains(kinds, e.Kind) {
			continue
		}
		if trade != "" {
			if t, ok := tradeOf(e.Record.Payload); !ok || t.Code != trade {
				continue
			}
		}
		items = append(items, e)
	}
	return sliceConnection(p, b.d.MaxPageSize, items)
}
