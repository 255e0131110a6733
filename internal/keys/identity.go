package keys

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/smimectl/smimectl/internal/cms"
	"software.sslmate.com/src/go-pkcs12"
)

// Identity is a private key with its certificate and the other certificates
// that came with it, usually the issuing chain.
type Identity struct {
	// Signer is the private key.
	Signer crypto.Signer
	// Certificate is the certificate whose public key is Signer's.
	Certificate *x509.Certificate
	// Chain holds the other certificates in the order they were found; it
	// may be empty and is not verified.
	Chain []*x509.Certificate

	// closer, if set, holds the token the key lives on (see Close).
	closer interface{ Close() error }
}

// errKeyMismatch is what MatchesKey and the identity builders report when no
// certificate belongs to the key.
var errKeyMismatch = errors.New("keys: the certificate does not belong to the private key")

// MatchesKey reports, with a nil error, whether cert's public key is
// signer's public key.
func MatchesKey(cert *x509.Certificate, signer crypto.Signer) error {
	if cert == nil || signer == nil {
		return errKeyMismatch
	}
	if !cms.KeyMatchesCertificate(signer.Public(), cert) {
		return errKeyMismatch
	}
	return nil
}

// ParsePKCS12 decodes a PKCS#12 (RFC 7292) file holding one private key and
// its certificates, protected with password. Both the modern (PBES2 with
// AES) and legacy (3DES, RC2) encryptions are supported. The certificate
// matching the key becomes Certificate and the others Chain. A wrong password
// gives [ErrIncorrectPassphrase].
func ParsePKCS12(data []byte, password []byte) (id *Identity, err error) {
	defer func() {
		// The PKCS#12 decoder is a dependency; no input may crash the caller.
		if r := recover(); r != nil {
			id, err = nil, fmt.Errorf("keys: malformed PKCS#12 file (decoder panic: %v)", r)
		}
	}()
	if err := checkPKCS12Iterations(data); err != nil {
		return nil, err
	}
	// NSS writes BER (issue #15 item 3): normalise it, then check the
	// iteration counts the BER hid from the check above.
	norm, err := normalizePKCS12(data, password)
	if err != nil {
		return nil, err
	}
	if err := checkPKCS12Iterations(norm); err != nil {
		return nil, err
	}
	key, cert, chain, err := pkcs12.DecodeChain(norm, string(password))
	if errors.Is(err, pkcs12.ErrIncorrectPassword) {
		return nil, fmt.Errorf("%w", ErrIncorrectPassphrase)
	}
	if err != nil {
		return nil, fmt.Errorf("keys: decoding PKCS#12: %w", err)
	}
	signer, err := toSigner(key)
	if err != nil {
		return nil, err
	}
	return newIdentity(signer, append([]*x509.Certificate{cert}, chain...))
}

// LoadIdentity reads a private key from keyPath (see [ParsePrivateKey]) and
// certificates from certPath (see [LoadCertificates]); the two may be the
// same PEM file. The certificate matching the key becomes Certificate and the
// others Chain.
func LoadIdentity(keyPath, certPath string, pass PassphraseFunc) (*Identity, error) {
	data, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, &fileError{name: keyPath, err: err}
	}
	signer, err := ParsePrivateKey(data, pass)
	if err != nil {
		return nil, &fileError{name: keyPath, err: err}
	}
	certs, err := LoadCertificates(certPath)
	if err != nil {
		return nil, err
	}
	id, err := newIdentity(signer, certs)
	if err != nil {
		return nil, &fileError{name: certPath, err: err}
	}
	return id, nil
}

// newIdentity picks the first certificate matching signer; the rest keep
// their order as the chain.
func newIdentity(signer crypto.Signer, certs []*x509.Certificate) (*Identity, error) {
	for i, c := range certs {
		if MatchesKey(c, signer) == nil {
			chain := make([]*x509.Certificate, 0, len(certs)-1)
			chain = append(chain, certs[:i]...)
			chain = append(chain, certs[i+1:]...)
			return &Identity{Signer: signer, Certificate: c, Chain: chain}, nil
		}
	}
	return nil, errKeyMismatch
}
