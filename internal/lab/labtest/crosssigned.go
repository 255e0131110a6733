package labtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"testing"
	"time"
)

// Shape says how [CrossSigned] certificates sign one another.
type Shape int

const (
	// Pairs is issue #11 item 11's reproduction: half the certificates
	// are named "Cross A" and hold one key, half "Cross B" and hold
	// another, each signed by the other name's key, so every "Cross B"
	// certificate verifies as the issuer of every "Cross A" one and the
	// other way round.
	Pairs Shape = iota
	// Mesh spreads the certificates over k authorities "Cross 0" …
	// "Cross k-1", each with its own key, one certificate for each
	// ordered pair (i, j), i ≠ j: subject i with i's key, issued and
	// signed by j. No two certificates on a path share name and key, so
	// every ordering of distinct authorities is a candidate path.
	Mesh
)

func (s Shape) String() string {
	if s == Mesh {
		return "mesh"
	}
	return "pairs"
}

// CrossSigned returns n CA certificates that sign one another in the given
// shape, as a hostile message would carry them (issue #11 item 11), without
// key identifiers (nothing prunes the candidates), none self-signed, none
// vouched for by any root; and a signer for alice@example.com (key and
// certificate) issued by the first authority ("Cross A" or "Cross 0").
// Every certificate is valid a year either side of at. Keys are P-256.
func CrossSigned(t testing.TB, shape Shape, n int, at time.Time) (*ecdsa.PrivateKey, *x509.Certificate, []*x509.Certificate) {
	t.Helper()
	var names []string
	var pairs [][2]int // subject, issuer
	switch shape {
	case Pairs:
		names = []string{"Cross A", "Cross B"}
		for i := range n {
			pairs = append(pairs, [2]int{i % 2, 1 - i%2})
		}
	case Mesh:
		k := 2
		for k*(k-1) < n {
			k++
		}
		for i := range k {
			names = append(names, fmt.Sprintf("Cross %d", i))
		}
		// Round by distance, so that any n uses every authority.
		for d := 1; d < k && len(pairs) < n; d++ {
			for i := 0; i < k && len(pairs) < n; i++ {
				pairs = append(pairs, [2]int{i, (i + d) % k})
			}
		}
	}
	keys := make([]*ecdsa.PrivateKey, len(names))
	for i := range keys {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = k
	}
	// crypto/x509 writes a subject key identifier for every template with
	// IsCA; basic constraints given as an extra extension avoid it.
	bc, err := asn1.Marshal(struct{ CA bool }{true})
	if err != nil {
		t.Fatal(err)
	}
	issue := func(serial int64, tmpl *x509.Certificate, issuer int, pub any) *x509.Certificate {
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore, tmpl.NotAfter = at.AddDate(-1, 0, 0), at.AddDate(1, 0, 0)
		parent := &x509.Certificate{Subject: pkix.Name{CommonName: names[issuer]}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, keys[issuer])
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	var certs []*x509.Certificate
	for i, p := range pairs {
		certs = append(certs, issue(int64(i+1), &x509.Certificate{
			Subject:         pkix.Name{CommonName: names[p[0]]},
			KeyUsage:        x509.KeyUsageCertSign,
			ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 19}, Critical: true, Value: bc}},
		}, p[1], keys[p[0]].Public()))
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := issue(int64(n+1), &x509.Certificate{
		Subject:        pkix.Name{CommonName: "alice"},
		EmailAddresses: []string{"alice@example.com"},
		KeyUsage:       x509.KeyUsageDigitalSignature,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	}, 0, key.Public())
	return key, leaf, certs
}
