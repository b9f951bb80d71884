package auth

import "time"

// Development identities: `make run` seeds demo data with these ids and
// prints a token for each role (see DevTokens and docs/platform.md).
const (
	DevAcademyID   = "academy-dev"
	DevEmployerID  = "employer-dev"
	DevCraftsmanID = "craftsman-dev"
)

// DevClaims are one demo caller per role, in Roles() order.
func DevClaims() []Claims {
	return []Claims{
		{Subject: "dev-worker", Role: RoleWorker, CraftsmanID: DevCraftsmanID},
		{Subject: "dev-hr", Role: RoleHR, OrgID: DevEmployerID},
		{Subject: "dev-issuer", Role: RoleIssuer, OrgID: DevAcademyID},
		{Subject: "dev-auditor", Role: RoleAuditor},
		{Subject: "dev-admin", Role: RoleAdmin},
	}
}

// DevToken is a minted demo token.
type DevToken struct {
	Claims Claims
	Token  string
}

// DevTokens mints a token for each of claims (DevClaims() when nil) under
// key, valid for ttl.
func DevTokens(key Key, ttl time.Duration, claims []Claims) ([]DevToken, error) {
	if claims == nil {
		claims = DevClaims()
	}
	out := make([]DevToken, 0, len(claims))
	now := time.Now()
	for _, c := range claims {
		tok, err := MintAt(key, c, now, ttl)
		if err != nil {
			return nil, err
		}
		c.IssuedAt = time.Unix(now.Unix(), 0)
		c.ExpiresAt = time.Unix(now.Add(ttl).Unix(), 0)
		out = append(out, DevToken{Claims: c, Token: tok})
	}
	return out, nil
}
