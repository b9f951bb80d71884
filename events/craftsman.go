package events

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// Event type names of a worker's registration, work and education.
const (
	TypeCraftsmanRegistered       = "CraftsmanRegistered.v1"
	TypeCraftsmanProfileChanged   = "CraftsmanProfileChanged.v1"
	TypeTradeEntered              = "TradeEntered.v1"
	TypeEmploymentStarted         = "EmploymentStarted.v1"
	TypeEmploymentEnded           = "EmploymentEnded.v1"
	TypeGraduated                 = "Graduated.v1"
	TypeProfessionalTitleObtained = "ProfessionalTitleObtained.v1"
)

// Personal is a worker's personal information under PIPL. A registry with
// a keyring (pkg/keyring: the all-in-one's <data>/keys, or
// --personal-keys-dir) seals it (SealedPersonal) under a per-worker key;
// destroying the key forgets the worker (crypto-shredding). The clear form
// is what a writer without a keyring records, and what tests use.
type Personal struct {
	Name  string `json:"name" personal:"true"`
	Phone string `json:"phone,omitempty" personal:"true"`
	Email string `json:"email,omitempty" personal:"true"`
}

// SealedPersonal is Personal encrypted under the worker's key. KeyID names
// the key in the key store; Alg is e.g. "A256GCM"; Nonce and Ciphertext are
// base64 (standard encoding).
type SealedPersonal struct {
	KeyID      string `json:"keyId"`
	Alg        string `json:"alg"`
	Nonce      string `json:"nonce"`
	Ciphertext string `json:"ciphertext"`
}

func (s *SealedPersonal) validate(field string) error {
	return first(required(field+".keyId", s.KeyID), required(field+".alg", s.Alg), required(field+".ciphertext", s.Ciphertext))
}

// HashNationalID returns the keyed hash (HMAC-SHA256, lower-case hex) under
// which a national ID number is stored; the number itself never is.
func HashNationalID(key []byte, nationalID string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(strings.ToUpper(strings.TrimSpace(nationalID))))
	return hex.EncodeToString(m.Sum(nil))
}

func validHash(field, h string, needed bool) error {
	if h == "" {
		if needed {
			return fieldErr(field, "is required")
		}
		return nil
	}
	if len(h) != 64 {
		return fieldErr(field, "must be 64 hex characters (HMAC-SHA256), never the clear number")
	}
	if _, err := hex.DecodeString(h); err != nil {
		return fieldErr(field, "must be 64 hex characters (HMAC-SHA256), never the clear number")
	}
	return nil
}

const dateLayout = "2006-01-02"

func validDate(field, d string, needed bool) error {
	if d == "" {
		if needed {
			return fieldErr(field, "is required (YYYY-MM-DD)")
		}
		return nil
	}
	if _, err := time.Parse(dateLayout, d); err != nil {
		return fieldErr(field, "%q is not a date (YYYY-MM-DD)", d)
	}
	return nil
}

func notAfter(field, d string, now time.Time) error {
	t, err := time.Parse(dateLayout, d)
	if err == nil && t.After(now) {
		return fieldErr(field, "%s is in the future", d)
	}
	return nil
}

func validPersonal(p *Personal, s *SealedPersonal, needed bool) error {
	switch {
	case p != nil && s != nil:
		return fieldErr("personal", "give either personal or sealedPersonal, not both")
	case p != nil:
		return required("personal.name", p.Name)
	case s != nil:
		return s.validate("sealedPersonal")
	case needed:
		return fieldErr("sealedPersonal", "is required (or personal in demo data)")
	}
	return nil
}

// CraftsmanRegistered opens a worker's ledger (craftsman-<id>).
type CraftsmanRegistered struct {
	CraftsmanID string `json:"craftsmanId"`
	// NationalIDHash is HashNationalID of the ID number under the deployment's key.
	NationalIDHash string          `json:"nationalIdHash"`
	BirthDate      string          `json:"birthDate,omitempty"` // YYYY-MM-DD
	Region         string          `json:"region,omitempty"`    // administrative division code or name
	Personal       *Personal       `json:"personal,omitempty"`
	SealedPersonal *SealedPersonal `json:"sealedPersonal,omitempty"`
}

