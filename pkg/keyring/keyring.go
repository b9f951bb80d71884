// Package keyring keeps the per-craftsman keys that seal personal data
// (name, phone, email) in the immutable log, so that destroying a key
// forgets the craftsman (crypto-shredding, PIPL's right to deletion). The
// registry seals and forgets with it; the read side (GraphQL, the web page)
// opens with the same directory to show names, and shows a craftsman whose
// key was destroyed as erased.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
)

// ErrForgotten is what Open answers (errs.NotFound too) for data sealed
// under a key that Forget destroyed: the craftsman was forgotten. A key
// that is merely absent (another directory, a lost file) is errs.NotFound
// without it.
var ErrForgotten = errs.E(errs.NotFound, "personal data key destroyed (the craftsman was forgotten)")

// EnvDir is the environment variable that names the key directory
// (each binary's --personal-keys-dir reads it).
const EnvDir = "CRAFTLEDGER_PERSONAL_KEYS_DIR"

// DirIn is the key directory inside a data directory: the all-in-one's
// default, <data>/keys.
func DirIn(dataDir string) string { return filepath.Join(dataDir, "keys") }

// Opener opens personal data sealed under a craftsman's key (Dir does);
// the readers of sealed names (GraphQL, the portable record) take one.
type Opener interface {
	Open(s events.SealedPersonal) (events.Personal, error)
}

// Dir keeps one AES-256 key per craftsman in a directory (mode 0700,
// files 0600). Every registry instance and every reader (GraphQL) must
// see the same directory (one host's disk, or a ReadWriteMany volume
// shared by replicas); back it up like the store, and keep it apart from
// it — a key that survives in a backup is not forgotten.
type Dir struct {
	dir   string
	locks command.Locks
}

// NewDir opens (creating) the key directory.
func NewDir(dir string) (*Dir, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("key directory %s: %w", dir, err)
	}
	return &Dir{dir: dir}, nil
}

// OpenDir opens an existing key directory for a reader (GraphQL shows
// sealed names with it): unlike NewDir it creates nothing, so a mistyped
// path stops start-up instead of hiding every name.
func OpenDir(dir string) (*Dir, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("key directory: %w", err)
	}
	if !st.IsDir() {
		return nil, errs.E(errs.InvalidArgument, "key directory %s is not a directory", dir)
	}
	return &Dir{dir: dir}, nil
}

const sealAlg = "A256GCM"

// keyID names a craftsman's key without putting their id in a file name.
func keyID(craftsmanID string) string {
	sum := sha256.Sum256([]byte("craftledger/personal-key/" + craftsmanID))
	return "dir:" + hex.EncodeToString(sum[:16])
}

// validKeyID reports whether id has keyID's shape ("dir:" and 32 hex
// digits): a key id read from an event names a file only then, so that a
// forged one cannot reach outside the directory.
func validKeyID(id string) bool {
	h, ok := strings.CutPrefix(id, "dir:")
	if !ok || len(h) != 32 {
		return false
	}
	_, err := hex.DecodeString(h)
	return err == nil && strings.ToLower(h) == h
}

func (k *Dir) path(id string) string { return filepath.Join(k.dir, id[len("dir:"):]+".key") }

// forgotten is the marker Forget leaves: the key was destroyed and must
// never be created again.
func (k *Dir) forgotten(id string) string {
	return filepath.Join(k.dir, id[len("dir:"):]+".forgotten")
}

