package verify_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"slices"
	"testing"

	"github.com/smimectl/smimectl/pkg/verify"
)

// FuzzCertificate (issue #11 item 7): a certificate file, however mutated, is
// never reported valid unless the certificate checked is byte for byte one the
// lab issued; a failure is a *CertificateError or a *MalformedCertificateError,
// with a result saying invalid. Seeds are built from testdata/fuzzlab (see
// FuzzVerify), so workers derive no RSA keys.
func FuzzCertificate(f *testing.F) {
	fx := loadFuzzLab(f)
	opts := fx.verifyOptions()
	opts.Intermediates = fx.certs[:1]
	known := append([]*x509.Certificate{fx.root, fx.bob}, fx.certs...)
	pemOf := func(certs ...*x509.Certificate) []byte {
		var b bytes.Buffer
		for _, c := range certs {
			pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
		}
		return b.Bytes()
	}
	f.Add(pemOf(fx.bob))
	f.Add(fx.bob.Raw)
	f.Add(pemOf(fx.bob, fx.certs[0], fx.root))
	f.Add(pemOf(fx.certs[0]))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		certs, err := verify.ReadCertificates(bytes.NewReader(data))
		if err != nil {
			var me *verify.MalformedCertificateError
			if !errors.As(err, &me) || certs != nil {
				t.Fatalf("reading: %v (%T) with %d certificates, want a *MalformedCertificateError and none", err, err, len(certs))
			}
			return
		}
		leaf, rest, err := verify.Leaf(certs)
		if err != nil {
			var ae *verify.AmbiguousCertificateError
			if !errors.As(err, &ae) || leaf != nil {
				t.Fatalf("leaf: %v (%T), want a *AmbiguousCertificateError and no leaf", err, err)
			}
			return
		}
		for _, p := range []verify.Purpose{verify.PurposeSign, verify.PurposeAny} {
			o := opts
			o.Intermediates = slices.Concat(rest, opts.Intermediates)
			res, err := verify.Certificate(context.Background(), leaf, p, o)
			if err != nil {
				var ce *verify.CertificateError
				if !errors.As(err, &ce) || res == nil || res.Valid || res.Error == "" {
					t.Fatalf("%v: error %v (%T), result %+v; want a *CertificateError and an invalid result", p, err, err, res)
				}
				continue
			}
			if !res.Valid || !slices.ContainsFunc(known, leaf.Equal) {
				t.Fatalf("%v: valid %v for a certificate the lab did not issue:\n%s", p, res.Valid, pemOf(leaf))
			}
		}
	})
}