func (CraftsmanRegistered) EventType() string { return TypeCraftsmanRegistered }

func (e CraftsmanRegistered) Validate() error {
	return first(ValidID("craftsmanId", e.CraftsmanID), validHash("nationalIdHash", e.NationalIDHash, true),
		validDate("birthDate", e.BirthDate, false), validPersonal(e.Personal, e.SealedPersonal, true))
}

func (e CraftsmanRegistered) ValidateAt(now time.Time) error {
	return notAfter("birthDate", e.BirthDate, now)
}

// CraftsmanProfileChanged replaces the profile fields that are set.
type CraftsmanProfileChanged struct {
	CraftsmanID    string          `json:"craftsmanId"`
	NationalIDHash string          `json:"nationalIdHash,omitempty"`
	BirthDate      string          `json:"birthDate,omitempty"`
	Region         string          `json:"region,omitempty"`
	Personal       *Personal       `json:"personal,omitempty"`
	SealedPersonal *SealedPersonal `json:"sealedPersonal,omitempty"`
}

func (CraftsmanProfileChanged) EventType() string { return TypeCraftsmanProfileChanged }

func (e CraftsmanProfileChanged) Validate() error {
	if err := first(ValidID("craftsmanId", e.CraftsmanID), validHash("nationalIdHash", e.NationalIDHash, false),
		validDate("birthDate", e.BirthDate, false), validPersonal(e.Personal, e.SealedPersonal, false)); err != nil {
		return err
	}
	if e.NationalIDHash == "" && e.BirthDate == "" && e.Region == "" && e.Personal == nil && e.SealedPersonal == nil {
		return fieldErr("", "no profile field changes")
	}
	return nil
}

func (e CraftsmanProfileChanged) ValidateAt(now time.Time) error {
	return notAfter("birthDate", e.BirthDate, now)
}

// TradeEntered records that a worker works (or is about to work) in a trade.
type TradeEntered struct {
	CraftsmanID string `json:"craftsmanId"`
	Trade       Trade  `json:"trade"`
}

func (TradeEntered) EventType() string { return TypeTradeEntered }

func (e TradeEntered) Validate() error {
	return first(ValidID("craftsmanId", e.CraftsmanID), Prefix("trade", e.Trade.Validate()))
}

// EmploymentStarted opens an employment period in a trade; occurredAt is
// its first day. Years of work in a trade are the union of these periods.
type EmploymentStarted struct {
	CraftsmanID   string `json:"craftsmanId"`
	EmploymentID  string `json:"employmentId"`
	EmployerOrgID string `json:"employerOrgId"`
	EmployerName  string `json:"employerName,omitempty"`
	Trade         Trade  `json:"trade"`
	Position      string `json:"position,omitempty"`
}

func (EmploymentStarted) EventType() string { return TypeEmploymentStarted }

func (e EmploymentStarted) Validate() error {
	return first(ValidID("craftsmanId", e.CraftsmanID), ValidID("employmentId", e.EmploymentID),
		required("employerOrgId", e.EmployerOrgID), Prefix("trade", e.Trade.Validate()))
}

// EmploymentEnded closes an employment period; occurredAt is its end.
type EmploymentEnded struct {
	CraftsmanID  string `json:"craftsmanId"`
	EmploymentID string `json:"employmentId"`
	Reason       string `json:"reason,omitempty"`
}

func (EmploymentEnded) EventType() string { return TypeEmploymentEnded }

func (e EmploymentEnded) Validate() error {
	return first(ValidID("craftsmanId", e.CraftsmanID), ValidID("employmentId", e.EmploymentID))
}

