// Package labtest gives tests one lab PKI per seed and test binary: deriving
// a lab's RSA keys takes a while, and it is the same every time for a seed.
// Test helper only: import it from _test.go files.
package labtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab"
)

type entry struct {
	once sync.Once
	lab  *lab.Lab
	err  error
}

// labs caches one lab per seed for the test binary's lifetime.
var labs sync.Map // seed -> *entry

// Seeded returns the lab for seed (lab.New with default options otherwise),
// built once per test binary; t fails if it cannot be built.
func Seeded(t testing.TB, seed string) *lab.Lab {
	t.Helper()
	v, _ := labs.LoadOrStore(seed, new(entry))
	e := v.(*entry)
	e.once.Do(func() { e.lab, e.err = lab.New(lab.Options{Seed: seed}) })
	if e.err != nil {
		t.Fatalf("building the lab: %v", e.err)
	}
	return e.lab
}

// Default returns the lab of the default seed.
func Default(t testing.TB) *lab.Lab {
	t.Helper()
	return Seeded(t, "")
}

// SelfSigned returns a P-256 key and a self-signed certificate for
// alice@example.com that no lab root vouches for, valid a year either side
// of at, allowed to sign mail. Its subject and issuer are CN=cn written as
// a UTF8String whatever bytes cn holds, so tests can give it hostile
// names (quotes, line ends, non-ASCII bytes).
func SelfSigned(t testing.TB, cn string, serial int64, at time.Time) (*ecdsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	name, err := asn1.Marshal(pkix.RDNSequence{{{Type: asn1.ObjectIdentifier{2, 5, 4, 3},
		Value: asn1.RawValue{Tag: asn1.TagUTF8String, Bytes: []byte(cn)}}}})
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), RawSubject: name,
		EmailAddresses: []string{"alice@example.com"}, NotBefore: at.AddDate(-1, 0, 0), NotAfter: at.AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}
