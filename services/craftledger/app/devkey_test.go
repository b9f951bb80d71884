package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/services/craftledger/app"
	"github.com/craftledger/craftledger/services/registry"
)

// TestNewRefusesDemoTokensUnderARealKey: the web page hands its demo tokens
// to anyone, so app.New refuses to serve tokens unless they are signed
// with the public development key.
func TestNewRefusesDemoTokensUnderARealKey(t *testing.T) {
	key, err := auth.NewKey([]byte(strings.Repeat("r", 40)))
	if err != nil {
		t.Fatal(err)
	}
	toks, err := auth.DevTokens(key, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), app.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", StoreAddr: "127.0.0.1:0",
		Key: key, NationalIDKey: []byte(registry.DevNationalIDKey), DemoTokens: toks})
	if err == nil {
		a.Close()
		t.Fatal("app.New accepted demo tokens signed with a real key")
	}
	if !app.IsDevKey(auth.DevKey()) || app.IsDevKey(key) {
		t.Error("IsDevKey does not tell the development key from another")
	}
}
