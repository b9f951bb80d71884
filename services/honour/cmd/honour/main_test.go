package main

import (
	"testing"

	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
)

// A malformed environment variable stops start-up (before any store is
// contacted) instead of silently meaning the default.
func TestBadEnvironmentFailsStartUp(t *testing.T) {
	servicetest.CheckBadEnvironment(t, run, map[string]servicetest.BadEnv{
		"CRAFTLEDGER_RATE":              {Value: "abc", Want: "CRAFTLEDGER_RATE"},
		"CRAFTLEDGER_BACKFILL_WORKERS":  {Value: "-3", Want: "--backfill-workers"},
		"CRAFTLEDGER_LOG_LEVEL":         {Value: "loud", Want: "--log-level"},
		"CRAFTLEDGER_CONFERRING_BODIES": {Value: "union-gd", Want: "--conferring-bodies"},
	})
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
