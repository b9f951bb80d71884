package events

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// AlgA256GCM is the sealing algorithm of SealPersonal: AES-256-GCM with the
// craftsman id as additional data.
const AlgA256GCM = "A256GCM"

// SealPersonal encrypts a worker's personal data under their own 32-byte
// key (keyID names it in the key store) with a fresh 12-byte nonce from
// the caller (crypto/rand: this module does no I/O). The ciphertext is
// bound to craftsmanID. Destroying the key forgets the worker. Only tests
// use it: the services seal with pkg/keyring (a synthetic nonce, the key
// id as associated data), which writes the same SealedPersonal shape.
func SealPersonal(key []byte, keyID, craftsmanID string, nonce []byte, p Personal) (SealedPersonal, error) {
	aead, err := personalAEAD(key)
	if err != nil {
		return SealedPersonal{}, err
	}
	if len(nonce) != aead.NonceSize() {
		return SealedPersonal{}, fmt.Errorf("seal personal data: nonce must be %d bytes", aead.NonceSize())
	}
	plain, err := json.Marshal(p)
	if err != nil {
		return SealedPersonal{}, fmt.Errorf("seal personal data: %w", err)
	}
	ct := aead.Seal(nil, nonce, plain, []byte(craftsmanID))
	return SealedPersonal{KeyID: keyID, Alg: AlgA256GCM, Nonce: base64.StdEncoding.EncodeToString(nonce),
		Ciphertext: base64.StdEncoding.EncodeToString(ct)}, nil
}

// OpenPersonal decrypts sealed personal data with the worker's key.
func OpenPersonal(key []byte, craftsmanID string, s SealedPersonal) (Personal, error) {
	if s.Alg != AlgA256GCM {
		return Personal{}, fmt.Errorf("open personal data: unsupported alg %q", s.Alg)
	}
	aead, err := personalAEAD(key)
	if err != nil {
		return Personal{}, err
	}
	nonce, err := base64.StdEncoding.DecodeString(s.Nonce)
	if err != nil || len(nonce) != aead.NonceSize() {
		return Personal{}, fmt.Errorf("open personal data: bad nonce")
	}
	ct, err := base64.StdEncoding.DecodeString(s.Ciphertext)
	if err != nil {
		return Personal{}, fmt.Errorf("open personal data: bad ciphertext: %w", err)
	}
	plain, err := aead.Open(nil, nonce, ct, []byte(craftsmanID))
	if err != nil {
		return Personal{}, fmt.Errorf("open personal data of %s: %w", craftsmanID, err)
	}
	var p Personal
	if err := json.Unmarshal(plain, &p); err != nil {
		return Personal{}, fmt.Errorf("open personal data: %w", err)
	}
	return p, nil
}

func personalAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("personal data key must be 32 bytes, not %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
