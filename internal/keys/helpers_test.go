package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// testKey makes a fresh key of the named kind: rsa, p256, p384 or p521.
func testKey(t testing.TB, kind string) crypto.Signer {
	t.Helper()
	var k crypto.Signer
	var err error
	switch kind {
	case "rsa":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case "p256":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "p384":
		k, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "p521":
		k, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	default:
		t.Fatalf("unknown key kind %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testCert issues a certificate for key, signed by parentKey as parent, or
// self-signed when parent is nil.
func testCert(t testing.TB, cn string, key crypto.Signer, parent *x509.Certificate, parentKey crypto.Signer) *x509.Certificate {
	t.Helper()
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now,
		NotAfter:              now.AddDate(1, 0, 0),
		BasicConstraintsValid: true,
		IsCA:                  parent == nil,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		EmailAddresses:        []string{cn + "@example.com"},
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func pemBytes(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func certPEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pemBytes("CERTIFICATE", c.Raw)...)
	}
	return out
}

func pkcs8PEM(t testing.TB, key crypto.Signer) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pemBytes("PRIVATE KEY", der)
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// needOpenSSL skips the test when openssl is missing, except under CI=true
// where the interop tests must run.
func needOpenSSL(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("openssl is required when CI=true")
		}
		t.Skip("openssl not installed")
	}
}

// openssl runs openssl in dir and returns the contents of the file named
// out in dir.
func openssl(t testing.TB, dir, out string, args ...string) []byte {
	t.Helper()
	needOpenSSL(t)
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl %v: %v\n%s", args, err, b)
	}
	data, err := os.ReadFile(filepath.Join(dir, out))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// toIndefinite rewrites every constructed element of the DER element in der
// with indefinite length, as streaming BER writers do.
func toIndefinite(t testing.TB, der []byte) []byte {
	t.Helper()
	out, rest := indefinite(t, der)
	if len(rest) != 0 {
		t.Fatal("toIndefinite: trailing data")
	}
	return out
}

func indefinite(t testing.TB, in []byte) (out, rest []byte) {
	tag := in[0]
	if tag&0x1f == 0x1f {
		t.Fatal("toIndefinite: high tag numbers not handled")
	}
	l, n := int(in[1]), 2
	if l >= 0x80 {
		n = 2 + l&0x7f
		l = 0
		for _, b := range in[2:n] {
			l = l<<8 | int(b)
		}
	}
	contents, rest := in[n:n+l], in[n+l:]
	if tag&0x20 == 0 {
		return in[:n+l], rest
	}
	out = []byte{tag, 0x80}
	for len(contents) > 0 {
		var child []byte
		child, contents = indefinite(t, contents)
		out = append(out, child...)
	}
	return append(out, 0, 0), rest
}
