package schema

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/graphql-go/graphql"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/graphql/readmodel"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// auditEvent is one raw event with what the read model knows about it.
type auditEvent struct {
	ev    eventstore.RecordedEvent
	meta  events.Metadata
	chain string
	// supersedes / supersededBy link corrections (nil: none, or not
	// recorded by the query's asOf).
	supersedes, supersededBy *readmodel.EventRef
}

// cursorBefore is the audit cursor whose page starts at p ("" when p is
// the first position there can be: no cursor needed).
func cursorBefore(p eventstore.Position) string {
	if p.IsStart() {
		return ""
	}
	return positionCursor(p.Before())
}

func positionCursor(p eventstore.Position) string {
	return base64.RawURLEncoding.EncodeToString([]byte("p:" + FormatPosition(p)))
}

func afterPosition(p graphql.ResolveParams) (*eventstore.Position, error) {
	s, ok, err := argString(p, "after")
	if err != nil || !ok {
		return nil, err
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	rest, found := strings.CutPrefix(string(raw), "p:")
	if err != nil || !found {
		return nil, errs.E(errs.InvalidArgument, "argument after: not a cursor of the audit log")
	}
	pos, err := ParsePosition(rest)
	if err != nil {
		return nil, errs.E(errs.InvalidArgument, "argument after: not a cursor of the audit log")
	}
	return &pos, nil
}

func jsonString(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	if !json.Valid(b) {
		return nil
	}
	return string(b)
}

func (b *builder) auditFields(f graphql.Fields) {
	refT := graphql.NewObject(graphql.ObjectConfig{
		Name:        "AuditRef",
		Description: "Where another event of the log is: what a correction supersedes, or the correction that superseded an event.",
		Fields: graphql.Fields{
			"id":    fieldOf(graphql.NewNonNull(graphql.ID), "Event id.", func(r *readmodel.EventRef) any { return r.ID }),
			"found": fieldOf(graphql.NewNonNull(graphql.Boolean), "False when only the id is known (not in the correction's stream).", func(r *readmodel.EventRef) any { return r.Found }),
			"stream": fieldOf(graphql.String, "", func(r *readmodel.EventRef) any {
				if !r.Found {
					return nil
				}
				return r.Stream
			}),
			"revision": fieldOf(graphql.Float, "", func(r *readmodel.EventRef) any {
				if !r.Found {
					return nil
				}
				return float64(r.Revision)
			}),
			"position": fieldOf(graphql.String, "$all position, commit/prepare.", func(r *readmodel.EventRef) any {
				if !r.Found {
					return nil
				}
				return FormatPosition(r.Position)
			}),
			"cursor": fieldOf(graphql.String, "The audit cursor (after) of the page that starts with this event; null when it is the first event there is, or not found.", func(r *readmodel.EventRef) any {
				if !r.Found {
					return nil
				}
				return nilIfEmpty(cursorBefore(r.Position))
			}),
		},
	})
	ev := graphql.NewObject(graphql.ObjectConfig{
		Name:        "AuditEvent",
		Description: "One event exactly as the store recorded it.",
		Fields: graphql.Fields{
			"stream":     fieldOf(graphql.NewNonNull(graphql.String), "", func(a *auditEvent) any { return a.ev.Stream }),
			"id":         fieldOf(graphql.NewNonNull(graphql.ID), "Event id (UUID).", func(a *auditEvent) any { return a.ev.ID }),
			"type":       fieldOf(graphql.NewNonNull(graphql.String), "Stored type name, with its version.", func(a *auditEvent) any { return a.ev.Type }),
			"revision":   fieldOf(graphql.NewNonNull(graphql.Float), "Revision in its stream (from 0).", func(a *auditEvent) any { return float64(a.ev.Revision) }),
			"position":   fieldOf(graphql.NewNonNull(graphql.String), "$all position, commit/prepare.", func(a *auditEvent) any { return FormatPosition(a.ev.Position) }),
			"recordedAt": fieldOf(graphql.NewNonNull(graphql.DateTime), "Record time assigned by the store.", func(a *auditEvent) any { return a.ev.Created }),
			"occurredAt": fieldOf(graphql.DateTime, "When it happened in the world (metadata).", func(a *auditEvent) any {
				if a.meta.OccurredAt.IsZero() {
					return nil
				}
				return a.meta.OccurredAt
			}),
			"issuer":        fieldOf(graphql.String, "Organisation on whose authority it was recorded.", func(a *auditEvent) any { return nilIfEmpty(a.meta.IssuerOrgID) }),
			"actingUser":    fieldOf(graphql.String, "User who issued the command.", func(a *auditEvent) any { return nilIfEmpty(a.meta.ActingUserID) }),
			"correlationId": fieldOf(graphql.String, "", func(a *auditEvent) any { return nilIfEmpty(a.meta.CorrelationID) }),
			"causationId":   fieldOf(graphql.String, "", func(a *auditEvent) any { return nilIfEmpty(a.meta.CausationID) }),
			"source":        fieldOf(graphql.String, "api, import (back-filled) or system.", func(a *auditEvent) any { return nilIfEmpty(a.meta.Source) }),
			"data":          fieldOf(graphql.String, "The event's data, JSON text byte for byte.", func(a *auditEvent) any { return jsonString(a.ev.Data) }),
			"metadata":      fieldOf(graphql.String, "The event's metadata, JSON text byte for byte.", func(a *auditEvent) any { return jsonString(a.ev.Metadata) }),
			"supersedes":    fieldOf(refT, "For a correction (EventCorrected): the event it supersedes.", func(a *auditEvent) any { return refOrNil(a.supersedes) }),
			"supersededBy":  fieldOf(refT, "The latest correction that supersedes this event (recorded by asOf).", func(a *auditEvent) any { return refOrNil(a.supersededBy) }),
			"chain":         fieldOf(graphql.NewNonNull(graphql.String), "Hash-chain status of this event: ok, broken (its hash or link to the previous event does not verify), unchained (no hash in its metadata).", func(a *auditEvent) any { return a.chain }),
		},
	})
	conn := b.ct.connection("AuditEvent", ev, nil)
	f["audit"] = &graphql.Field{
		Type:        graphql.NewNonNull(conn),
		Description: "Raw history of one stream, of a category, or of everything, in $all order, paginated by position. Auditors and admins only.",
		Args: viewArgs(pageArgs(graphql.FieldConfigArgument{
			"stream":   {Type: graphql.String, Description: "One stream, e.g. craftsman-42."},
			"category": {Type: graphql.String, Description: "craftsman, academy, competition, mentorship or policy."},
			"asOf":     {Type: graphql.String, Description: "Only events recorded by then."},
		})),
		Resolve: b.resolver(func(p graphql.ResolveParams) (any, error) {
			c, err := caller(p.Context)
			if err != nil {
				return nil, err
			}
			if !auth.CanAudit(c) {
				return nil, errs.E(errs.PermissionDenied, "audit history is for auditors and admins; role %s may not read it", c.Role)
			}
			q := readmodel.LogQuery{CountTotal: wantsField(p, "totalCount")}
			if q.Stream, _, err = argString(p, "stream"); err != nil {
				return nil, err
			}
			cat, _, err := argString(p, "category")
			if err != nil {
				return nil, err
			}
			if cat != "" {
				ok := false
				for _, pre := range readmodel.Prefixes() {
					if pre == cat+"-" {
						ok = true
					}
				}
				if !ok {
					return nil, errs.E(errs.InvalidArgument, "argument category: unknown category %q (craftsman, academy, competition, mentorship, policy)", cat)
				}
				q.Prefix = cat + "-"
			}
			if q.RecordedBy, _, err = argTime(p, "asOf", true); err != nil {
				return nil, err
			}
			if q.After, err = afterPosition(p); err != nil {
				return nil, err
			}
			if q.Limit, err = pageSize(p, b.d.MaxPageSize); err != nil {
				return nil, err
			}
			page := b.d.Model.Log(q)
			conn := &Connection{HasNext: page.HasMore, HasPrevious: q.After != nil, Total: page.Total}
			for _, e := range page.Events {
				a := &auditEvent{ev: e, chain: b.d.Model.ChainStatus(e.Stream, e.Revision)}
				a.supersedes, a.supersededBy = b.d.Model.Corrections(e.Stream, e.Revision, q.RecordedBy)
				_ = json.Unmarshal(e.Metadata, &a.meta) // undecodable metadata shows as nulls; data and metadata stay byte for byte
				conn.Edges = append(conn.Edges, Edge{Cursor: positionCursor(e.Position), Node: a})
			}
			return conn, nil
		}),
	}
}

// wantsField reports whether the selection of the field being resolved
// names a sub-field (so costly counts are computed only when asked).
func wantsField(p graphql.ResolveParams, name string) bool {
	for _, fa := range p.Info.FieldASTs {
		if fa.SelectionSet == nil {
			continue
		}
		for _, s := range fa.SelectionSet.Selections {
			if sf, ok := s.(*astField); ok && sf.Name != nil && sf.Name.Value == name {
				return true
			}
			if _, ok := s.(*astField); !ok {
				return true // fragments: be safe and count
			}
		}
	}
	return false
}

func refOrNil(r *readmodel.EventRef) any {
	if r == nil {
		return nil
	}
	return r
}
