package registry

import (
	"fmt"
	"slices"

	"github.com/craftledger/craftledger/events"
)

// Issuer events. The shared catalogue (events/) has no issuer events yet, so
// the registry defines these two here, in the catalogue's style (explicit
// versioned type names, self-validating payloads, events.FieldError); they
// belong in events/ and should move there.
const (
	TypeIssuerRegistered = "IssuerRegistered.v1"
	TypeIssuerUserAdded  = "IssuerUserAdded.v1"
)

// CategoryIssuer is the stream category of issuers: "issuer-<id>".
const CategoryIssuer = "issuer"

// IssuerStream is an issuer organisation's stream.
func IssuerStream(id string) string { return CategoryIssuer + "-" + id }

// Issuer kinds: who may record facts.
const (
	IssuerAcademy       = "academy"        // a craftsman academy (any of its three kinds)
	IssuerEmployer      = "employer"       // an enterprise recording employment and appointments
	IssuerUnion         = "union"          // a trade-union body conferring honours
	IssuerHRAuthority   = "hr_authority"   // a human-resources department approving entitlements
	IssuerEvaluationOrg = "evaluation_org" // a third-party skill evaluation organisation
)

var issuerKinds = []string{IssuerAcademy, IssuerEmployer, IssuerUnion, IssuerHRAuthority, IssuerEvaluationOrg}

// IssuerKinds lists the valid issuer kinds.
func IssuerKinds() []string { return slices.Clone(issuerKinds) }

// IssuerRegistered opens an issuer organisation's stream.
type IssuerRegistered struct {
	IssuerID string `json:"issuerId"`
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Region   string `json:"region,omitempty"`
}

func (IssuerRegistered) EventType() string { return TypeIssuerRegistered }

func (e IssuerRegistered) Validate() error {
	if err := events.ValidID("issuerId", e.IssuerID); err != nil {
		return err
	}
	if e.Name == "" {
		return &events.FieldError{Field: "name", Message: "is required"}
	}
	if !slices.Contains(issuerKinds, e.Kind) {
		return &events.FieldError{Field: "kind", Message: fmt.Sprintf("%q is not one of %v", e.Kind, issuerKinds)}
	}
	return nil
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
	if err := events.ValidID("issuerId", e.IssuerID); err != nil {
		return err
	}
	if err := events.ValidID("userId", e.UserID); err != nil {
		return err
	}
	if e.Role != "issuer" && e.Role != "hr" {
		return &events.FieldError{Field: "role", Message: fmt.Sprintf("%q is not one of [issuer hr]", e.Role)}
	}
	return nil
}
