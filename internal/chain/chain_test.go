package chain

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

type node struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// issue makes a certificate for tmpl signed by parent (self-signed if nil).
func issue(t testing.TB, tmpl *x509.Certificate, parent *node) *node {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p, pk := tmpl, k
	if parent != nil {
		p, pk = parent.cert, parent.key
	}
	if tmpl.SerialNumber == nil {
		tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	}
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore, tmpl.NotAfter = t0, t0.AddDate(10, 0, 0)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p, k.Public(), pk)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &node{c, k}
}

func ca(name string) *x509.Certificate {
	return &x509.Certificate{Subject: pkix.Name{CommonName: name}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, MaxPathLen: -1}
}

func leaf(name string) *x509.Certificate {
	return &x509.Certificate{Subject: pkix.Name{CommonName: name}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
}

func TestBuild(t *testing.T) {
	root := issue(t, ca("root"), nil)
	inter := issue(t, ca("inter"), root)
	user := issue(t, leaf("user"), inter)
	otherRoot := issue(t, ca("other root"), nil)

	expiredInterTmpl := ca("inter")
	expiredInterTmpl.NotBefore, expiredInterTmpl.NotAfter = t0, t0.AddDate(0, 1, 0)
	expiredInter := issue(t, expiredInterTmpl, root)
	userOfExpired := issue(t, leaf("user2"), expiredInter)

	notCA := issue(t, leaf("not a ca"), root)
	userOfNotCA := issue(t, leaf("user3"), notCA)

	zero := ca("pathlen zero")
	zero.MaxPathLen, zero.MaxPathLenZero = 0, true
	zeroCA := issue(t, zero, root)
	belowZero := issue(t, ca("below zero"), zeroCA)
	userBelowZero := issue(t, leaf("user4"), belowZero)

	tlsInterTmpl := ca("tls only")
	tlsInterTmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	tlsInter := issue(t, tlsInterTmpl, root)
	userOfTLS := issue(t, leaf("user5"), tlsInter)

	// Issue #11 item 4: an EKU of purposes crypto/x509 does not name
	// (documentSigning, 1.3.6.1.5.5.7.3.36) restricts a CA as much as a
	// named one.
	docSigning := asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36}
	docInterTmpl := ca("document signing only")
	docInterTmpl.UnknownExtKeyUsage = []asn1.ObjectIdentifier{docSigning}
	docInter := issue(t, docInterTmpl, root)
	userOfDoc := issue(t, leaf("user6"), docInter)
	docMailTmpl := ca("document signing and mail")
	docMailTmpl.UnknownExtKeyUsage = []asn1.ObjectIdentifier{docSigning}
	docMailTmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}
	docMail := issue(t, docMailTmpl, root)
	userOfDocMail := issue(t, leaf("user7"), docMail)
	docLeafTmpl := leaf("document signer")
	docLeafTmpl.ExtKeyUsage, docLeafTmpl.UnknownExtKeyUsage = nil, []asn1.ObjectIdentifier{docSigning}
	docLeaf := issue(t, docLeafTmpl, inter)
	noEKULeafTmpl := leaf("no eku")
	noEKULeafTmpl.ExtKeyUsage = nil
	noEKULeaf := issue(t, noEKULeafTmpl, inter)

	serverTmpl := leaf("server")
	serverTmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	server := issue(t, serverTmpl, inter)

	at := t0.AddDate(1, 0, 0)
	tests := []struct {
		name   string
		leaf   *node
		roots  []*node
		inter  []*node
		at     time.Time
		want   int // chain length, or 0 for an error
		reason Reason
	}{
		{"valid", user, []*node{root}, []*node{inter}, at, 3, 0},
		{"valid with decoy intermediate", user, []*node{root}, []*node{expiredInter, inter}, at, 3, 0},
		{"root is the leaf's issuer directly", inter, []*node{root}, nil, at, 2, 0},
		{"trusted leaf", root, []*node{root}, nil, at, 1, 0},
		{"missing intermediate", user, []*node{root}, nil, at, 0, Untrusted},
		{"other root", user, []*node{otherRoot}, []*node{inter}, at, 0, Untrusted},
		{"leaf expired", user, []*node{root}, []*node{inter}, t0.AddDate(11, 0, 0), 0, Expired},
		{"leaf not yet valid", user, []*node{root}, []*node{inter}, t0.AddDate(-1, 0, 0), 0, NotYetValid},
		{"intermediate expired", userOfExpired, []*node{root}, []*node{expiredInter}, at, 0, Expired},
		{"issuer not a CA", userOfNotCA, []*node{root}, []*node{notCA}, at, 0, NotAuthorized},
		{"path length", userBelowZero, []*node{root}, []*node{zeroCA, belowZero}, at, 0, NotAuthorized},
		{"intermediate EKU", userOfTLS, []*node{root}, []*node{tlsInter}, at, 0, Usage},
		{"leaf EKU", server, []*node{root}, []*node{inter}, at, 0, Usage},
		{"intermediate EKU of unknown purposes only", userOfDoc, []*node{root}, []*node{docInter}, at, 0, Usage},
		{"intermediate EKU of unknown purposes and mail", userOfDocMail, []*node{root}, []*node{docMail}, at, 3, 0},
		{"leaf EKU of unknown purposes only", docLeaf, []*node{root}, []*node{inter}, at, 0, Usage},
		{"leaf without EKU", noEKULeaf, []*node{root}, []*node{inter}, at, 3, 0},
	}
	certs := func(ns []*node) (out []*x509.Certificate) {
		for _, n := range ns {
			out = append(out, n.cert)
		}
		return out
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Build(tc.leaf.cert, Options{Roots: certs(tc.roots), Intermediates: certs(tc.inter), Time: tc.at})
			if tc.want > 0 {
				if err != nil {
					t.Fatalf("got %v, want a chain of %d", err, tc.want)
				}
				if len(r.Chain) != tc.want || r.SHA1 {
					t.Fatalf("got chain of %d (sha1 %v), want %d", len(r.Chain), r.SHA1, tc.want)
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Reason != tc.reason {
				t.Fatalf("got %v, want reason %v", err, tc.reason)
			}
		})
	}
}

func TestBuildBadSignature(t *testing.T) {
	root := issue(t, ca("root"), nil)
	imp := ca("root") // same name and key identifier, other key
	imp.SubjectKeyId = root.cert.SubjectKeyId
	impostor := issue(t, imp, nil)
	user := issue(t, leaf("user"), root)
	_, err := Build(user.cert, Options{Roots: []*x509.Certificate{impostor.cert}, Time: t0.AddDate(1, 0, 0)})
	var ce *Error
	if !errors.As(err, &ce) || ce.Reason != BadSignature {
		t.Fatalf("got %v, want bad-signature", err)
	}
}

// A self-signed root carried in a message is not chained to a trusted root
// of the same name: the answer is "untrusted", not "bad signature".
func TestBuildUntrustedSelfSignedInPool(t *testing.T) {
	root := issue(t, ca("root"), nil)
	user := issue(t, leaf("user"), root)
	trusted := issue(t, ca("root"), nil)
	_, err := Build(user.cert, Options{Roots: []*x509.Certificate{trusted.cert},
		Intermediates: []*x509.Certificate{root.cert}, Time: t0.AddDate(1, 0, 0)})
	var ce *Error
	if !errors.As(err, &ce) || ce.Reason != Untrusted {
		t.Fatalf("got %v, want untrusted", err)
	}
}
