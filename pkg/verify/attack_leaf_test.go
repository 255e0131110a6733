package verify_test

// Red-team findings against cert-verify's input path (issue #11 item 7):
// a file whose verdict is about another certificate than the one a mail
// client, openssl or the user takes from it.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"go.mozilla.org/pkcs7"

	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/pkg/verify"
)

// impostor returns a certificate named as name (a DER subject) but made by a
// stranger: self-signed, not a CA, for bob@example.com.
func impostor(t *testing.T, name []byte) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), RawSubject: name, EmailAddresses: []string{"bob@example.com"},
		NotBefore: at.AddDate(-1, 0, 0), NotAfter: at.AddDate(1, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLeafNotFooled: the leaf heuristic ("the certificate that issued none
// of the others") must not be steered to a valid certificate of the file
// while the certificate the file is about (its first, which a mail client
// imports and openssl verify checks) is never looked at. Before the fix, a
// pair of junk certificates that name each other as issuer, put in front
// of someone else's valid certificate and its intermediate, made
// cert-verify exit 0 on Mallory's file.
func TestLeafNotFooled(t *testing.T) {
	l := labtest.Default(t)
	alice, in := l.User("alice-sign").Cert, l.Intermediate.Cert
	loop := crossPair(t) // "Loop A" and "Loop B" issued each other: neither is a leaf
	tests := []struct {
		name  string
		certs []*x509.Certificate
	}{
		{"a loop in front of another's chain", []*x509.Certificate{loop[0], loop[1], alice, in}},
		{"a loop behind it", []*x509.Certificate{alice, in, loop[1], loop[0]}},
		// Named as the intermediate, so it "issued" alice, but no CA.
		{"an end-entity certificate named as the issuer", []*x509.Certificate{impostor(t, in.RawSubject), alice, in}},
	}
	roots := []*x509.Certificate{l.Root.Cert}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var file bytes.Buffer
			for _, c := range tc.certs {
				pem.Encode(&file, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
			}
			certs, err := verify.ReadCertificates(&file)
			if err != nil {
				t.Fatal(err)
			}
			leaf, rest, err := verify.Leaf(certs)
			if err == nil {
				res, verr := verify.Certificate(context.Background(), leaf, verify.PurposeAny,
					verify.Options{Roots: roots, Intermediates: rest, Now: func() time.Time { return at }})
				t.Fatalf("checked %q (valid %v, %v) among certificates that are not its chain; want an ambiguous file",
					leaf.Subject, res != nil && res.Valid, verr)
			}
			var ae *verify.AmbiguousCertificateError
			if !errors.As(err, &ae) || !strings.Contains(err.Error(), "ambiguous certificate file") {
				t.Errorf("error %v, want a *AmbiguousCertificateError", err)
			}
		})
	}
}

// TestReadCertificatesSignedMessage: cert-verify reads a certificate file,
// and a PKCS#7 bundle in it is a certs-only one (.p7b). A signed message
// (a .p7s signature, or an opaque-signed body) was read as a bundle of
// its signer's certificates, so `smimectl cert-verify mail.p7s` exited 0
// having checked no signature: an operator could take that for a checked
// message. It is now refused, pointing at smimectl verify.
func TestReadCertificatesSignedMessage(t *testing.T) {
	l := labtest.Default(t)
	alice := l.User("alice-sign")
	sd, err := pkcs7.NewSignedData([]byte("Pay Mallory.\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := sd.AddSigner(alice.Cert, alice.Key, pkcs7.SignerInfoConfig{}); err != nil {
		t.Fatal(err)
	}
	sd.AddCertificate(l.Intermediate.Cert)
	p7s, err := sd.Finish()
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := pkcs7.DegenerateCertificate(append(bytes.Clone(alice.Cert.Raw), l.Intermediate.Cert.Raw...))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		data   []byte
		signed bool
	}{
		{"signed message, DER", p7s, true},
		{"signed message, PEM", pem.EncodeToMemory(&pem.Block{Type: "PKCS7", Bytes: p7s}), true},
		{"certs-only bundle", bundle, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			certs, err := verify.ReadCertificates(bytes.NewReader(tc.data))
			if !tc.signed {
				if err != nil || len(certs) != 2 {
					t.Fatalf("got %d certificates, %v; want 2", len(certs), err)
				}
				return
			}
			var me *verify.MalformedCertificateError
			if !errors.As(err, &me) || !strings.Contains(err.Error(), "signed message") {
				t.Fatalf("got %d certificates, error %v; want a signed message refused", len(certs), err)
			}
		})
	}
}
