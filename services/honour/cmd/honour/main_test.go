package main

import (
	"context"
	"os"
	"strings"
	"testing"
)

// A malformed environment variable stops start-up (before any store is
// contacted) instead of silently meaning the default.
func TestBadEnvironmentFailsStartUp(t *testing.T) {
	for name, tc := range map[string]struct{ value, want string }{
		"CRAFTLEDGER_RATE":              {"abc", "CRAFTLEDGER_RATE"},
		"CRAFTLEDGER_BACKFILL_WORKERS":  {"-3", "--backfill-workers"},
		"CRAFTLEDGER_LOG_LEVEL":         {"loud", "--log-level"},
		"CRAFTLEDGER_CONFERRING_BODIES": {"union-gd", "--conferring-bodies"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, tc.value)
			// No key at all: were the bad value accepted, start-up would
			// stop at the key (failing this test) rather than serve.
			t.Setenv("CRAFTLEDGER_AUTH_KEY", "")
			os.Unsetenv("CRAFTLEDGER_AUTH_KEY")
			t.Setenv("CRAFTLEDGER_JWT_KEY_FILE", "")
			t.Setenv("CRAFTLEDGER_DEV", "0")
			err := run(context.Background(), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s=%s: start-up error %v, want one naming %s", name, tc.value, err, tc.want)
			}
		})
	}
}

func TestConferringBodies(t *testing.T) {
	got, err := conferringBodies(" union-gd=provincial trade-union federation, union-gd = city trade-union federation,gd-hrss=provincial HR department,")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(got["union-gd"]) != 2 || got["union-gd"][1] != "city trade-union federation" || got["gd-hrss"][0] != "provincial HR department" {
		t.Errorf("conferringBodies = %q", got)
	}
	for _, bad := range []string{"union-gd", "=ACFTU", "acftu="} {
		if _, err := conferringBodies(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
