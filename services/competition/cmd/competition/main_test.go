package main

import (
	"testing"

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
