package keyring_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/keyring"
)

// TestReaderTellsForgottenFromAbsent: a reader opening the registry's key
// directory (OpenDir) opens a sealed name while its key exists, answers
// ErrForgotten once Forget destroyed it, and a plain NotFound (not
// forgotten) for data sealed under a key this directory never held.
func TestReaderTellsForgottenFromAbsent(t *testing.T) {
	dir := t.TempDir()
	w, err := keyring.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	other, err := keyring.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r, err := keyring.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := w.Seal("c1", events.Personal{Name: "司马光"})
	if err != nil {
		t.Fatal(err)
	}
	elsewhere, err := other.Seal("c2", events.Personal{Name: "王五"})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := r.Open(*s); err != nil || p.Name != "司马光" {
		t.Fatalf("open: %+v, %v", p, err)
	}
	if _, err := r.Open(*elsewhere); !errors.Is(err, errs.NotFound) || errors.Is(err, keyring.ErrForgotten) {
		t.Errorf("a key never held: %v, want NotFound, not forgotten", err)
	}
	if err := w.Forget("c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Open(*s); !errors.Is(err, keyring.ErrForgotten) || !errors.Is(err, errs.NotFound) {
		t.Errorf("after forget: %v, want ErrForgotten (NotFound)", err)
	}
	if _, err := w.Seal("c1", events.Personal{Name: "司马光"}); !errors.Is(err, errs.FailedPrecondition) {
		t.Errorf("sealing for a forgotten craftsman: %v, want FailedPrecondition", err)
	}
	if _, err := keyring.OpenDir(filepath.Join(dir, "missing")); err == nil {
		t.Error("a reader opened a missing key directory")
	}
}

// TestForgedKeyIDStaysInTheDirectory: a key id comes from an event; one
// that is not keyID's shape is refused before it names a file, so a forged
// "dir:../x" cannot make Open read a .key file outside the directory.
func TestForgedKeyIDStaysInTheDirectory(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "keys")
	w, err := keyring.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := w.Seal("c1", events.Personal{Name: "司马光"})
	if err != nil {
		t.Fatal(err)
	}
	// Something beside the directory that a forged id would reach (here a
	// directory, which the old code tried to read as a key: INTERNAL).
	if err := os.Mkdir(filepath.Join(root, "outside.key"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"dir:../outside", "dir:" + strings.Repeat("A", 32), "dir:", "dir:" + strings.Repeat("0", 31) + "/"} {
		forged := *s
		forged.KeyID = id
		if p, err := w.Open(forged); !errors.Is(err, errs.InvalidArgument) {
			t.Errorf("key id %q: %+v, %v; want refused as not this keyring's", id, p, err)
		}
	}
	if p, err := w.Open(*s); err != nil || p.Name != "司马光" {
		t.Errorf("the genuine id: %+v, %v", p, err)
	}
}
