package main

import (
	"os"
	"strings"
	"testing"
)

// TestMain runs ledgerctl's main with $LEDGERCTL_ARGS (split on \x1f) when
// $LEDGERCTL_AS_MAIN is 1, so a test can run the real binary (signals
// included) as a subprocess; otherwise the tests.
func TestMain(m *testing.M) {
	if os.Getenv("LEDGERCTL_AS_MAIN") == "1" {
		os.Args = append([]string{"ledgerctl"}, strings.Split(os.Getenv("LEDGERCTL_ARGS"), "\x1f")...)
		main()
		return
	}
	os.Exit(m.Run())
}
