package command

import (
	"net/http"
	"time"

	"github.com/craftledger/craftledger/pkg/errs"
)

// Earliest is the earliest occurredAt a request may give: no career fact
// recorded here is older, and the zero time (0001-01-01) means "not
// given" to the handler, which would stamp it with its clock instead.
var Earliest = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// ParseWhen reads a request's occurredAt: an RFC 3339 instant or a date
// (YYYY-MM-DD, midnight UTC). Empty is the zero time (the handler then uses
// its clock). A value after now plus skew is refused: facts are recorded
// once they happened; so is one before Earliest.
func ParseWhen(s string, now time.Time, skew time.Duration) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t, err = time.Parse(time.DateOnly, s)
	}
	if err != nil {
		return time.Time{}, errs.E(errs.InvalidArgument, "%q is neither an RFC 3339 time nor a date (YYYY-MM-DD)", s)
	}
	if t.After(now.Add(skew)) {
		return time.Time{}, errs.E(errs.InvalidArgument, "%s is in the future", s)
	}
	if t.Before(Earliest) {
		return time.Time{}, errs.E(errs.InvalidArgument, "%s is before %s: no career fact recorded here is that old", s, Earliest.Format(time.DateOnly))
	}
	return t.UTC(), nil
}

func kitNotFound(r *http.Request) error {
	return errs.E(errs.NotFound, "no route %s %s", r.Method, r.URL.Path)
}
