package cms

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"sync"
	"testing"
	"time"
)

// testIdentity is a self-signed certificate and key made for a test.
type testIdentity struct {
	key  crypto.Signer
	cert *x509.Certificate
}

var (
	identOnce sync.Once
	idents    map[string]testIdentity
)

// identities returns an RSA and an ECDSA identity, made once per test binary.
func identities(t testing.TB) map[string]testIdentity {
	t.Helper()
	identOnce.Do(func() {
		idents = map[string]testIdentity{}
		rk, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		for name, k := range map[string]crypto.Signer{"rsa": rk, "ecdsa": ek} {
			tmpl := &x509.Certificate{
				SerialNumber: big.NewInt(42),
				Subject:      pkix.Name{CommonName: "cms test " + name},
				NotBefore:    time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
				NotAfter:     time.Date(2045, 1, 1, 0, 0, 0, 0, time.UTC),
				KeyUsage:     x509.KeyUsageDigitalSignature,
				SubjectKeyId: []byte{1, 2, 3, 4, byte(len(name))},
			}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
			if err != nil {
				panic(err)
			}
			c, err := x509.ParseCertificate(der)
			if err != nil {
				panic(err)
			}
			idents[name] = testIdentity{k, c}
		}
	})
	return idents
}
