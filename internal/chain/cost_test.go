package chain

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab/labtest"
)

// TestBuildCrossSigned: untrusted CA certificates that sign one another
// (issue #11 item 11; the pairs shape took 89 s at 16 certificates before)
// end the search fast, with "untrusted" when pruning (name and key already
// on the path) disposes of them, with "too-complex" when the budgets do.
func TestBuildCrossSigned(t *testing.T) {
	at := t0.AddDate(1, 0, 0)
	root := issue(t, ca("root"), nil)
	for _, shape := range []labtest.Shape{labtest.Pairs, labtest.Mesh} {
		for _, n := range []int{16, 32, 200} {
			t.Run(fmt.Sprintf("%s-%d", shape, n), func(t *testing.T) {
				_, leaf, junk := labtest.CrossSigned(t, shape, n, at)
				var cache Cache
				start := time.Now()
				_, err := Build(leaf, Options{Roots: []*x509.Certificate{root.cert}, Intermediates: junk, Time: at, Cache: &cache})
				elapsed := time.Since(start)
				var ce *Error
				if !errors.As(err, &ce) || ce.Reason != Untrusted && ce.Reason != TooComplex {
					t.Fatalf("got %v, want untrusted or too-complex", err)
				}
				if elapsed > time.Second || cache.checks > maxSignatureChecks {
					t.Fatalf("took %v and %d signature checks", elapsed, cache.checks)
				}
				t.Logf("%v: %d signature checks, %v", elapsed, cache.checks, err)
			})
		}
	}
}

// TestBuildTooComplex: the 200-certificate mesh fails with a clear error,
// TooComplex about the leaf, saying what happened.
func TestBuildTooComplex(t *testing.T) {
	at := t0.AddDate(1, 0, 0)
	_, leaf, junk := labtest.CrossSigned(t, labtest.Mesh, 200, at)
	// The junk leads to a trusted name, so no shortcut ends the search.
	root := issue(t, ca("Cross 14"), nil)
	_, err := Build(leaf, Options{Roots: []*x509.Certificate{root.cert}, Intermediates: junk, Time: at})
	var ce *Error
	if !errors.As(err, &ce) || ce.Reason != TooComplex || !ce.Cert.Equal(leaf) ||
		!strings.Contains(err.Error(), "too many candidate chains") {
		t.Fatalf("got %v, want too-complex about the leaf", err)
	}
}

// TestBuildAmidJunk: a real chain still verifies when the intermediates
// also hold cross-signed junk, junk of unrelated names and junk under the
// real intermediate's own name (without key identifiers), listed first.
func TestBuildAmidJunk(t *testing.T) {
	at := t0.AddDate(1, 0, 0)
	root := issue(t, ca("root"), nil)
	inter := issue(t, ca("inter"), root)
	user := issue(t, leaf("user"), inter)
	_, _, mesh := labtest.CrossSigned(t, labtest.Mesh, 200, at)
	_, _, pairs := labtest.CrossSigned(t, labtest.Pairs, 200, at)
	sameName := impostors(t, inter.cert.Subject, 50, at)
	pool := append(append(append(sameName, mesh...), pairs...), inter.cert)
	var cache Cache
	r, err := Build(user.cert, Options{Roots: []*x509.Certificate{root.cert}, Intermediates: pool, Time: at, Cache: &cache})
	if err != nil || len(r.Chain) != 3 {
		t.Fatalf("got %v, want the chain user <- inter <- root", err)
	}
	if cache.checks != 2 {
		t.Errorf("%d signature checks, want 2", cache.checks)
	}
}

