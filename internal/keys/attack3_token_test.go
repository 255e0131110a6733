//go:build cgo

package keys

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"testing"
)

// Red team (attack3): a token key given with a certificate that is not its
// own. newKey compares the RSA modulus, but an EC private key object shows
// only its curve, so carol's card key with another P-256 certificate signed
// messages whose signature could never verify, and sign exited 0. Every
// token signature is now checked against the certificate before it leaves.
func TestTokenKeyWithForeignCertificate(t *testing.T) {
	tt := newTestToken(t)
	for _, kind := range []string{"p256", "rsa"} {
		t.Run(kind, func(t *testing.T) {
			key := testKey(t, kind)
			other := testCert(t, "carol", key, nil, nil)
			object := map[string]string{"p256": "carol", "rsa": "bob"}[kind]
			u, err := ParsePKCS11URI(tt.uriFor(object))
			if err != nil {
				t.Fatal(err)
			}
			id, err := OpenTokenIdentity(u, TokenOptions{PIN: staticPIN(testPIN)}, other)
			if err != nil {
				if errors.Is(err, errKeyMismatch) {
					return // refused when opened: as good
				}
				t.Fatal(err)
			}
			defer id.Close()
			digest := sha256.Sum256([]byte("a message"))
			sig, err := id.Signer.Sign(rand.Reader, digest[:], crypto.SHA256)
			if err == nil {
				t.Fatalf("the token signed (%d bytes) for a certificate that is not its key's", len(sig))
			}
			if !errors.Is(err, errTokenKeyMismatch) {
				t.Fatalf("got %v, want errTokenKeyMismatch", err)
			}
		})
	}
}
