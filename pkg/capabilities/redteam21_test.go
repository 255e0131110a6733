package capabilities

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// Red team (session 21): the certificate a valid signer's
// SMIMEEncryptionKeyPreference names comes from the message's certificate
// set, which nobody checked. A signer (or whoever adds it) can name a
// certificate of its own making that only claims the signer's issuer's
// name and carries the signer's address: no CA issued it, so no encrypt
// will ever use it, and one record per message for such certificates
// fills the store without bound. Only a certificate the signer's issuer
// really signed is recorded.
func TestRedteamLearnFromForgedEncryptionCertificate(t *testing.T) {
	l := labtest.Seeded(t, "capabilities")
	at := func() time.Time { return epoch }
	alice := l.User("alice-sign")
	s, _ := openStore(t, epoch)
	for i := range 3 {
		forged := forgeUnder(t, l.Intermediate.Cert, "alice@example.com", int64(1000+i))
		var b bytes.Buffer
		msg := "From: alice@example.com\r\nSubject: hello\r\nContent-Type: text/plain\r\n\r\nHi.\r\n"
		if err := sign.Sign(context.Background(), &b, strings.NewReader(msg), sign.Options{Key: alice.Key, Certificate: alice.Cert,
			Chain: append(l.Chain(), forged), EncryptionCertificate: forged, Now: at}); err != nil {
			t.Fatal(err)
		}
		res, err := verify.Verify(context.Background(), io.Discard, &b, verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: at})
		if err != nil {
			t.Fatal(err)
		}
		if e := res.Signers[0].EncryptionCertificate; e == nil || !e.Equal(forged) {
			t.Fatal("the encryption key preference was not read")
		}
		if _, err := s.LearnFrom(res); err != nil {
			t.Fatal(err)
		}
		if r, err := s.Lookup(forged); r != nil || err != nil {
			t.Errorf("message %d: a record was written for a certificate the issuer never signed (%v)", i+1, err)
		}
		if r, err := s.Lookup(alice.Cert); r == nil || err != nil {
			t.Errorf("message %d: no record for the signer (%v)", i+1, err)
		}
	}
}

// forgeUnder makes a certificate that names issuer as its issuer and
// carries addr, signed by a key of its own rather than issuer's.
func forgeUnder(t *testing.T, issuer *x509.Certificate, addr string, serial int64) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	parent := *issuer
	parent.PublicKey = key.Public()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "Alice"}, EmailAddresses: []string{addr},
		NotBefore: epoch.Add(-time.Hour), NotAfter: epoch.Add(time.Hour),
		KeyUsage: x509.KeyUsageKeyEncipherment | x509.KeyUsageKeyAgreement, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, &parent, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
