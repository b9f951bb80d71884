package registry

import (
	"encoding/json"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
)

// The small states the registry's decisions need, folded from a stream.

type employment struct {
	employer string
	started  time.Time
	ended    bool
}

type craftsman struct {
	registered     bool
	registrar      string // organisation that registered the craftsman (issuerOrgId)
	nationalIDHash string
	clearPersonal  bool // personal data was recorded in clear
	erased         bool
	trades         map[string]bool
	employments    map[string]employment
}

func decode(e command.History, i int, v any) error {
	r := e.Events[i]
	if err := json.Unmarshal(r.Data, v); err != nil {
		return errs.E(errs.Internal, "decode %s@%d (%s): %v", r.Stream, r.Revision, r.Type, err)
	}
	return nil
}

// foldCraftsman folds the craftsman's facts as corrected (a retracted
// employment is no employment; a corrected one counts as corrected).
func foldCraftsman(h command.History) (craftsman, error) {
	st := craftsman{trades: map[string]bool{}, employments: map[string]employment{}}
	evs, err := command.Corrected(h, events.TypeEventCorrected)
	if err != nil {
		return st, err
	}
	h.Events = evs
	for i, r := range h.Events {
		switch r.Type {
		case events.TypeCraftsmanRegistered:
			var p events.CraftsmanRegistered
			if err := decode(h, i, &p); err != nil {
				return st, err
			}
			st.registered, st.nationalIDHash = true, p.NationalIDHash
			if m, err := command.DecodeMetadata(r.Metadata); err == nil {
				st.registrar = m.IssuerOrgID
			}
			st.personal(p.Personal)
		case events.TypeCraftsmanProfileChanged:
			var p events.CraftsmanProfileChanged
			if err := decode(h, i, &p); err != nil {
				return st, err
			}
			if p.NationalIDHash != "" {
				st.nationalIDHash = p.NationalIDHash
			}
			st.personal(p.Personal)
		case events.TypePersonalDataErased:
			st.erased = true
		case events.TypeTradeEntered:
			var p events.TradeEntered
			if err := decode(h, i, &p); err != nil {
				return st, err
			}
			st.trades[p.Trade.Code] = true
		case events.TypeEmploymentStarted:
			var p events.EmploymentStarted
			if err := decode(h, i, &p); err != nil {
				return st, err
			}
			m, _ := command.DecodeMetadata(r.Metadata)
			st.employments[p.EmploymentID] = employment{employer: p.EmployerOrgID, started: m.OccurredAt}
		case events.TypeEmploymentEnded:
			var p events.EmploymentEnded
			if err := decode(h, i, &p); err != nil {
				return st, err
			}
			e := st.employments[p.EmploymentID]
			e.ended = true
			st.employments[p.EmploymentID] = e
		}
	}
	return st, nil
}

type academy struct {
	registered bool
	courses    map[string]bool
}

func foldAcademy(h command.History) (academy, error) {
	st := academy{courses: map[string]bool{}}
	for i, r := range h.Events {
		switch r.Type {
		case events.TypeAcademyRegistered:
			st.registered = true
		case events.TypeCourseAdded:
			var p events.CourseAdded
			if err := decode(h, i, &p); err != nil {
				return st, err
			}
			st.courses[p.CourseID] = true
		}
	}
	return st, nil
}

type issuer struct {
	registered bool
	users      map[string]string // user id -> role
}

func foldIssuer(h command.History) (issuer, error) {
	st := issuer{users: map[string]string{}}
	for i, r := range h.Events {
		switch r.Type {
		case events.TypeIssuerRegistered:
			st.registered = true
		case events.TypeIssuerUserAdded:
			var p events.IssuerUserAdded
			if err := decode(h, i, &p); err != nil {
				return st, err
			}
			st.users[p.UserID] = p.Role
		}
	}
	return st, nil
}

func (st *craftsman) personal(clear *events.Personal) {
	if clear != nil {
		st.clearPersonal = true
	}
}

// mayChangeProfile reports whether c may change the craftsman's profile
// (personal data, national ID, birth date, region): an admin, or an issuer
// of the organisation that registered the craftsman. An employer may not:
// any issuer can record an employment for its own organisation, so an
// employment is no proof of the right to rename someone.
func (st craftsman) mayChangeProfile(c auth.Claims) bool {
	return c.IsAdmin() || auth.CanWriteFor(c, st.registrar)
}

// requireProfileOwner is mayChangeProfile as an error (403).
func (st craftsman) requireProfileOwner(c auth.Claims, id string) error {
	if st.mayChangeProfile(c) {
		return nil
	}
	return errs.E(errs.PermissionDenied, "only the organisation that registered craftsman %s, or an admin, may change their personal data, national ID, birth date or region; organisation %s did not register them", id, c.OrgID)
}

// mayEnterTrade reports whether c may record a trade the craftsman
// entered: an admin, or an issuer of the organisation that registered the
// craftsman or of a current employer (an open employment).
func (st craftsman) mayEnterTrade(c auth.Claims) bool {
	if st.mayChangeProfile(c) {
		return true
	}
	for _, e := range st.employments {
		if !e.ended && auth.CanWriteFor(c, e.employer) {
			return true
		}
	}
	return false
}

// requireTradeWriter is mayEnterTrade as an error (403).
func (st craftsman) requireTradeWriter(c auth.Claims, id string) error {
	if st.mayEnterTrade(c) {
		return nil
	}
	return errs.E(errs.PermissionDenied, "organisation %s neither registered craftsman %s nor employs them", c.OrgID, id)
}
