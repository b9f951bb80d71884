package career_test

import (
	"testing"
	"time"

	"github.com/craftledger/craftledger/events/career"
)

// TestBeforeDay: days are the ledger's (China, UTC+8), not UTC.
func TestBeforeDay(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	date := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC) // a date given as 2025-03-01
	for _, c := range []struct {
		t    time.Time
		want bool
	}{
		{time.Date(2025, 3, 1, 7, 0, 0, 0, cst), false},   // 2025-02-28T23:00Z, China's 1 March
		{time.Date(2025, 2, 28, 23, 0, 0, 0, cst), true},  // China's 28 February
		{time.Date(2025, 3, 1, 23, 59, 0, 0, cst), false}, // the same China day
		{time.Date(2025, 2, 28, 15, 59, 0, 0, time.UTC), true},
	} {
		if got := career.BeforeDay(c.t, date); got != c.want {
			t.Errorf("BeforeDay(%s, %s) = %v, want %v", c.t, date, got, c.want)
		}
	}
	if got := career.CivilDay(time.Date(2025, 3, 1, 7, 0, 0, 0, cst)); got != "2025-03-01" {
		t.Errorf("CivilDay = %s, want 2025-03-01", got)
	}
	for _, in := range []time.Time{time.Date(2025, 3, 1, 0, 0, 0, 0, cst), time.Date(2025, 3, 1, 23, 59, 59, 0, cst), time.Date(2025, 2, 28, 16, 0, 0, 0, time.UTC)} {
		if got, want := career.EndOfDay(in), time.Date(2025, 3, 1, 23, 59, 59, 999999999, cst).UTC(); !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("EndOfDay(%s) = %s, want %s in UTC", in, got, want)
		}
	}
}
