package app_test

import (
	"testing"

	"github.com/craftledger/craftledger/services/craftledger/app"
)

// TestCheckStoreAddr: the embedded store, which takes no credentials,
// listens on the loopback interface only.
func TestCheckStoreAddr(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:2113": true, "127.0.0.1:0": true, "127.8.9.10:2113": true, "[::1]:2113": true, "localhost:2113": true,
		"0.0.0.0:2113": false, ":2113": false, "[::]:2113": false, "10.0.0.5:2113": false, "[2001:db8::1]:2113": false,
		"store.example:2113": false, "127.0.0.1": false, "localhost.evil.example:2113": false,
	} {
		if err := app.CheckStoreAddr(addr); (err == nil) != ok {
			t.Errorf("CheckStoreAddr(%q) = %v, want ok %v", addr, err, ok)
		}
	}
}
