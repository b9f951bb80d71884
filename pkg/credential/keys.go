package credential

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"strings"

	"github.com/craftledger/craftledger/pkg/errs"
)

// GenerateKeyFile creates a new Ed25519 key for a development deployment
// and writes it to path (PKCS #8 PEM, mode 0600) and its public key to
// path+".pub" (PKIX PEM). It refuses to overwrite an existing key.
func GenerateKeyFile(path string) (ed25519.PrivateKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("write key %s: %w", path, err)
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		f.Close()
		return nil, fmt.Errorf("write key %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write key %s: %w", path, err)
	}
	if err := WritePublicKeyFile(path+".pub", pub); err != nil {
		return nil, err
	}
	return priv, nil
}

// WritePublicKeyFile writes pub as a PKIX PEM file (mode 0644).
func WritePublicKeyFile(path string, pub ed25519.PublicKey) error {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return fmt.Errorf("write public key %s: %w", path, err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
		return fmt.Errorf("write public key %s: %w", path, err)
	}
	return nil
}

// LoadPrivateKey reads an Ed25519 private key from a PKCS #8 PEM file.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key %s: %w", path, err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, errs.E(errs.InvalidArgument, "key %s: not a PEM \"PRIVATE KEY\" block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, errs.E(errs.InvalidArgument, "key %s: %v", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, errs.E(errs.InvalidArgument, "key %s: a %T, not an Ed25519 key", path, k)
	}
	return priv, nil
}

// LoadPublicKey reads an Ed25519 public key: a PKIX "PUBLIC KEY" PEM file,
// a PKCS #8 private key file (its public half), or a file holding a
// did:key identifier.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read public key %s: %w", path, err)
	}
	if s := strings.TrimSpace(string(b)); strings.HasPrefix(s, "did:key:") {
		return PublicKeyFromDID(s)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errs.E(errs.InvalidArgument, "public key %s: not PEM and not a did:key", path)
	}
	switch blk.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, errs.E(errs.InvalidArgument, "public key %s: %v", path, err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, errs.E(errs.InvalidArgument, "public key %s: a %T, not Ed25519", path, k)
		}
		return pub, nil
	case "PRIVATE KEY":
		priv, err := LoadPrivateKey(path)
		if err != nil {
			return nil, err
		}
		return priv.Public().(ed25519.PublicKey), nil
	}
	return nil, errs.E(errs.InvalidArgument, "public key %s: unexpected PEM block %q", path, blk.Type)
}

// Ed25519 public keys in did:key identifiers are the multicodec prefix
// 0xed 0x01 and the 32 key bytes, base58btc-encoded with multibase 'z'.
var ed25519Multicodec = []byte{0xed, 0x01}

// DID returns the did:key identifier of an Ed25519 public key.
func DID(pub ed25519.PublicKey) string { return "did:key:" + multibaseKey(pub) }

func multibaseKey(pub ed25519.PublicKey) string {
	return "z" + base58Encode(append(append([]byte{}, ed25519Multicodec...), pub...))
}

// VerificationMethod is the DID URL of the key that signs: did:key:z…#z….
func VerificationMethod(pub ed25519.PublicKey) string {
	mk := multibaseKey(pub)
	return "did:key:" + mk + "#" + mk
}

// PublicKeyFromDID reads the public key of a did:key identifier (with or
// without a #fragment).
func PublicKeyFromDID(did string) (ed25519.PublicKey, error) {
	s, _, _ := strings.Cut(strings.TrimPrefix(did, "did:key:"), "#")
	if !strings.HasPrefix(s, "z") {
		return nil, errs.E(errs.InvalidArgument, "did %q: not a base58btc did:key", did)
	}
	b, err := base58Decode(s[1:])
	if err != nil || len(b) != 2+ed25519.PublicKeySize || b[0] != 0xed || b[1] != 0x01 {
		return nil, errs.E(errs.InvalidArgument, "did %q: not an Ed25519 did:key", did)
	}
	return ed25519.PublicKey(b[2:]), nil
}

const b58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

func base58Encode(b []byte) string {
	n := new(big.Int).SetBytes(b)
	mod, base := new(big.Int), big.NewInt(58)
	var out []byte
	for n.Sign() > 0 {
		n.DivMod(n, base, mod)
		out = append(out, b58[mod.Int64()])
	}
	for _, c := range b {
		if c != 0 {
			break
		}
		out = append(out, '1')
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return string(out)
}

func base58Decode(s string) ([]byte, error) {
	n, base := new(big.Int), big.NewInt(58)
	zeros := 0
	for zeros < len(s) && s[zeros] == '1' {
		zeros++
	}
	for i := 0; i < len(s); i++ {
		d := strings.IndexByte(b58, s[i])
		if d < 0 {
			return nil, errs.E(errs.InvalidArgument, "base58: bad character %q", s[i])
		}
		n.Mul(n, base)
		n.Add(n, big.NewInt(int64(d)))
	}
	return append(make([]byte, zeros), n.Bytes()...), nil
}
