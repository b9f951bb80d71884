package registry

import (
	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/keyring"
)

// Keyring seals a craftsman's personal information (name, phone, email)
// under a key of their own, so that destroying the key forgets them in an
// immutable log (crypto-shredding, for PIPL's right to deletion).
type Keyring interface {
	// Seal encrypts p under craftsmanID's key, creating the key if needed;
	// a forgotten craftsman's key is never created again (errs.FailedPrecondition).
	// The same p under the same key seals to the same value, so a command
	// decided twice (a retry, an idempotency check) decides the same event.
	Seal(craftsmanID string, p events.Personal) (*events.SealedPersonal, error)
	// Open decrypts; a forgotten craftsman's data is errs.NotFound.
	Open(s events.SealedPersonal) (events.Personal, error)
	// Forget destroys craftsmanID's key for good.
	Forget(craftsmanID string) error
}

// DirKeyring keeps one AES-256 key per craftsman in a directory
// (pkg/keyring: the read side opens sealed names with the same directory).
type DirKeyring = keyring.Dir

// NewDirKeyring opens (creating) the key directory.
func NewDirKeyring(dir string) (*DirKeyring, error) { return keyring.NewDir(dir) }
