package revocation

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestFetchIssuersFlood: the caIssuers URL is in the certificate, which a
// sender makes (the chain is not built yet: that is why issuers are
// fetched), and what it answers was parsed in full before anything was
// checked. 32 MiB of distinct small certificates in PEM (115,000 of them)
// cost 250 MiB and a second, and went on to the chain builder as
// candidate issuers. An answer is now read up to 1 MiB and may hold 64
// certificates.
func TestFetchIssuersFlood(t *testing.T) {
	f := setup(t, nil)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var one bytes.Buffer
	for i := range 1000 {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 1)), Subject: f.lab.Intermediate.Cert.Subject,
			NotBefore: at.AddDate(-1, 0, 0), NotAfter: at.AddDate(1, 0, 0)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
		if err != nil {
			t.Fatal(err)
		}
		pem.Encode(&one, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	flood := bytes.Repeat(one.Bytes(), (DefaultMaxResponseSize-1)/one.Len())
	small := pemOfFirst(one.Bytes(), maxIssuerCertificates+1)
	for _, tc := range []struct {
		name, body, err string
	}{
		{"32 MiB", string(flood), "response too large"},
		{"65 certificates", string(small), "holds 65 certificates, more than the 64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := serveBytes("/ca/intermediate.crt", []byte(tc.body))
			f.handler.Store(&h)
			runtime.GC()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			start := time.Now()
			certs, err := FetchIssuers(context.Background(), f.user(t, "alice-sign"), Options{})
			took := time.Since(start)
			runtime.ReadMemStats(&m1)
			alloc := (m1.TotalAlloc - m0.TotalAlloc) >> 20
			t.Logf("%d MiB allocated, %v", alloc, took)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("got %d certificates, %v; want an error containing %q", len(certs), err, tc.err)
			}
			if alloc > 64 {
				t.Errorf("%d MiB allocated, want under 64", alloc)
			}
		})
	}
}

// pemOfFirst returns the first n PEM blocks of data.
func pemOfFirst(data []byte, n int) []byte {
	var out []byte
	for range n {
		var b *pem.Block
		b, data = pem.Decode(data)
		out = append(out, pem.EncodeToMemory(b)...)
	}
	return out
}
