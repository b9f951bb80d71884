package events

// Event type names of levels, certificates, entitlements and appointments.
const (
	TypeSkillLevelCertified = "SkillLevelCertified.v2"
	// TypeSkillLevelCertifiedV1 is the first version: the level as a
	// national grade number (5..1), no family (always a vocational
	// qualification), issuer without kind. Decoding upgrades it.
	TypeSkillLevelCertifiedV1        = "SkillLevelCertified.v1"
	TypePromotionEntitlementGranted  = "PromotionEntitlementGranted.v1"
	TypePromotionEntitlementApproved = "PromotionEntitlementApproved.v1"
	TypeUpperGradeAppointed          = "UpperGradeAppointed.v1"
)

// Certificate families.
const (
	FamilySkillLevel              = "skill_level"              // 职业技能等级证书
	FamilyVocationalQualification = "vocational_qualification" // 职业资格证书
)

// Issuing organisation kinds.
const (
	IssuerRegisteredEmployer = "registered_employer" // 备案用人单位
	IssuerThirdParty         = "third_party"         // 社会培训评价组织
	IssuerDesignatedBody     = "designated_body"     // 指定机构 (e.g. HR department)
	IssuerEnterprise         = "enterprise_appointment"
)

// Certification routes.
const (
	RouteRegular     = "regular"
	RouteExceptional = "exceptional" // 破格: through an approved entitlement
)

// Org is an organisation with a kind.
type Org struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	Kind string `json:"kind,omitempty"`
}

// SkillLevelCertified records a certificate (occurredAt = issue date).
type SkillLevelCertified struct {
	CraftsmanID       string `json:"craftsmanId"`
	Trade             Trade  `json:"trade"`
	Level             Level  `json:"level"`
	CertificateNumber string `json:"certificateNumber"`
	Family            string `json:"family"`
	EvaluatingOrgID   string `json:"evaluatingOrgId"`
	IssuingOrg        Org    `json:"issuingOrg"`
	Route             string `json:"route"`
	// EntitlementID names the approved entitlement an exceptional route uses.
	EntitlementID string `json:"entitlementId,omitempty"`
}

func (SkillLevelCertified) EventType() string { return TypeSkillLevelCertified }

func (e SkillLevelCertified) Validate() error {
	if err := first(ValidID("craftsmanId", e.CraftsmanID), Prefix("trade", e.Trade.Validate()),
		validCertLevel("level", e.Level), required("certificateNumber", e.CertificateNumber),
		oneOf("family", e.Family, FamilySkillLevel, FamilyVocationalQualification),
		required("evaluatingOrgId", e.EvaluatingOrgID), required("issuingOrg.id", e.IssuingOrg.ID),
		oneOf("issuingOrg.kind", e.IssuingOrg.Kind, IssuerRegisteredEmployer, IssuerThirdParty, IssuerDesignatedBody, IssuerEnterprise),
		oneOf("route", e.Route, RouteRegular, RouteExceptional)); err != nil {
		return err
	}
	if e.Route == RouteExceptional && e.EntitlementID == "" {
		return fieldErr("entitlementId", "is required for the exceptional route")
	}
	if len(e.CertificateNumber) > 64 {
		return fieldErr("certificateNumber", "is longer than 64 characters")
	}
	return nil
}

// SkillLevelCertifiedV1 is the stored shape of SkillLevelCertified.v1.
type SkillLevelCertifiedV1 struct {
	CraftsmanID       string `json:"craftsmanId"`
	TradeCode         string `json:"tradeCode"`
	TradeName         string `json:"tradeName,omitempty"`
	Grade             int    `json:"grade"` // national grade 5..1
	CertificateNumber string `json:"certificateNumber"`
	IssuingOrgID      string `json:"issuingOrgId"`
}

