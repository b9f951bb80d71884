package readmodel

import "testing"

// parseUUID takes canonical lower-case UUIDs only, and formatUUID gives
// back the same text.
func TestParseUUID(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"0123abcd-4567-89ef-0123-456789abcdef", true},
		{"ffffffff-ffff-ffff-ffff-ffffffffffff", true},
		{"0123ABCD-4567-89ef-0123-456789abcdef", false},
		{"0123abcg-4567-89ef-0123-456789abcdef", false},
		{"0123abcd-4567-89ef-0123-456789abcde", false},
		{"0123abcd_4567-89ef-0123-456789abcdef", false},
		{"0123abcd-4567-89ef-0123-456789abcde/", false},
		{"", false},
	} {
		var u [16]byte
		if got := parseUUID(tc.in, &u); got != tc.ok {
			t.Errorf("parseUUID(%q) = %v, want %v", tc.in, got, tc.ok)
		} else if got && formatUUID(u[:]) != tc.in {
			t.Errorf("formatUUID(parseUUID(%q)) = %q", tc.in, formatUUID(u[:]))
		}
	}
}
