package servicetest

import (
	"context"
	"os"
	"strings"
	"testing"
)

// BadEnv is a malformed value for an environment variable and the text the
// start-up error must contain.
type BadEnv struct{ Value, Want string }

// CheckBadEnvironment runs a binary's run function once per variable with
// its malformed value set and no key configured, and fails unless start-up
// stops with an error naming Want (were the bad value accepted, start-up
// would stop at the missing key instead, failing the check).
func CheckBadEnvironment(t *testing.T, run func(context.Context, []string) error, cases map[string]BadEnv) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, tc.Value)
			t.Setenv("CRAFTLEDGER_AUTH_KEY", "")
			os.Unsetenv("CRAFTLEDGER_AUTH_KEY")
			t.Setenv("CRAFTLEDGER_JWT_KEY_FILE", "")
			t.Setenv("CRAFTLEDGER_DEV", "0")
			err := run(context.Background(), nil)
			if err == nil || !strings.Contains(err.Error(), tc.Want) {
				t.Errorf("%s=%s: start-up error %v, want one naming %s", name, tc.Value, err, tc.Want)
			}
		})
	}
}
