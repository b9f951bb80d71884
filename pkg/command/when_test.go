package command_test

import (
	"errors"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
)

func TestParseWhen(t *testing.T) {
	now := time.Date(2025, 11, 20, 8, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Time // zero with bad: refused
		bad  bool
	}{
		{in: ""}, // not given: the handler's clock
		{in: "2025-01-02", want: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)},
		{in: "2025-01-02T10:00:00+08:00", want: time.Date(2025, 1, 2, 2, 0, 0, 0, time.UTC)},
		{in: "1900-01-01", want: command.Earliest},
		{in: "2025-11-20T08:00:30Z", want: time.Date(2025, 11, 20, 8, 0, 30, 0, time.UTC)}, // within the skew
		{in: "2025-11-21", bad: true},
		{in: "0001-01-01", bad: true}, // the zero time would read as "not given"
		{in: "0001-01-01T00:00:00Z", bad: true},
		{in: "1899-12-31", bad: true},
		{in: "20250102", bad: true},
	} {
		got, err := command.ParseWhen(c.in, now, time.Minute)
		if c.bad {
			if !errors.Is(err, errs.InvalidArgument) {
				t.Errorf("%q: %v, %v; want INVALID_ARGUMENT", c.in, got, err)
			}
			continue
		}
		if err != nil || !got.Equal(c.want) {
			t.Errorf("%q: %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}