// School kinds for Graduated.SchoolKind.
const (
	SchoolTechnical           = "technical_school"        // 技工学校
	SchoolSeniorTechnical     = "senior_technical_school" // 高级技工学校
	SchoolTechnicianCollege   = "technician_college"      // 技师学院
	SchoolSecondaryVocational = "secondary_vocational"    // 中等职业学校
	SchoolHigherVocational    = "higher_vocational"       // 高等职业学校
	SchoolCollege             = "college"                 // 大专
	SchoolUniversity          = "university"              // 本科及以上
)

// SchoolKinds lists the school kinds in order.
var schoolKinds = []string{SchoolTechnical, SchoolSeniorTechnical, SchoolTechnicianCollege, SchoolSecondaryVocational, SchoolHigherVocational, SchoolCollege, SchoolUniversity}

// SchoolKinds returns the valid school kinds.
func SchoolKinds() []string { return append([]string(nil), schoolKinds...) }

// Graduated records a graduation (occurredAt = graduation date) or, with
// FinalYear, a final-year student about to graduate (who counts as a
// graduate for eligibility).
type Graduated struct {
	CraftsmanID string `json:"craftsmanId"`
	SchoolKind  string `json:"schoolKind"`
	SchoolName  string `json:"schoolName,omitempty"`
	Speciality  string `json:"speciality"`
	// Trade is the trade the speciality trains for.
	Trade Trade `json:"trade"`
	// ProgrammeTarget is the skill level the programme targets (e.g. a
	// vocational programme targeting intermediate skills); omitted = none.
	ProgrammeTarget *Level `json:"programmeTarget,omitempty"`
	// SeniorClass marks a technical school's senior class (高级班) or above.
	SeniorClass bool `json:"seniorClass,omitempty"`
	// PreparatoryTechnician marks a technician college's preparatory-technician (预备技师) certificate.
	PreparatoryTechnician bool `json:"preparatoryTechnician,omitempty"`
	FinalYear             bool `json:"finalYear,omitempty"`
}

func (Graduated) EventType() string { return TypeGraduated }

func (e Graduated) Validate() error {
	if err := first(ValidID("craftsmanId", e.CraftsmanID), oneOf("schoolKind", e.SchoolKind, schoolKinds...),
		required("speciality", e.Speciality), Prefix("trade", e.Trade.Validate())); err != nil {
		return err
	}
	if e.ProgrammeTarget != nil {
		if err := validCertLevel("programmeTarget", *e.ProgrammeTarget); err != nil {
			return err
		}
	}
	if e.PreparatoryTechnician && e.SchoolKind != SchoolTechnicianCollege {
		return fieldErr("preparatoryTechnician", "only a technician_college issues preparatory-technician certificates")
	}
	return nil
}

// Professional title tiers (职称).
const (
	TitleJunior       = "junior"       // 初级职称
	TitleIntermediate = "intermediate" // 中级职称
	TitleSenior       = "senior"       // 高级职称 (deputy and full)
)

// ProfessionalTitleObtained records a professional title (occurredAt = award date).
type ProfessionalTitleObtained struct {
	CraftsmanID       string `json:"craftsmanId"`
	Tier              string `json:"tier"`
	Title             string `json:"title"`            // e.g. 助理工程师
	Series            string `json:"series,omitempty"` // e.g. 工程
	Trade             Trade  `json:"trade"`            // the trade the title relates to
	AwardingOrg       string `json:"awardingOrg,omitempty"`
	CertificateNumber string `json:"certificateNumber,omitempty"`
}

func (ProfessionalTitleObtained) EventType() string { return TypeProfessionalTitleObtained }

func (e ProfessionalTitleObtained) Validate() error {
	return first(ValidID("craftsmanId", e.CraftsmanID), oneOf("tier", e.Tier, TitleJunior, TitleIntermediate, TitleSenior),
		required("title", e.Title), Prefix("trade", e.Trade.Validate()))
}
