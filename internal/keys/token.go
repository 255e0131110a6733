package keys

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
)

// PKCS#11 tokens (smart cards, USB tokens, HSMs; SoftHSM2 in the tests): the
// guide's smart-card keys (Ch. 6 "Outlook Web Access with the S/MIME Control
// and Smart Cards"). The key never leaves the token: signing, RSA decryption
// and ECDH run on it, in one session logged in once per [Token].
//
// The implementation needs cgo (github.com/miekg/pkcs11 loads the module with
// dlopen); a build without cgo has the same API, and [OpenToken] fails with
// [ErrNoPKCS11].

// TokenOptions say how to reach and unlock a token.
type TokenOptions struct {
	// ModulePath is the PKCS#11 module (a shared library such as
	// /usr/lib/softhsm/libsofthsm2.so or OpenSC's opensc-pkcs11.so). If
	// empty, the URI's module-path is used; with neither, OpenToken fails.
	ModulePath string
	// PIN returns the user PIN when the token asks for a login. If nil, the
	// token is not logged in: certificates and other public objects can be
	// read, private keys can't be found. It is not called for a token with
	// a PIN pad (protected authentication path), which asks on its own.
	// The PIN is never part of an error.
	PIN func() ([]byte, error)

	// hook lets tests wrap the module (token_cgo.go).
	//lint:ignore U1000 used by the cgo build
	hook moduleHook
}

// TokenCert is a certificate found on a token, with its private key when the
// token holds one under the same CKA_ID and the session is logged in. It is
// an alias of an unnamed struct type, the same as certsel.TokenCertificate,
// so that *Token is a certsel.Token without certsel naming this package.
type TokenCert = struct {
	Certificate *x509.Certificate
	// Key is the private key (a crypto.Signer; RSA keys are also
	// crypto.Decrypters, EC keys have ECDH), or nil.
	Key crypto.Signer
	// URI names the certificate's object on its token.
	URI string
}

// ErrNoPKCS11 is reported by a smimectl built without cgo, which can't load
// PKCS#11 modules.
var ErrNoPKCS11 = errors.New("keys: this build has no PKCS#11 support (it was built with CGO_ENABLED=0); use a build with cgo for smart cards")

// ErrIncorrectPIN means the token refused the PIN. The login is not retried:
// cards lock after a few wrong PINs.
var ErrIncorrectPIN = errors.New("keys: the token refused the PIN")

// ErrPINLocked means the token's user PIN is locked after too many wrong
// tries; its security officer (PUK) must unlock it.
var ErrPINLocked = errors.New("keys: the token's PIN is locked")

// TokenNotFoundError reports that no present token matches the URI: the
// card is not inserted, or the URI names another one.
type TokenNotFoundError struct {
	URI     string   // the token part of the URI
	Present []string // labels of the tokens that are present
}

func (e *TokenNotFoundError) Error() string {
	if len(e.Present) == 0 {
		return fmt.Sprintf("keys: no token matching %s is present (the module sees no token)", e.URI)
	}
	return fmt.Sprintf("keys: no token matching %s is present (the module sees %q)", e.URI, e.Present)
}

// ObjectNotFoundError reports that the token has no object the URI names
// (or none the session may see: private keys need a login).
type ObjectNotFoundError struct {
	URI  string
	What string // "private key", "certificate"
}

func (e *ObjectNotFoundError) Error() string {
	return fmt.Sprintf("keys: the token has no %s matching %s", e.What, e.URI)
}

// TokenError reports a PKCS#11 call that failed, with the step it was in.
type TokenError struct {
	Op  string // what was being done ("loading module", "signing")
	Err error  // the module's error (CKR_…)
}

func (e *TokenError) Error() string { return fmt.Sprintf("keys: PKCS#11 %s: %v", e.Op, e.Err) }
func (e *TokenError) Unwrap() error { return e.Err }

// OpenTokenIdentity opens the token u names, logs in and returns the private
// key u names with its certificate: cert if not nil (it must belong to the
// key), else the certificate on the token with the key's CKA_ID. The other CA
// certificates on the token form Chain. The Identity holds the token open:
// the caller must call its Close, which logs out, closes the session and
// finalises the module. On error nothing stays open.
func OpenTokenIdentity(u *PKCS11URI, opts TokenOptions, cert *x509.Certificate) (*Identity, error) {
	if opts.PIN == nil {
		return nil, errors.New("keys: a private key on a token needs a PIN source")
	}
	t, err := OpenToken(u, opts)
	if err != nil {
		return nil, err
	}
	id, err := t.identity(cert)
	if err != nil {
		return nil, errors.Join(err, t.Close())
	}
	id.closer = t
	return id, nil
}

// Close releases what holds the identity's key: for a token key, the
// session and the module. It is a no-op for keys from files. The key can't
// be used after Close.
func (id *Identity) Close() error {
	if id == nil || id.closer == nil {
		return nil
	}
	c := id.closer
	id.closer = nil
	return c.Close()
}
