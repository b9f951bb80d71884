package main

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command/commandtest"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
)

// A malformed environment variable stops start-up (before any store is
// contacted) instead of silently meaning the default.
func TestBadEnvironmentFailsStartUp(t *testing.T) {
	servicetest.CheckBadEnvironment(t, run, map[string]servicetest.BadEnv{
		"CRAFTLEDGER_RATE":             {Value: "abc", Want: "CRAFTLEDGER_RATE"},
		"CRAFTLEDGER_BACKFILL_WORKERS": {Value: "-3", Want: "--backfill-workers"},
		"CRAFTLEDGER_LOG_LEVEL":        {Value: "loud", Want: "--log-level"},
	})
}

// unsetApprovers clears $CRAFTLEDGER_APPROVERS for the test (restored after).
func unsetApprovers(t *testing.T) {
	t.Setenv("CRAFTLEDGER_APPROVERS", "")
	os.Unsetenv("CRAFTLEDGER_APPROVERS")
}

// TestApproversRequired: without approvers — no flag and no variable, or a
// list naming nobody — the binary does not start (it used to let any hr
// user approve), and the error says what to give: the flag, the variable,
// and * for any hr user.
func TestApproversRequired(t *testing.T) {
	for _, c := range []struct {
		name string
		env  *string
		args []string
		want string // besides the flag and the variable; default: how to name nobody
	}{
		{name: "neither flag nor variable"},
		{name: "empty flag", args: []string{"--approvers", ""}},
		{name: "flag naming nobody", args: []string{"--approvers", " , "}},
		{name: "empty variable", env: new("")},
		{name: "variable naming nobody", env: new(" ,, ")},
		{name: "* beside names", args: []string{"--approvers", "mohrss,*"}, want: "mixes * (any hr user) with named organisations"},
	} {
		t.Run(c.name, func(t *testing.T) {
			unsetApprovers(t)
			if c.env != nil {
				t.Setenv("CRAFTLEDGER_APPROVERS", *c.env)
			}
			// Nothing listens on the store's port; a start that wrongly
			// succeeds serves until the deadline and returns nil.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			args := append([]string{"--store", "esdb://127.0.0.1:1?tls=false", "--addr", "127.0.0.1:0", "--dev", "--log-level", "error"}, c.args...)
			err := run(ctx, args)
			if err == nil || !errors.Is(err, errs.InvalidArgument) {
				t.Fatalf("run: %v, want INVALID_ARGUMENT", err)
			}
			if c.want == "" {
				c.want = "* to let any hr user approve"
			}
			for _, want := range []string{"--approvers", "CRAFTLEDGER_APPROVERS", c.want} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
}

// TestApprovers: only hr users of the organisations given by --approvers
// or $CRAFTLEDGER_APPROVERS may approve an entitlement (403 for another
// organisation's hr, before anything is looked up); the others get past
// that check (here to 404: the craftsman does not exist). * lets any hr
// user approve, as in the all-in-one.
func TestApprovers(t *testing.T) {
	approve := func(t *testing.T, base, org string) int {
		t.Helper()
		tok := commandtest.Token(t, auth.RoleHR, org, "")
		return commandtest.Do(t, "POST", base+"/v1/craftsmen/nobody/entitlements/ent-1/approve", tok, `{"approvalRef":"x-1"}`).Status
	}
	for _, c := range []struct {
		name            string
		env             string
		args            []string
		allowed, denied []string
	}{
		{name: "flag", args: []string{"--approvers", "hr-q, hr-r"}, allowed: []string{"hr-q", "hr-r"}, denied: []string{"employer-zz", "mohrss"}},
		{name: "variable", env: "hr-q", allowed: []string{"hr-q"}, denied: []string{"employer-zz", "hr-r"}},
		{name: "flag over variable", env: "hr-r", args: []string{"--approvers", "hr-q"}, allowed: []string{"hr-q"}, denied: []string{"hr-r"}},
		{name: "any hr user, flag", args: []string{"--approvers", "*"}, allowed: []string{"employer-zz", "mohrss"}},
		{name: "any hr user, variable", env: "*", allowed: []string{"employer-zz", "mohrss"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			unsetApprovers(t)
			if c.env != "" {
				t.Setenv("CRAFTLEDGER_APPROVERS", c.env)
			}
			base, stop := servicetest.ServeBinary(t, run, c.args...)
			for _, org := range c.allowed {
				if code := approve(t, base, org); code != 404 {
					t.Errorf("hr of %s: %d, want 404 (past the approvers check)", org, code)
				}
			}
			for _, org := range c.denied {
				if code := approve(t, base, org); code != 403 {
					t.Errorf("hr of %s: %d, want 403", org, code)
				}
			}
			stop()
		})
	}
}