// Upgrade turns a v1 record into the current version: a vocational
// qualification of a designated body, evaluated by its issuer, regular route.
func (v SkillLevelCertifiedV1) Upgrade() (SkillLevelCertified, error) {
	l, err := LevelFromGrade(v.Grade)
	if err != nil {
		return SkillLevelCertified{}, err
	}
	return SkillLevelCertified{CraftsmanID: v.CraftsmanID, Trade: Trade{Code: v.TradeCode, Name: v.TradeName}, Level: l,
		CertificateNumber: v.CertificateNumber, Family: FamilyVocationalQualification, EvaluatingOrgID: v.IssuingOrgID,
		IssuingOrg: Org{ID: v.IssuingOrgID, Kind: IssuerDesignatedBody}, Route: RouteRegular}, nil
}

// Entitlement sources.
const (
	SourceCompetition = "competition"
	SourcePolicy      = "policy" // e.g. an exceptional promotion by an academy's rule
)

// EntitlementSource says what created an entitlement.
type EntitlementSource struct {
	Kind          string `json:"kind"`
	CompetitionID string `json:"competitionId,omitempty"`
	PlacementID   string `json:"placementId,omitempty"`
	RuleID        string `json:"ruleId,omitempty"`
	Note          string `json:"note,omitempty"`
}

// PromotionEntitlementGranted records a right to be certified at a level
// without the regular conditions (e.g. from a competition placement). It
// becomes a level only through approval and certification.
type PromotionEntitlementGranted struct {
	CraftsmanID      string            `json:"craftsmanId"`
	EntitlementID    string            `json:"entitlementId"`
	Trade            Trade             `json:"trade"`
	Level            Level             `json:"level"`
	Source           EntitlementSource `json:"source"`
	RequiresApproval bool              `json:"requiresApproval"`
}

func (PromotionEntitlementGranted) EventType() string { return TypePromotionEntitlementGranted }

func (e PromotionEntitlementGranted) Validate() error {
	if err := first(ValidID("craftsmanId", e.CraftsmanID), ValidID("entitlementId", e.EntitlementID),
		Prefix("trade", e.Trade.Validate()), validCertLevel("level", e.Level),
		oneOf("source.kind", e.Source.Kind, SourceCompetition, SourcePolicy)); err != nil {
		return err
	}
	if e.Source.Kind == SourceCompetition {
		return first(required("source.competitionId", e.Source.CompetitionID), required("source.placementId", e.Source.PlacementID))
	}
	return nil
}

// PromotionEntitlementApproved records the human-resources department's
// approval (核准) of an entitlement.
type PromotionEntitlementApproved struct {
	CraftsmanID    string `json:"craftsmanId"`
	EntitlementID  string `json:"entitlementId"`
	ApprovalRef    string `json:"approvalRef"`
	ApprovingOrgID string `json:"approvingOrgId"`
}

func (PromotionEntitlementApproved) EventType() string { return TypePromotionEntitlementApproved }

func (e PromotionEntitlementApproved) Validate() error {
	return first(ValidID("craftsmanId", e.CraftsmanID), ValidID("entitlementId", e.EntitlementID),
		required("approvalRef", e.ApprovalRef), required("approvingOrgId", e.ApprovingOrgID))
}

// UpperGradeAppointed records an appointment to principal or chief
// technician by an enterprise (occurredAt = appointment date).
type UpperGradeAppointed struct {
	CraftsmanID   string `json:"craftsmanId"`
	Trade         Trade  `json:"trade"`
	Grade         Level  `json:"grade"`
	EmployerOrgID string `json:"employerOrgId"`
	ApprovalRef   string `json:"approvalRef"`
	PolicyName    string `json:"policyName,omitempty"`
	PolicyVersion int    `json:"policyVersion,omitempty"`
}

func (UpperGradeAppointed) EventType() string { return TypeUpperGradeAppointed }

func (e UpperGradeAppointed) Validate() error {
	if err := first(ValidID("craftsmanId", e.CraftsmanID), Prefix("trade", e.Trade.Validate())); err != nil {
		return err
	}
	if !e.Grade.UpperGrade() {
		return fieldErr("grade", "must be principal_technician or chief_technician")
	}
	return first(required("employerOrgId", e.EmployerOrgID), required("approvalRef", e.ApprovalRef))
}
