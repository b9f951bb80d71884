package events

// Trade is a trade (工种), identified by its national occupation code
// (e.g. "6-31-01-03") with a display name.
type Trade struct {
	Code string `json:"code"`
	Name string `json:"name,omitempty"`
}

// ValidTradeCode reports whether code has the national occupation code
// shape `^\d-\d{2}-\d{2}-\d{2}$`.
func ValidTradeCode(code string) bool {
	if len(code) != 10 {
		return false
	}
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch i {
		case 1, 4, 7:
			if c != '-' {
				return false
			}
		default:
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return true
}

// ValidateTradeCode returns a *FieldError naming field when code is not an
// occupation code.
func ValidateTradeCode(field, code string) error {
	if code == "" {
		return fieldErr(field, "is required (occupation code like 6-31-01-03)")
	}
	if !ValidTradeCode(code) {
		return fieldErr(field, "unknown trade code %q (want occupation code like 6-31-01-03)", code)
	}
	return nil
}

// Validate checks the code (the name is optional).
func (t Trade) Validate() error { return ValidateTradeCode("code", t.Code) }
