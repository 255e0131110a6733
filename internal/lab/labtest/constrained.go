package labtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

// Constrained returns a P-256 root, a sub-CA under it whose template edit
// may change (to give it name constraints: PermittedEmailAddresses,
// ExcludedEmailAddresses, ExtraExtensions...), and a signer for addr
// (key and certificate, with addr as its subjectAltName rfc822Name) issued
// by the sub-CA. Every certificate is valid a year either side of at and
// has key identifiers, as a real CA writes them.
func Constrained(t testing.TB, at time.Time, addr string, edit func(sub *x509.Certificate)) (root, sub *x509.Certificate, key *ecdsa.PrivateKey, signer *x509.Certificate) {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	create := func(serial int64, tmpl, parent *x509.Certificate, pub any, signer *ecdsa.PrivateKey) *x509.Certificate {
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore, tmpl.NotAfter = at.AddDate(-1, 0, 0), at.AddDate(1, 0, 0)
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	caTmpl := func(cn string) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: cn}, IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	}
	rootKey, subKey := newKey(), newKey()
	rt := caTmpl("Constrained Test Root")
	root = create(1, rt, rt, rootKey.Public(), rootKey)
	st := caTmpl("Constrained Sub CA")
	if edit != nil {
		edit(st)
	}
	sub = create(2, st, root, subKey.Public(), rootKey)
	key = newKey()
	signer = create(3, &x509.Certificate{Subject: pkix.Name{CommonName: addr}, EmailAddresses: []string{addr},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}},
		sub, key.Public(), subKey)
	return root, sub, key, signer
}
