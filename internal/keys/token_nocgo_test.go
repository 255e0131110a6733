//go:build !cgo

package keys

import (
	"errors"
	"testing"
)

// Issue #12: a build without cgo says plainly that it has no PKCS#11 support.
func TestOpenTokenNoCGO(t *testing.T) {
	u, err := ParsePKCS11URI("pkcs11:token=x?module-path=/usr/lib/softhsm/libsofthsm2.so")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenToken(u, TokenOptions{}); !errors.Is(err, ErrNoPKCS11) {
		t.Errorf("OpenToken: got %v, want ErrNoPKCS11", err)
	}
	if _, err := OpenTokenIdentity(u, TokenOptions{PIN: func() ([]byte, error) { return nil, nil }}, nil); !errors.Is(err, ErrNoPKCS11) {
		t.Errorf("OpenTokenIdentity: got %v, want ErrNoPKCS11", err)
	}
}
