package auth

import (
	"slices"
	"strings"

	"github.com/craftledger/craftledger/pkg/errs"
)

// Who may do what:
//
//	role     write                                   read
//	admin    everything, admin operations            everything
//	issuer   facts for its own organisation (OrgID)  craftsmen linked to its organisation
//	hr       facts for its own organisation (OrgID)  craftsmen linked to its organisation
//	auditor  nothing                                 everything, including audit history
//	worker   nothing                                 their own record (CraftsmanID)

// IsAdmin reports whether c is an admin.
func (c Claims) IsAdmin() bool { return c.Role == RoleAdmin }

// HasRole reports whether c has one of roles.
func (c Claims) HasRole(roles ...Role) bool { return slices.Contains(roles, c.Role) }

// RequireRole is nil when c has one of roles, else errs.PermissionDenied.
func (c Claims) RequireRole(roles ...Role) error {
	if c.HasRole(roles...) {
		return nil
	}
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	return errs.E(errs.PermissionDenied, "role %s may not do this (needs %s)", c.Role, strings.Join(names, " or "))
}

// CanWriteFor reports whether c may record facts on behalf of organisation
// orgID: admins always; issuers and hr only for their own organisation.
func CanWriteFor(c Claims, orgID string) bool {
	switch c.Role {
	case RoleAdmin:
		return true
	case RoleIssuer, RoleHR:
		return orgID != "" && c.OrgID == orgID
	}
	return false
}

// RequireWriteFor is CanWriteFor as an error (errs.PermissionDenied).
func RequireWriteFor(c Claims, orgID string) error {
	if CanWriteFor(c, orgID) {
		return nil
	}
	if c.Role == RoleIssuer || c.Role == RoleHR {
		return errs.E(errs.PermissionDenied, "%s %s of organisation %s may not write for organisation %s", c.Role, c.Subject, c.OrgID, orgID)
	}
	return errs.E(errs.PermissionDenied, "role %s may not write", c.Role)
}

// CanRead reports whether c may read the record of craftsman craftsmanID,
// who is linked to organisations orgIDs (employer, academies): admins and
// auditors always; a worker only their own; hr and issuers when their
// organisation is among orgIDs.
func CanRead(c Claims, craftsmanID string, orgIDs ...string) bool {
	switch c.Role {
	case RoleAdmin, RoleAuditor:
		return true
	case RoleWorker:
		return craftsmanID != "" && c.CraftsmanID == craftsmanID
	case RoleHR, RoleIssuer:
		return c.OrgID != "" && slices.Contains(orgIDs, c.OrgID)
	}
	return false
}

// RequireRead is CanRead as an error (errs.PermissionDenied).
func RequireRead(c Claims, craftsmanID string, orgIDs ...string) error {
	if CanRead(c, craftsmanID, orgIDs...) {
		return nil
	}
	return errs.E(errs.PermissionDenied, "%s %s may not read craftsman %s", c.Role, c.Subject, craftsmanID)
}

// CanAudit reports whether c may read raw audit history (auditors, admins).
func CanAudit(c Claims) bool { return c.Role == RoleAuditor || c.Role == RoleAdmin }
