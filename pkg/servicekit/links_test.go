package servicekit_test

import (
	"errors"
	"testing"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/servicekit"
)

func TestLinks(t *testing.T) {
	l := servicekit.Links{Registrar: "reg", Employers: []string{"emp"}, Academies: []string{"acad"}}
	issuer := func(org string) auth.Claims { return auth.Claims{Subject: "u", Role: auth.RoleIssuer, OrgID: org} }
	for _, tc := range []struct {
		name string
		c    auth.Claims
		ok   bool
	}{
		{"admin", auth.Claims{Subject: "a", Role: auth.RoleAdmin}, true},
		{"registrar", issuer("reg"), true},
		{"employer", issuer("emp"), true},
		{"academy", issuer("acad"), true},
		{"unlinked issuer", issuer("other"), false},
		{"issuer without an organisation", issuer(""), false},
		{"worker", auth.Claims{Subject: "w", Role: auth.RoleWorker, CraftsmanID: "c-1"}, false},
		{"auditor", auth.Claims{Subject: "x", Role: auth.RoleAuditor}, false},
	} {
		err := l.Require(tc.c, "c-1")
		if l.Allow(tc.c) != tc.ok || (err == nil) != tc.ok {
			t.Errorf("%s: Allow %v, Require %v; want allowed %v", tc.name, l.Allow(tc.c), err, tc.ok)
		}
		if err != nil && !errors.Is(err, errs.PermissionDenied) {
			t.Errorf("%s: %v, want PERMISSION_DENIED", tc.name, err)
		}
	}
	if (servicekit.Links{}).Allow(issuer("")) {
		t.Error("no links allowed an issuer without an organisation")
	}
}
