package events

// TypePersonalDataErased records that a craftsman's personal information
// was erased: the key that sealed it was destroyed (crypto-shredding), so
// the SealedPersonal fields in the log can no longer be opened.
const TypePersonalDataErased = "PersonalDataErased.v1"

// PersonalDataErased is the auditable record of a forgetting (PIPL's right
// to erasure). The career fold marks the craftsman erased and drops their
// personal fields from then on.
type PersonalDataErased struct {
	CraftsmanID string `json:"craftsmanId"`
	Reason      string `json:"reason"`
}

func (PersonalDataErased) EventType() string { return TypePersonalDataErased }

func (e PersonalDataErased) Validate() error {
	return first(ValidID("craftsmanId", e.CraftsmanID), required("reason", e.Reason))
}
