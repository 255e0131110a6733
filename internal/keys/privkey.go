package keys

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

	"github.com/smimectl/smimectl/internal/kem"
	"github.com/smimectl/smimectl/internal/mldsa"
)

// PassphraseFunc returns the passphrase of an encrypted private key. It is
// called at most once per parse, and only when the key is encrypted, so a
// caller can prompt for it lazily.
type PassphraseFunc func() ([]byte, error)

// ErrIncorrectPassphrase is returned, wrapped, when an encrypted private key
// or PKCS#12 file does not decrypt with the passphrase given.
var ErrIncorrectPassphrase = errors.New("keys: incorrect passphrase")

// ErrPassphraseRequired is returned, wrapped, when a private key is encrypted
// and the [PassphraseFunc] is nil.
var ErrPassphraseRequired = errors.New("keys: the private key is encrypted and no passphrase was given")

// ParsePrivateKey reads a private key and returns it as a [crypto.Signer].
//
// PEM data may hold "RSA PRIVATE KEY" (PKCS#1), "EC PRIVATE KEY" (SEC 1),
// "PRIVATE KEY" (PKCS#8) or "ENCRYPTED PRIVATE KEY" (PKCS#8
// EncryptedPrivateKeyInfo, PBES2 only) blocks; the first of them is used and
// other blocks, such as certificates or "EC PARAMETERS", are skipped. Legacy
// OpenSSL encryption (Proc-Type: 4,ENCRYPTED and DEK-Info headers) is
// supported. Without PEM, data is DER PKCS#8, PKCS#1, SEC 1 or
// EncryptedPrivateKeyInfo.
//
// pass is called, at most once, only for an encrypted key; if it is nil an
// encrypted key fails with [ErrPassphraseRequired]. A wrong passphrase gives
// [ErrIncorrectPassphrase]. The key must be RSA or ECDSA on P-256, P-384 or
// P-521, Ed25519 (RFC 8410), ML-DSA-44, -65 or -87 (PKCS#8 in any of
// the seed, expandedKey and both forms of RFC 9881; with both, the
// expanded key must be the one the seed gives), or an ML-KEM key in PKCS#8
// (RFC 9935: seed, expandedKey or both), which comes back as a
// *kem.PrivateKey: it decrypts and cannot sign.
func ParsePrivateKey(data []byte, pass PassphraseFunc) (crypto.Signer, error) {
	p := &passphrase{fn: pass}
	if !looksLikePEM(data) {
		return parseDERPrivateKey(data, p)
	}
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("keys: no private key found in PEM data")
		}
		switch block.Type {
		case "RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY":
			//lint:ignore SA1019 legacy encrypted PEM is still what `openssl rsa -aes256 -traditional` writes; there is no other decoder.
			if x509.IsEncryptedPEMBlock(block) {
				return parseLegacyEncryptedKey(block, p)
			}
			key, err := parseKeyDER(block.Type, block.Bytes)
			if err != nil {
				return nil, err
			}
			return toSigner(key)
		case "ENCRYPTED PRIVATE KEY":
			return parseEncryptedPKCS8(block.Bytes, p)
		}
	}
}

// passphrase calls a PassphraseFunc at most once.
type passphrase struct {
	fn     PassphraseFunc
	called bool
	pw     []byte
	err    error
}

func (p *passphrase) get() ([]byte, error) {
	if p.fn == nil {
		return nil, ErrPassphraseRequired
	}
	if !p.called {
		p.called = true
		p.pw, p.err = p.fn()
		if p.err != nil {
			p.err = fmt.Errorf("keys: reading the passphrase: %w", p.err)
		}
	}
	return p.pw, p.err
}

