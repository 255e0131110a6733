package verify_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// BenchmarkSignVerifyAlgorithms signs and verifies a 1 KiB clear-signed
// message with ML-DSA-65, ECDSA P-256 and RSA-3072 signers, each under a
// two-level chain (issue #18: the cost of post-quantum signatures). Verify
// includes the chain's certificate signatures: ML-DSA-65 and -87 for the
// ML-DSA signer, RSA-2048 for the others.
//
//	go test ./pkg/verify -run XXX -bench SignVerifyAlgorithms -benchtime 2s
func BenchmarkSignVerifyAlgorithms(b *testing.B) {
	l, err := lab.New(lab.Options{PQ: true})
	if err != nil {
		b.Fatal(err)
	}
	at := l.Options.Epoch.AddDate(1, 0, 0)
	now := func() time.Time { return at }
	rsa3072Key, rsa3072Cert := rsa3072Signer(b, l)
	signers := []struct {
		name string
		key  crypto.Signer
		cert *x509.Certificate
		from string
		root *x509.Certificate
	}{
		{"ML-DSA-65", l.User("frank-mldsa").Key, l.User("frank-mldsa").Cert, "frank@example.com", l.PQRoot.Cert},
		{"ECDSA-P256", l.User("carol").Key, l.User("carol").Cert, "carol@example.com", l.Root.Cert},
		{"RSA-3072", rsa3072Key, rsa3072Cert, "rsa3072@example.com", l.Root.Cert},
	}
	body := bytes.Repeat([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd\r\n"), 16)
	for _, s := range signers {
		msg := append([]byte("From: "+s.from+"\r\nSubject: bench\r\nContent-Type: text/plain\r\n\r\n"), body...)
		chain := l.Chain()
		if s.name == "ML-DSA-65" {
			chain = l.PQChain()
		}
		opts := sign.Options{Key: s.key, Certificate: s.cert, Chain: chain, Now: now}
		var signed bytes.Buffer
		if err := sign.Sign(context.Background(), &signed, bytes.NewReader(msg), opts); err != nil {
			b.Fatal(err)
		}
		vopts := verify.Options{Roots: []*x509.Certificate{s.root}, Now: now}
		if res, err := verify.Verify(context.Background(), io.Discard, bytes.NewReader(signed.Bytes()), vopts); err != nil || !res.Valid {
			b.Fatalf("%s: %v", s.name, err)
		}
		b.Run("sign/"+s.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := sign.Sign(context.Background(), io.Discard, bytes.NewReader(msg), opts); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("verify/"+s.name, func(b *testing.B) {
			b.ReportMetric(float64(signed.Len()), "msg-bytes")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := verify.Verify(context.Background(), io.Discard, bytes.NewReader(signed.Bytes()), vopts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// rsa3072Signer issues an RSA-3072 signing certificate from the lab's
// classic intermediate (the lab's own users are RSA-2048).
func rsa3072Signer(b *testing.B, l *lab.Lab) (crypto.Signer, *x509.Certificate) {
	key, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		b.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:   big.NewInt(3072),
		Subject:        pkix.Name{CommonName: "RSA 3072"},
		NotBefore:      l.Options.Epoch,
		NotAfter:       l.Options.Epoch.AddDate(5, 0, 0),
		KeyUsage:       x509.KeyUsageDigitalSignature,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		EmailAddresses: []string{"rsa3072@example.com"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, l.Intermediate.Cert, key.Public(), l.Intermediate.Key)
	if err != nil {
		b.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		b.Fatal(err)
	}
	return key, cert
}
