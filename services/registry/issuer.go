package registry

import "github.com/craftledger/craftledger/events"

// Issuer kinds, as the catalogue names them (events.IssuerKind*); kept
// here for callers that wrote registry.IssuerAcademy etc.
const (
	IssuerAcademy       = events.IssuerKindAcademy
	IssuerEmployer      = events.IssuerKindEmployer
	IssuerUnion         = events.IssuerKindUnion
	IssuerHRAuthority   = events.IssuerKindHRAuthority
	IssuerEvaluationOrg = events.IssuerKindEvaluationOrg
)

// IssuerKinds lists the valid issuer kinds.
func IssuerKinds() []string { return events.IssuerKinds() }
