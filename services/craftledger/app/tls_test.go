package app_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/craftledger/app"
)

// TestNewRefusesBrokenTLS: New refuses half a TLS pair, or a key that is
// not the certificate's, before it starts the embedded store — the data
// directory stays untouched.
func TestNewRefusesBrokenTLS(t *testing.T) {
	certFile, keyFile, _ := servicetest.TLSFiles(t)
	for _, c := range []struct {
		name, cert, key, want string
	}{
		{"cert without key", certFile, "", "both"},
		{"key without cert", "", keyFile, "both"},
		{"key is the certificate", certFile, certFile, "app:"},
		{"missing cert", filepath.Join(t.TempDir(), "missing.pem"), keyFile, "app:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := t.TempDir()
			a, err := app.New(context.Background(), app.Config{DataDir: data, Addr: "127.0.0.1:0", StoreAddr: "127.0.0.1:0",
				Key: auth.DevKey(), NationalIDKey: []byte(strings.Repeat("n", 32)), TLSCertFile: c.cert, TLSKeyFile: c.key})
			if err == nil {
				a.Close()
				t.Fatalf("New accepted TLS cert %q key %q", c.cert, c.key)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("New: %v, want an error saying %q", err, c.want)
			}
			if _, err := os.Stat(filepath.Join(data, "store")); err == nil {
				t.Error("the embedded store was started before the TLS pair was refused")
			}
		})
	}
}
