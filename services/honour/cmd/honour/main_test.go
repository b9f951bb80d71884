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
		"CRAFTLEDGER_RATE":             {"abc", "CRAFTLEDGER_RATE"},
		"CRAFTLEDGER_BACKFILL_WORKERS": {"-3", "--backfill-workers"},
		"CRAFTLEDGER_LOG_LEVEL":        {"loud", "--log-level"},
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
