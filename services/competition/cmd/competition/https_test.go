package main

import (
	"testing"

	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
)

// TestServesHTTPS: with --tls-cert/--tls-key the binary serves /healthz
// over HTTPS to a client trusting the CA and not over plain HTTP; one flag
// without the other, an unreadable file or a mismatched key stop start-up.
func TestServesHTTPS(t *testing.T) {
	servicetest.CheckServesHTTPS(t, run, "--approvers", "mohrss")
}
