package events

// Event type names of issuer organisations (the organisations that may
// record facts) and their users. The registry service writes them.
const (
	TypeIssuerRegistered = "IssuerRegistered.v1"
	TypeIssuerUserAdded  = "IssuerUserAdded.v1"
)

// Issuer kinds: who may record facts.
const (
	IssuerKindAcademy       = "academy"        // a craftsman academy (any of its three kinds)
	IssuerKindEmployer      = "employer"       // an enterprise recording employment and appointments
	IssuerKindUnion         = "union"          // a trade-union body conferring honours
	IssuerKindHRAuthority   = "hr_authority"   // a human-resources department approving entitlements
	IssuerKindEvaluationOrg = "evaluation_org" // a third-party skill evaluation organisation
)

// IssuerKinds lists the valid issuer kinds (a fresh slice each call).
func IssuerKinds() []string {
	return []string{IssuerKindAcademy, IssuerKindEmployer, IssuerKindUnion, IssuerKindHRAuthority, IssuerKindEvaluationOrg}
}

// Roles a user may hold in an issuer.
const (
	IssuerRoleIssuer = "issuer" // records the issuer's facts
	IssuerRoleHR     = "hr"     // approves entitlements
)

// IssuerRegistered opens an issuer organisation's stream.
type IssuerRegistered struct {
	IssuerID string `json:"issuerId"`
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Region   string `json:"region,omitempty"`
}

func (IssuerRegistered) EventType() string { return TypeIssuerRegistered }

func (e IssuerRegistered) Validate() error {
	return first(ValidID("issuerId", e.IssuerID), required("name", e.Name), oneOf("kind", e.Kind, IssuerKinds()...))
}

// IssuerUserAdded grants a user a role (issuer or hr) in an issuer.
type IssuerUserAdded struct {
	IssuerID    string `json:"issuerId"`
	UserID      string `json:"userId"`
	Role        string `json:"role"`
	DisplayName string `json:"displayName,omitempty"`
}

func (IssuerUserAdded) EventType() string { return TypeIssuerUserAdded }

func (e IssuerUserAdded) Validate() error {
	return first(ValidID("issuerId", e.IssuerID), ValidID("userId", e.UserID), oneOf("role", e.Role, IssuerRoleIssuer, IssuerRoleHR))
}
