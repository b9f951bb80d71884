package events

// TypeNationalIDReserved records that a national ID number (as its keyed
// hash) is, or is being, registered to a craftsman. KurrentDB has no
// multi-stream transaction, so the registry keeps a number to one
// craftsman with a reservation stream per hash, written before the
// registration.
const TypeNationalIDReserved = "NationalIDReserved.v1"

// NationalIDReserved claims a national ID hash for a craftsman.
type NationalIDReserved struct {
	NationalIDHash string `json:"nationalIdHash"`
	CraftsmanID    string `json:"craftsmanId"`
}

func (NationalIDReserved) EventType() string { return TypeNationalIDReserved }

func (e NationalIDReserved) Validate() error {
	return first(validHash("nationalIdHash", e.NationalIDHash, true), ValidID("craftsmanId", e.CraftsmanID))
}
