package servicekit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
)

func TestWriter(t *testing.T) {
	as := func(c auth.Claims) context.Context { return auth.WithClaims(context.Background(), c) }
	meta, _, err := servicekit.Writer(as(auth.Claims{Subject: "u1", Role: auth.RoleIssuer, OrgID: "acad-1"}))
	if err != nil || meta.Issuer != "acad-1" || meta.Actor != "u1" {
		t.Errorf("issuer: meta %+v, err %v; want issuer acad-1, actor u1", meta, err)
	}
	meta, _, err = servicekit.Writer(as(auth.Claims{Subject: "root", Role: auth.RoleAdmin}))
	if err != nil || meta.Issuer != servicekit.PlatformOrg {
		t.Errorf("admin without organisation: meta %+v, err %v; want issuer %s", meta, err, servicekit.PlatformOrg)
	}
	// An admin whose token names an organisation records as the platform
	// too: a training they record for an academy recorded under emp-1
	// would be flagged by verify's issuer rule.
	meta, c, err := servicekit.Writer(as(auth.Claims{Subject: "root", Role: auth.RoleAdmin, OrgID: "emp-1"}))
	if err != nil || meta.Issuer != servicekit.PlatformOrg || c.OrgID != "emp-1" {
		t.Errorf("admin of emp-1: meta %+v, claims %+v, err %v; want issuer %s and the claims' organisation kept", meta, c, err, servicekit.PlatformOrg)
	}
	if _, _, err := servicekit.Writer(as(auth.Claims{Subject: "hr1", Role: auth.RoleHR, OrgID: "emp-1"})); !errors.Is(err, errs.PermissionDenied) {
		t.Errorf("hr: err %v, want PermissionDenied", err)
	}
	if _, _, err := servicekit.Writer(context.Background()); !errors.Is(err, errs.Unauthenticated) {
		t.Errorf("no caller: err %v, want Unauthenticated", err)
	}
}

func TestInvalid(t *testing.T) {
	err := servicekit.Invalid(fmtErr("hours", "must be positive"))
	if kit.FieldOf(err) != "hours" || !errors.Is(err, errs.InvalidArgument) {
		t.Errorf("field error: %v (field %q), want an InvalidArgument about hours", err, kit.FieldOf(err))
	}
	other := errs.E(errs.Conflict, "taken")
	if got := servicekit.Invalid(other); got != other {
		t.Errorf("other error changed: %v", got)
	}
}

func TestWhenAndCheck(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("CST", 8*3600))
	at, err := servicekit.When("", now)
	if err != nil || !at.Equal(now) || at.Location() != time.UTC {
		t.Errorf("empty: %v, %v; want now in UTC", at, err)
	}
	at, err = servicekit.When("2025-01-02", now)
	if err != nil || at.Format(time.DateOnly) != "2025-01-02" {
		t.Errorf("date: %v, %v", at, err)
	}
	for _, bad := range []string{"yesterday", "2030-01-01"} {
		if _, err := servicekit.When(bad, now); kit.FieldOf(err) != "occurredAt" || !errors.Is(err, errs.InvalidArgument) {
			t.Errorf("When(%q): err %v, want an InvalidArgument about occurredAt", bad, err)
		}
	}
	// Check leaves an empty time zero (the handler stamps it) and maps the
	// payload's field errors.
	ok := events.MentorshipEndedEarly{MentorshipParties: events.MentorshipParties{MentorshipID: "m1", MasterID: "w1", ApprenticeID: "w2"}, Reason: "moved away"}
	if at, err := servicekit.Check(ok, "", now); err != nil || !at.IsZero() {
		t.Errorf("Check(valid, empty): %v, %v; want zero time, no error", at, err)
	}
	bad := ok
	bad.MentorshipID = ""
	if _, err := servicekit.Check(bad, "", now); kit.FieldOf(err) == "" || !errors.Is(err, errs.InvalidArgument) {
		t.Errorf("Check(invalid): err %v, want a field error", err)
	}
	if _, err := servicekit.Check(ok, "not a date", now); kit.FieldOf(err) != "occurredAt" {
		t.Errorf("Check(bad time): err %v, want occurredAt", err)
	}
}

func fmtErr(field, msg string) error { return &events.FieldError{Field: field, Message: msg} }
