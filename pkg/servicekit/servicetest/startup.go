package servicetest

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"strings"
	"testing"
)

// BadConfig is one start-up configuration a binary must refuse: Env set to
// Value (when Env is not empty) and Args after the base arguments, and the
// text the start-up error must contain.
type BadConfig struct {
	Name, Env, Value string
	Args             []string
	Want             string
}

// CheckBadConfig runs a binary's run function once per case, as a subtest
// named after it, with base then the case's Args, and fails unless start-up
// stops with an error naming Want.
func CheckBadConfig(t *testing.T, run func(context.Context, []string) error, base []string, cases []BadConfig) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if c.Env != "" {
				t.Setenv(c.Env, c.Value)
			}
			err := run(context.Background(), append(append([]string(nil), base...), c.Args...))
			if err == nil || !strings.Contains(err.Error(), c.Want) {
				t.Fatalf("err %v, want one naming %q", err, c.Want)
			}
		})
	}
}

// CheckHelpHidesStoreCredentials runs a binary's run function with --help
// and a password in $CRAFTLEDGER_STORE, and fails unless it returns
// flag.ErrHelp and the help it writes to standard error names
// CRAFTLEDGER_STORE without the password. It swaps os.Stderr, so the
// calling test must not run in parallel.
func CheckHelpHidesStoreCredentials(t *testing.T, run func(context.Context, []string) error) {
	t.Helper()
	t.Setenv("CRAFTLEDGER_STORE", "esdb://admin:s3cret@db.internal:2113")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = w
	err = run(context.Background(), []string{"--help"})
	os.Stderr = stderr
	w.Close()
	out, _ := io.ReadAll(r)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err %v", err)
	}
	if strings.Contains(string(out), "s3cret") || !strings.Contains(string(out), "CRAFTLEDGER_STORE") {
		t.Fatalf("help:\n%s", out)
	}
}