// impostors returns n CA certificates named name, without key identifiers,
// each issued (under the name "impostor issuer") by another one's key, so
// that they chain to one another forever.
func impostors(t *testing.T, name pkix.Name, n int, at time.Time) []*x509.Certificate {
	bc, _ := asn1.Marshal(struct{ CA bool }{true})
	keys := make([]*ecdsa.PrivateKey, n)
	for i := range keys {
		keys[i], _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	var out []*x509.Certificate
	for i := range n {
		subject, issuer := name, pkix.Name{CommonName: "impostor issuer"}
		if i%2 == 1 {
			subject, issuer = issuer, subject
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 1)), Subject: subject,
			NotBefore: at.AddDate(-1, 0, 0), NotAfter: at.AddDate(1, 0, 0), KeyUsage: x509.KeyUsageCertSign,
			ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 19}, Critical: true, Value: bc}}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, &x509.Certificate{Subject: issuer}, keys[i].Public(), keys[(i+1)%n])
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// TestCacheReuse: building the same chain again with the same Cache (at
// another time, as pkg/verify does for the signing time) makes no new
// signature check, and a Cache whose total budget is spent refuses more.
func TestCacheReuse(t *testing.T) {
	at := t0.AddDate(1, 0, 0)
	root := issue(t, ca("root"), nil)
	inter := issue(t, ca("inter"), root)
	user := issue(t, leaf("user"), inter)
	opts := Options{Roots: []*x509.Certificate{root.cert}, Intermediates: []*x509.Certificate{inter.cert}, Time: at, Cache: new(Cache)}
	if _, err := Build(user.cert, opts); err != nil {
		t.Fatal(err)
	}
	before := opts.Cache.checks
	opts.Time = at.AddDate(0, 1, 0)
	if _, err := Build(user.cert, opts); err != nil || opts.Cache.checks != before {
		t.Fatalf("second build: %v after %d new signature checks, want none", err, opts.Cache.checks-before)
	}

	spent := &Cache{checks: maxTotalSignatureChecks}
	opts.Cache = spent
	_, err := Build(user.cert, opts)
	var ce *Error
	if !errors.As(err, &ce) || ce.Reason != TooComplex {
		t.Fatalf("with the budget spent: got %v, want too-complex", err)
	}
}

// BenchmarkCrossSigned measures one Build over the hostile sets of issue
// #11 item 11 (fresh Cache each time, as for one message).
func BenchmarkCrossSigned(b *testing.B) {
	at := t0.AddDate(1, 0, 0)
	for _, shape := range []labtest.Shape{labtest.Pairs, labtest.Mesh} {
		for _, n := range []int{16, 32, 200} {
			_, leaf, junk := labtest.CrossSigned(b, shape, n, at)
			root := issue(b, ca("Cross 1"), nil).cert // a trusted name the junk uses
			b.Run(fmt.Sprintf("%s-%d", shape, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Build(leaf, Options{Roots: []*x509.Certificate{root}, Intermediates: junk, Time: at}); err == nil {
						b.Fatal("junk verified")
					}
				}
			})
		}
	}
}

// TestBuildLeafNameAndKeyOfRoot: the loop check does not keep a trusted
// root from issuing a certificate of its own name and key (chaindiff's
// class 5: crypto/x509 accepts it).
func TestBuildLeafNameAndKeyOfRoot(t *testing.T) {
	at := t0.AddDate(1, 0, 0)
	root := issue(t, ca("Root A"), nil)
	inter := issue(t, ca("Inter 1"), root)
	// A certificate named "Root A" for the root's key, issued by Inter 1.
	tmpl := leaf("Root A")
	tmpl.SerialNumber = big.NewInt(99)
	tmpl.NotBefore, tmpl.NotAfter = t0, t0.AddDate(10, 0, 0)
	tmpl.EmailAddresses = []string{"dave@example.org"}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, inter.cert, root.key.Public(), inter.key)
	if err != nil {
		t.Fatal(err)
	}
	same, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Build(same, Options{Roots: []*x509.Certificate{root.cert}, Intermediates: []*x509.Certificate{inter.cert}, Time: at})
	if err != nil || len(r.Chain) != 3 {
		t.Fatalf("got %v, want the chain of 3", err)
	}

	// With the root's subjectAltName too, it is the root for
	// crypto/x509's alreadyInChain, which refuses; so does Build.
	tmpl.EmailAddresses = nil
	der, err = x509.CreateCertificate(rand.Reader, tmpl, inter.cert, root.key.Public(), inter.key)
	if err != nil {
		t.Fatal(err)
	}
	twin, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Build(twin, Options{Roots: []*x509.Certificate{root.cert}, Intermediates: []*x509.Certificate{inter.cert}, Time: at}); err == nil {
		t.Fatal("the root's twin verified, want a failure as crypto/x509's")
	}
}