func (k *Dir) key(id string, create bool) ([]byte, error) {
	defer k.locks.Lock(id)()
	b, err := os.ReadFile(k.path(id))
	switch {
	case err == nil:
		return b, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, errs.E(errs.Internal, "read key %s: %v", id, err)
	}
	switch _, err := os.Stat(k.forgotten(id)); {
	case err == nil && !create:
		return nil, fmt.Errorf("key %s: %w", id, ErrForgotten)
	case err == nil:
		return nil, errs.E(errs.FailedPrecondition, "personal data key %s was destroyed (the craftsman was forgotten) and is not created again", id)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, errs.E(errs.Internal, "check key %s: %v", id, err)
	case !create:
		return nil, errs.E(errs.NotFound, "personal data key %s is not in this key directory", id)
	}
	b = make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, errs.E(errs.Internal, "new key: %v", err)
	}
	f, err := os.OpenFile(k.path(id), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, errs.E(errs.Internal, "create key %s: %v", id, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return nil, errs.E(errs.Internal, "write key %s: %v", id, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, errs.E(errs.Internal, "sync key %s: %v", id, err)
	}
	return b, f.Close()
}

// Seal encrypts p under craftsmanID's key, creating the key if needed; a
// forgotten craftsman's key is never created again (errs.FailedPrecondition).
// The same p under the same key seals to the same value, so a command
// decided twice (a retry, an idempotency check) decides the same event.
func (k *Dir) Seal(craftsmanID string, p events.Personal) (*events.SealedPersonal, error) {
	id := keyID(craftsmanID)
	key, err := k.key(id, true)
	if err != nil {
		return nil, err
	}
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	plain, err := json.Marshal(p)
	if err != nil {
		return nil, errs.E(errs.Internal, "encode personal data: %v", err)
	}
	// A synthetic nonce (HMAC of the key id and the plaintext under a key
	// derived from the craftsman's key): the same data seals to the same
	// value; different data gets different nonces (as SIV modes do).
	mac := hmac.New(sha256.New, deriveNonceKey(key))
	mac.Write([]byte(id))
	mac.Write([]byte{0})
	mac.Write(plain)
	nonce := mac.Sum(nil)[:gcm.NonceSize()]
	// The key id is authenticated too: a sealed value cannot be moved to another craftsman.
	ct := gcm.Seal(nil, nonce, plain, []byte(id))
	return &events.SealedPersonal{KeyID: id, Alg: sealAlg, Nonce: base64.StdEncoding.EncodeToString(nonce),
		Ciphertext: base64.StdEncoding.EncodeToString(ct)}, nil
}

// Open decrypts; data of a forgotten craftsman is ErrForgotten, data
// sealed under a key this directory never held errs.NotFound.
func (k *Dir) Open(s events.SealedPersonal) (events.Personal, error) {
	if s.Alg != sealAlg || !validKeyID(s.KeyID) {
		return events.Personal{}, errs.E(errs.InvalidArgument, "sealed with %s under %q: not this keyring's", s.Alg, s.KeyID)
	}
	key, err := k.key(s.KeyID, false)
	if err != nil {
		return events.Personal{}, err
	}
	gcm, err := newGCM(key)
	if err != nil {
		return events.Personal{}, err
	}
	nonce, err1 := base64.StdEncoding.DecodeString(s.Nonce)
	ct, err2 := base64.StdEncoding.DecodeString(s.Ciphertext)
	if err1 != nil || err2 != nil {
		return events.Personal{}, errs.E(errs.InvalidArgument, "sealed personal data is not base64")
	}
	plain, err := gcm.Open(nil, nonce, ct, []byte(s.KeyID))
	if err != nil {
		return events.Personal{}, errs.E(errs.InvalidArgument, "sealed personal data does not open: %v", err)
	}
	var p events.Personal
	if err := json.Unmarshal(plain, &p); err != nil {
		return events.Personal{}, errs.E(errs.Internal, "decode personal data: %v", err)
	}
	return p, nil
}

// deriveNonceKey separates the nonce's MAC key from the encryption key.
func deriveNonceKey(key []byte) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("craftledger/personal-nonce"))
	return mac.Sum(nil)
}

// Forget destroys craftsmanID's key for good: a "forgotten" marker is written (so the key is
// never created again), then the key file is removed (a missing key is
// already forgotten).
func (k *Dir) Forget(craftsmanID string) error {
	id := keyID(craftsmanID)
	defer k.locks.Lock(id)()
	f, err := os.OpenFile(k.forgotten(id), os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return errs.E(errs.Internal, "mark key %s destroyed: %v", id, err)
	}
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		return errs.E(errs.Internal, "mark key %s destroyed: %v", id, err)
	}
	if err := os.Remove(k.path(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return errs.E(errs.Internal, "destroy key %s: %v", id, err)
	}
	return nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, errs.E(errs.Internal, "key: %v", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, errs.E(errs.Internal, "gcm: %v", err)
	}
	return gcm, nil
}
