package sign_test

import (
	"bytes"
	"crypto/x509"
	"testing"

	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// TestCertsOnly (issue #17 item 1): the certs-only message smimectl
// certs-only writes comes from sign's public CertsOnly; it reads back
// through the public verify.ReadCertificates as the same certificates in
// the same order (not as a signed message), and what can't make one is an
// error naming sign once, not a malformed file.
func TestCertsOnly(t *testing.T) {
	l := labtest.Default(t)
	certs := append([]*x509.Certificate{l.User("alice-sign").Cert}, l.Chain()...)
	der, err := sign.CertsOnly(certs)
	if err != nil {
		t.Fatal(err)
	}
	back, err := verify.ReadCertificates(bytes.NewReader(der))
	if err != nil {
		t.Fatalf("ReadCertificates of the certs-only message: %v", err)
	}
	if len(back) != len(certs) {
		t.Fatalf("read back %d certificates, want %d", len(back), len(certs))
	}
	for i := range certs {
		if !back[i].Equal(certs[i]) {
			t.Errorf("certificate %d: read back %s, want %s (the order given)", i+1, back[i].Subject, certs[i].Subject)
		}
	}
	for _, tc := range []struct {
		name  string
		certs []*x509.Certificate
	}{
		{"none", nil},
		{"a nil certificate", []*x509.Certificate{certs[0], nil}},
		{"a certificate never encoded", []*x509.Certificate{{Subject: certs[0].Subject}}},
	} {
		der, err := sign.CertsOnly(tc.certs)
		if err == nil || der != nil || bytes.Count([]byte(err.Error()), []byte("sign:")) != 1 || bytes.Contains([]byte(err.Error()), []byte("cms:")) {
			t.Errorf("%s: got %d bytes and %v, want no bytes and an error naming sign once", tc.name, len(der), err)
		}
	}
}
