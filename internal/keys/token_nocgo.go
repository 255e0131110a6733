//go:build !cgo

package keys

import "crypto/x509"

// moduleHook is unused without cgo.
//
//lint:ignore U1000 the cgo build's test seam
type moduleHook struct{}

// Token is an open session on a PKCS#11 token. Without cgo none can be
// opened: [OpenToken] fails with [ErrNoPKCS11].
type Token struct{}

// OpenToken fails with [ErrNoPKCS11]: this build can't load PKCS#11 modules.
func OpenToken(*PKCS11URI, TokenOptions) (*Token, error) { return nil, ErrNoPKCS11 }

// Close does nothing.
func (t *Token) Close() error { return nil }

// Certificates fails with [ErrNoPKCS11].
func (t *Token) Certificates() ([]TokenCert, error) { return nil, ErrNoPKCS11 }

func (t *Token) identity(*x509.Certificate) (*Identity, error) { return nil, ErrNoPKCS11 }
