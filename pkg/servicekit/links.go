package servicekit

import (
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/errs"
)

// Links are the organisations linked to a craftsman, the ones whose
// issuers may record a fact about the craftsman that names no organisation
// of their own (a graduation, a title, an enterprise or academy honour, an
// innovation): the organisation that registered the craftsman, a current
// employer (an employment started and not ended), and an academy the
// craftsman is enrolled at (docs/services.md, "Who may write what"). Each
// service folds them from the craftsman's stream its own way.
type Links struct {
	Registrar string
	Employers []string
	Academies []string
}

// Allow reports whether c may write as linked: an admin, or an issuer of
// one of the linked organisations.
func (l Links) Allow(c auth.Claims) bool {
	if c.IsAdmin() || auth.CanWriteFor(c, l.Registrar) {
		return true
	}
	for _, orgs := range [][]string{l.Employers, l.Academies} {
		for _, org := range orgs {
			if auth.CanWriteFor(c, org) {
				return true
			}
		}
	}
	return false
}

// Require is Allow as an error: 403 PERMISSION_DENIED naming the caller's
// organisation and the craftsman.
func (l Links) Require(c auth.Claims, craftsmanID string) error {
	if l.Allow(c) {
		return nil
	}
	return errs.E(errs.PermissionDenied, "organisation %s has no link to craftsman %s (registered, employs or enrolled them)", c.OrgID, craftsmanID)
}