// parseKeyDER parses der as the format its PEM label names, falling back to
// the other two formats because mislabelled files exist (a PKCS#1 key under
// "PRIVATE KEY", for one). The error is the one for the labelled format.
func parseKeyDER(label string, der []byte) (any, error) {
	// crypto/x509 reads no ML-KEM key (RFC 9935); internal/kem does, and
	// says precisely what is wrong with one.
	if k, err := kem.ParsePKCS8PrivateKey(der); err == nil {
		return k, nil
	} else if !errors.Is(err, kem.ErrNotMLKEMKey) {
		return nil, fmt.Errorf("keys: %w", err)
	}
	type parser func([]byte) (any, error)
	pkcs1 := func(b []byte) (any, error) { return x509.ParsePKCS1PrivateKey(b) }
	sec1 := func(b []byte) (any, error) { return x509.ParseECPrivateKey(b) }
	order := []parser{parsePKCS8, pkcs1, sec1}
	switch label {
	case "RSA PRIVATE KEY":
		order = []parser{pkcs1, parsePKCS8, sec1}
	case "EC PRIVATE KEY":
		order = []parser{sec1, parsePKCS8, pkcs1}
	}
	var first error
	for _, parse := range order {
		key, err := parse(der)
		if err == nil {
			return key, nil
		}
		if first == nil {
			first = err
		}
	}
	if label == "" {
		return nil, errors.New("keys: no private key found: not PEM, nor DER PKCS#8, PKCS#1 or SEC 1")
	}
	return nil, fmt.Errorf("keys: parsing %s: %w", label, first)
}

func parseDERPrivateKey(der []byte, p *passphrase) (crypto.Signer, error) {
	key, err := parseKeyDER("", der)
	if err == nil {
		return toSigner(key)
	}
	if isEncryptedPrivateKeyInfo(der) {
		return parseEncryptedPKCS8(der, p)
	}
	return nil, err
}

// parseLegacyEncryptedKey decrypts a PEM block with RFC 1421 style
// Proc-Type and DEK-Info headers, as OpenSSL's "traditional" format writes.
func parseLegacyEncryptedKey(block *pem.Block, p *passphrase) (crypto.Signer, error) {
	pw, err := p.get()
	if err != nil {
		return nil, err
	}
	//lint:ignore SA1019 see ParsePrivateKey: the only decoder for OpenSSL's traditional encrypted PEM.
	der, err := x509.DecryptPEMBlock(block, pw)
	if errors.Is(err, x509.IncorrectPasswordError) {
		return nil, fmt.Errorf("%w", ErrIncorrectPassphrase)
	}
	if err != nil {
		return nil, fmt.Errorf("keys: decrypting %s: %w", block.Type, err)
	}
	key, err := parseKeyDER(block.Type, der)
	if err != nil {
		return nil, decryptedParseError(der, err)
	}
	return toSigner(key)
}

// decryptedParseError tells a wrong passphrase from a bad key after CBC
// decryption passed its padding check, which a wrong key does one time in
// 256: plaintext from a wrong key is not a well-formed DER SEQUENCE.
func decryptedParseError(plain []byte, err error) error {
	s := cryptobyte.String(plain)
	var seq cryptobyte.String
	if s.ReadASN1(&seq, asn1.SEQUENCE) && s.Empty() {
		return err
	}
	return fmt.Errorf("%w", ErrIncorrectPassphrase)
}

// toSigner returns the keys this package supports as a crypto.Signer.
func toSigner(key any) (crypto.Signer, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return k, nil
		}
		return nil, fmt.Errorf("keys: unsupported elliptic curve %s (want P-256, P-384 or P-521)", k.Curve.Params().Name)
	case ed25519.PrivateKey:
		// RFC 8419: Ed25519 signs CMS with SHA-512 signed attributes.
		return k, nil
	case *mldsa.PrivateKey:
		// RFC 9881 key forms; signs CMS as RFC 9882 says.
		return k, nil
	case *ecdh.PrivateKey:
		return nil, errors.New("keys: X25519 keys cannot sign")
	case *kem.PrivateKey:
		// It decrypts only; its Sign fails (see kem.PrivateKey).
		return k, nil
	case nil:
		return nil, errors.New("keys: no private key found")
	default:
		return nil, fmt.Errorf("keys: unsupported private key type %T", key)
	}
}
