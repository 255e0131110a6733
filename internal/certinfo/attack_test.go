package certinfo

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"testing"
)

// TestCheckUsageEncryptionByKeyType: encryption needs keyEncipherment for
// an RSA key and keyAgreement for an EC key (SPEC, "Certificate
// selection" 2; RFC 8550 section 4.4.2). Either bit was accepted for any
// key, so an RSA certificate its CA restricted to keyAgreement (which RSA
// cannot do), an EC one restricted to keyEncipherment, and an Ed25519 one
// (a signature-only key) were "valid" for encryption in cert-verify and
// cert-match, and the first two were encrypted to against their key usage.
func TestCheckUsageEncryptionByKeyType(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  any
		ku   x509.KeyUsage
		ok   bool
	}{
		{"rsa keyEncipherment", &rsaKey.PublicKey, x509.KeyUsageKeyEncipherment, true},
		{"rsa keyAgreement", &rsaKey.PublicKey, x509.KeyUsageKeyAgreement, false},
		{"rsa no key usage", &rsaKey.PublicKey, 0, true},
		{"ec keyAgreement", &ecKey.PublicKey, x509.KeyUsageKeyAgreement, true},
		{"ec keyEncipherment", &ecKey.PublicKey, x509.KeyUsageKeyEncipherment, false},
		{"ec no key usage", &ecKey.PublicKey, 0, true},
		{"ed25519 keyAgreement", edPub, x509.KeyUsageKeyAgreement, false},
		{"ed25519 no key usage", edPub, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckUsage(&x509.Certificate{PublicKey: tc.key, KeyUsage: tc.ku}, Encryption)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrKeyUsage)) {
				t.Fatalf("got %v, want ok %v (or ErrKeyUsage)", err, tc.ok)
			}
		})
	}
}
