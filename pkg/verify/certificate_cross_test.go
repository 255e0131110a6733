package verify_test

// Issue #11 items 7 and 11: cert-verify's input path (ReadCertificates, Leaf,
// Certificate) with a certificate file carrying up to the 999 cross-signed CA
// certificates a file may hold besides the leaf. The chain builder's budget
// (internal/chain, item 11) bounds the work; this test holds the certificate
// path to it. Before the budget, 12 such certificates took 13 s and each pair
// more about 7 times as long.

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/pkg/verify"
)

func crossSignedFile(t testing.TB, shape labtest.Shape, n int) []byte {
	_, leaf, cross := labtest.CrossSigned(t, shape, n, at)
	var b bytes.Buffer
	for _, c := range append([]*x509.Certificate{leaf}, cross...) {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

// checkFile runs what cert-verify runs on a certificate file.
func checkFile(file []byte, roots []*x509.Certificate) (*verify.CertificateResult, error) {
	certs, err := verify.ReadCertificates(bytes.NewReader(file))
	if err != nil {
		return nil, err
	}
	leaf, rest, err := verify.Leaf(certs)
	if err != nil {
		return nil, err
	}
	return verify.Certificate(context.Background(), leaf, verify.PurposeSign,
		verify.Options{Roots: roots, Intermediates: rest, Now: func() time.Time { return at }})
}

func TestCertificateCrossSigned(t *testing.T) {
	roots := []*x509.Certificate{labtest.Default(t).Root.Cert}
	for _, shape := range []labtest.Shape{labtest.Pairs, labtest.Mesh} {
		for _, n := range []int{16, 32, 200, verify.MaxFileCertificates - 1} {
			t.Run(fmt.Sprintf("%v-%d", shape, n), func(t *testing.T) {
				file := crossSignedFile(t, shape, n)
				start := time.Now()
				res, err := checkFile(file, roots)
				took := time.Since(start)
				var te *verify.TrustError
				if !errors.As(err, &te) || !slices.Contains([]verify.TrustReason{verify.Untrusted, verify.TooComplex}, te.Reason) || res == nil || res.Valid {
					t.Fatalf("got %v, want untrusted or too complex", err)
				}
				// A generous bound: the budget makes it milliseconds; without
				// it, 16 certificates take minutes.
				if took > 5*time.Second {
					t.Errorf("took %v", took)
				}
				t.Logf("%v: %v", took, err)
			})
		}
	}
	// One more than a file may hold besides the leaf is refused unread.
	_, err := checkFile(crossSignedFile(t, labtest.Pairs, verify.MaxFileCertificates), roots)
	var me *verify.MalformedCertificateError
	if !errors.As(err, &me) {
		t.Errorf("1001 certificates: %v, want a *MalformedCertificateError", err)
	}
}

func BenchmarkCertificateCrossSigned(b *testing.B) {
	roots := []*x509.Certificate{labtest.Default(b).Root.Cert}
	for _, n := range []int{16, 32, 200, verify.MaxFileCertificates - 1} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			file := crossSignedFile(b, labtest.Pairs, n)
			b.ReportAllocs()
			for b.Loop() {
				if res, _ := checkFile(file, roots); res == nil || res.Valid {
					b.Fatal("valid")
				}
			}
		})
	}
}
