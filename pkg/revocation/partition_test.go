package revocation

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Test encoders for the extensions of RFC 5280 sections 4.2.1.13 and
// 5.2.5, written independently of the parser in idp.go.

// dpName is one DistributionPointName: URIs and directory names (each a
// common name) in a fullName, or a nameRelativeToCRLIssuer (a common name).
type dpName struct {
	uris     []string
	dns      []string // directoryName: CN=<dn> under the CA's name
	relative string   // nameRelativeToCRLIssuer CN=<relative>
}

// addDPName adds a DistributionPointName under the explicit [0] of its
// field. issuer is the CA's name, under which a directoryName is made.
func (n dpName) add(b *cryptobyte.Builder, issuer pkix.Name) {
	b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
		if n.relative != "" {
			b.AddASN1(cbasn1.Tag(1).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddBytes(cnAttribute(n.relative))
			})
			return
		}
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			for _, u := range n.uris {
				b.AddASN1(cbasn1.Tag(6).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(u)) })
			}
			for _, dn := range n.dns {
				rdns := append(issuer.ToRDNSequence(), pkix.RelativeDistinguishedNameSET{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: dn}})
				der, err := asn1.Marshal(rdns)
				if err != nil {
					b.SetError(err)
					return
				}
				b.AddASN1(cbasn1.Tag(4).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { b.AddBytes(der) })
			}
		})
	})
}

// cnAttribute is the DER AttributeTypeAndValue CN=cn.
func cnAttribute(cn string) []byte {
	der, err := asn1.Marshal(pkix.AttributeTypeAndValue{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: cn})
	if err != nil {
		panic(err)
	}
	return der
}

// idpSpec is an issuing distribution point.
type idpSpec struct {
	point          *dpName
	onlyUser       bool
	onlyCA         bool
	reasons        []byte // onlySomeReasons contents (unused-bits count first); nil: absent
	indirect       bool
	extraField     bool // a [6] after the defined fields
	explicitFalses bool // encode onlyContainsUserCerts FALSE, which DER leaves out
}

func (s idpSpec) ext(t testing.TB, issuer pkix.Name) pkix.Extension {
	t.Helper()
	var b cryptobyte.Builder
	boolField := func(b *cryptobyte.Builder, tag uint8, v bool) {
		if v {
			b.AddASN1(cbasn1.Tag(tag).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddUint8(0xff) })
		}
	}
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if s.point != nil {
			s.point.add(b, issuer)
		}
		if s.explicitFalses && !s.onlyUser {
			b.AddASN1(cbasn1.Tag(1).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddUint8(0) })
		}
		boolField(b, 1, s.onlyUser)
		boolField(b, 2, s.onlyCA)
		if s.reasons != nil {
			b.AddASN1(cbasn1.Tag(3).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(s.reasons) })
		}
		boolField(b, 4, s.indirect)
		if s.extraField {
			boolField(b, 6, true)
		}
	})
	der, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return pkix.Extension{Id: oidIssuingDP, Critical: true, Value: der}
}

// dpSpec is one DistributionPoint of a certificate.
type dpSpec struct {
	name      *dpName
	reasons   bool // a reasons field (keyCompromise only)
	crlIssuer bool // a cRLIssuer field (the CA's name)
}

// crlDPExt encodes a certificate's CRL distribution points.
func crlDPExt(t *testing.T, issuer pkix.Name, points ...dpSpec) pkix.Extension {
	t.Helper()
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, p := range points {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				if p.name != nil {
					p.name.add(b, issuer)
				}
				if p.reasons {
					b.AddASN1(cbasn1.Tag(1).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte{6, 0x40}) })
				}
				if p.crlIssuer {
					der, err := asn1.Marshal(issuer.ToRDNSequence())
					if err != nil {
						b.SetError(err)
						return
					}
					b.AddASN1(cbasn1.Tag(2).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.Tag(4).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { b.AddBytes(der) })
					})
				}
			})
		}
	})
	der, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return pkix.Extension{Id: oidCRLDistributionPoints, Value: der}
}

// mkCert issues a certificate from ca with the given serial, CA flag and
// extra extensions (for distribution points of any form).
func mkCert(t testing.TB, ca *x509.Certificate, caKey crypto.Signer, serial int64, isCA bool, extra ...pkix.Extension) *x509.Certificate {
	t.Helper()
	k, err := ecdsa.GenerateKey(ca.PublicKey.(*ecdsa.PublicKey).Curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "subject"},
		NotBefore: t0, NotAfter: t0.AddDate(5, 0, 0), IsCA: isCA, BasicConstraintsValid: true, ExtraExtensions: extra}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, k.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// mkCRLExt issues ca's CRL, current from t0+4 months for a year, listing
// the serials, with the extensions exts.
func mkCRLExt(t *testing.T, ca *x509.Certificate, caKey crypto.Signer, serials []int64, exts ...pkix.Extension) *x509.RevocationList {
	t.Helper()
	var entries []x509.RevocationListEntry
	for _, s := range serials {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: big.NewInt(s), RevocationTime: t0.AddDate(0, 3, 0), ReasonCode: 1})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1),
		ThisUpdate: t0.AddDate(0, 4, 0), NextUpdate: t0.AddDate(1, 4, 0), RevokedCertificateEntries: entries,
		ExtraExtensions: exts}, ca, caKey)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	return crl
}

// TestPartitionedCRL is issue #11 item 17 (b): a CRL whose issuing
// distribution point names a distribution point answers only for a
// certificate that names the same point, and one restricted to user or CA
// certificates only for those. A CRL that does not cover the certificate
// gives neither "good" nor "revoked" (a revocation in another partition is
// not this certificate's), only "no answer", which hard mode turns into an
// UnavailableError; so does an indirect CRL. A CRL that covers the
// certificate but is not complete (a delta CRL, or one for some reasons
// only) proves a revocation it lists, never that the certificate is good.
func TestPartitionedCRL(t *testing.T) {
	ca, caKey := mkCA(t, "ca")
	caName := ca.Subject
	const (
		uriA = "http://crl.example/a.crl"
		uriB = "http://crl.example/b.crl"
	)
	byURI := func(u ...string) *dpName { return &dpName{uris: u} }
	cdp := func(points ...dpSpec) pkix.Extension { return crlDPExt(t, caName, points...) }
	idp := func(s idpSpec) pkix.Extension { return s.ext(t, caName) }

	// The certificates all have serial 11, which every CRL below lists as
	// revoked: a CRL that is used says revoked, one that is not says
	// nothing.
	const serial = 11
	leafA := mkCert(t, ca, caKey, serial, false, cdp(dpSpec{name: byURI(uriA)}))
	leafAB := mkCert(t, ca, caKey, serial, false, cdp(dpSpec{name: byURI(uriA)}, dpSpec{name: byURI(uriB)}))
	leafNoDP := mkCert(t, ca, caKey, serial, false)
	leafDN := mkCert(t, ca, caKey, serial, false, cdp(dpSpec{name: &dpName{dns: []string{"partition 2"}}}))
	leafReasons := mkCert(t, ca, caKey, serial, false, cdp(dpSpec{name: byURI(uriA), reasons: true}))
	leafCRLIssuer := mkCert(t, ca, caKey, serial, false, cdp(dpSpec{name: byURI(uriA), crlIssuer: true}))
	subCA := mkCert(t, ca, caKey, serial, true, cdp(dpSpec{name: byURI(uriA)}))

	crl := func(exts ...pkix.Extension) *x509.RevocationList {
		return mkCRLExt(t, ca, caKey, []int64{serial}, exts...)
	}
	notListing := func(exts ...pkix.Extension) *x509.RevocationList { return mkCRLExt(t, ca, caKey, nil, exts...) }
	complete := notListing() // says good
	delta := pkix.Extension{Id: oidDeltaCRL, Critical: true, Value: []byte{2, 1, 1}}
	removedDER, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(2),
		ThisUpdate: t0.AddDate(0, 4, 0), NextUpdate: t0.AddDate(1, 4, 0), ExtraExtensions: []pkix.Extension{delta},
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: big.NewInt(serial), RevocationTime: t0, ReasonCode: reasonRemoveFromCRL}}}, ca, caKey)
	if err != nil {
		t.Fatal(err)
	}
	removed, err := x509.ParseRevocationList(removedDER)
	if err != nil {
		t.Fatal(err)
	}

	// A critical entry extension: a CRL with one not understood must not be
	// used (RFC 5280 section 5.3).
	entryExt, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1),
		ThisUpdate: t0.AddDate(0, 4, 0), NextUpdate: t0.AddDate(1, 4, 0),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: big.NewInt(99), RevocationTime: t0,
			ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Critical: true, Value: []byte{5, 0}}}}}}, ca, caKey)
	if err != nil {
		t.Fatal(err)
	}
	criticalEntry, err := x509.ParseRevocationList(entryExt)
	if err != nil {
		t.Fatal(err)
	}

	when := t0.AddDate(0, 6, 0)
	tests := []struct {
		name    string
		crls    []*x509.RevocationList
		cert    *x509.Certificate
		status  Status // Revoked: the CRL was used; Unknown: it gave no answer
		refusal string // why it gave no answer
	}{
		// The partition's distribution point against the certificate's.
		{"idp names another URI", []*x509.RevocationList{crl(idp(idpSpec{point: byURI(uriB)}))}, leafA, Unknown,
			`it is the partial CRL of distribution point "http://crl.example/b.crl", which is not one of the certificate's distribution points`},
		{"idp URI, certificate names no point", []*x509.RevocationList{crl(idp(idpSpec{point: byURI(uriA)}))}, leafNoDP, Unknown,
			"is not one of the certificate's distribution points"},
		{"idp directory name, certificate has URIs", []*x509.RevocationList{crl(idp(idpSpec{point: &dpName{dns: []string{"partition 2"}}}))}, leafA, Unknown,
			`partial CRL of distribution point "CN=partition 2,CN=ca"`},
		{"idp relative name, certificate has URIs", []*x509.RevocationList{crl(idp(idpSpec{point: &dpName{relative: "partition 2"}}))}, leafA, Unknown,
			"not one of the certificate's distribution points"},
		{"idp relative name, another one", []*x509.RevocationList{crl(idp(idpSpec{point: &dpName{relative: "partition 3"}}))}, leafDN, Unknown,
			"not one of the certificate's distribution points"},
		{"matching URI", []*x509.RevocationList{crl(idp(idpSpec{point: byURI(uriA)}))}, leafA, Revoked, ""},
		{"matching the second point", []*x509.RevocationList{crl(idp(idpSpec{point: byURI(uriB)}))}, leafAB, Revoked, ""},
		{"matching one of the idp's names", []*x509.RevocationList{crl(idp(idpSpec{point: byURI(uriB, uriA)}))}, leafA, Revoked, ""},
		{"matching directory name", []*x509.RevocationList{crl(idp(idpSpec{point: &dpName{dns: []string{"partition 2"}}}))}, leafDN, Revoked, ""},
		// A name relative to the CRL issuer is the issuer's name and one
		// more RDN. (crypto/x509 refuses certificates whose distribution
		// points use such names, so only the CRL's side can.)
		{"relative name against directory name", []*x509.RevocationList{crl(idp(idpSpec{point: &dpName{relative: "partition 2"}}))}, leafDN, Revoked, ""},
		// Points the certificate limits to some reasons, or to another
		// CRL issuer, are not matched.
		{"certificate's point limited to some reasons", []*x509.RevocationList{crl(idp(idpSpec{point: byURI(uriA)}))}, leafReasons, Unknown,
			"not one of the certificate's distribution points"},
		{"certificate's point names a CRL issuer", []*x509.RevocationList{crl(idp(idpSpec{point: byURI(uriA)}))}, leafCRLIssuer, Unknown,
			"not one of the certificate's distribution points"},
		// A partition that does not cover the certificate is skipped and
		// the next CRL asked.
		{"partition skipped, complete CRL used", []*x509.RevocationList{crl(idp(idpSpec{point: byURI(uriB)})), complete}, leafA, Good, ""},
		// Scope by kind of certificate.
		{"only CA certificates, leaf", []*x509.RevocationList{crl(idp(idpSpec{onlyCA: true}))}, leafA, Unknown, "covers only CA certificates"},
		{"only CA certificates, CA", []*x509.RevocationList{crl(idp(idpSpec{onlyCA: true}))}, subCA, Revoked, ""},
		{"only user certificates, CA", []*x509.RevocationList{crl(idp(idpSpec{onlyUser: true}))}, subCA, Unknown, "covers only end-entity certificates"},
		{"only user certificates, leaf", []*x509.RevocationList{crl(idp(idpSpec{onlyUser: true}))}, leafA, Revoked, ""},
		{"only user certificates of the matching point", []*x509.RevocationList{crl(idp(idpSpec{point: byURI(uriA), onlyUser: true}))}, leafA, Revoked, ""},
		{"explicit FALSE is the default", []*x509.RevocationList{crl(idp(idpSpec{explicitFalses: true}))}, leafA, Revoked, ""},
		// Not complete: a revocation it lists counts, "good" is never
		// given.
		{"only some reasons, listed", []*x509.RevocationList{crl(idp(idpSpec{reasons: []byte{6, 0x40}}))}, leafA, Revoked, ""},
		{"only some reasons, not listed", []*x509.RevocationList{notListing(idp(idpSpec{reasons: []byte{6, 0x40}}))}, leafA, Unknown,
			"does not list the certificate, but does not show it is good: it covers only some revocation reasons"},
		{"only some reasons, none set", []*x509.RevocationList{notListing(idp(idpSpec{reasons: []byte{0}}))}, leafA, Unknown, "only some revocation reasons"},
		{"only some reasons, then complete", []*x509.RevocationList{notListing(idp(idpSpec{reasons: []byte{6, 0x40}})), complete}, leafA, Good, ""},
		{"delta CRL alone, listed", []*x509.RevocationList{crl(delta)}, leafA, Revoked, ""},
		{"delta CRL alone, not listed", []*x509.RevocationList{notListing(delta)}, leafA, Unknown,
			"does not show it is good: it is a delta CRL, which lists only the changes since its base CRL"},
		{"delta CRL, removed from CRL", []*x509.RevocationList{removed}, leafA, Unknown, "delta CRL"},
		{"delta CRL of the matching partition, listed", []*x509.RevocationList{crl(delta, idp(idpSpec{point: byURI(uriA)}))}, leafA, Revoked, ""},
		{"delta CRL of another partition, listed", []*x509.RevocationList{crl(delta, idp(idpSpec{point: byURI(uriB)}))}, leafA, Unknown, "partial CRL of distribution point"},
		{"delta CRL, then the complete CRL", []*x509.RevocationList{notListing(delta), complete}, leafA, Good, ""},
		// Not implemented: an indirect CRL's serial numbers may be
		// another issuer's, so it tells nothing, not even "revoked".
		{"indirect", []*x509.RevocationList{crl(idp(idpSpec{indirect: true}))}, leafA, Unknown, "indirect CRL"},
		// Malformed or ambiguous scope: not used.
		{"unknown field in idp", []*x509.RevocationList{crl(idp(idpSpec{extraField: true}))}, leafA, Unknown, "issuing distribution point extension is malformed"},
		{"bad reasons bit string", []*x509.RevocationList{crl(idp(idpSpec{reasons: []byte{8, 0}}))}, leafA, Unknown, "malformed"},
		{"two idp extensions", []*x509.RevocationList{crl(idp(idpSpec{point: byURI(uriA)}), idp(idpSpec{point: byURI(uriB)}))}, leafA, Unknown, "has extension 2.5.29.28 twice"},
		{"critical entry extension", []*x509.RevocationList{criticalEntry}, leafA, Unknown, "an entry of the CRL has an unsupported critical extension 1.2.3.4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := New(Options{Mode: Hard, CRLs: tc.crls, Offline: true}).Check(context.Background(), tc.cert, ca, when)
			if o.Status != tc.status {
				t.Fatalf("status %v (%s), want %v", o.Status, o.Detail, tc.status)
			}
			switch tc.status {
			case Revoked:
				checkErr(t, err, new(*RevokedError))
			case Good:
				checkErr(t, err, nil)
			case Unknown:
				checkErr(t, err, new(*UnavailableError))
				if !strings.Contains(o.Detail, tc.refusal) {
					t.Errorf("detail %q, want the refusal %q", o.Detail, tc.refusal)
				}
			}
		})
	}
}

// TestParseIDPTruncated feeds truncations of a full issuing distribution
// point to the parser: each is refused or read, never a panic.
func TestParseIDPTruncated(t *testing.T) {
	ca, _ := mkCA(t, "ca")
	full := idpSpec{point: &dpName{uris: []string{"http://a"}, dns: []string{"p"}}, onlyUser: true, reasons: []byte{7, 0x80}, indirect: true}.ext(t, ca.Subject).Value
	if _, err := parseIDP(full, ca.RawSubject); err != nil {
		t.Fatalf("full extension: %v", err)
	}
	for n := range len(full) {
		if _, err := parseIDP(full[:n], ca.RawSubject); err == nil {
			t.Errorf("%d of %d bytes: no error", n, len(full))
		}
	}
}

// crlWithoutNextUpdate issues a CRL from tmpl with no nextUpdate field,
// which crypto/x509 refuses to write (RFC 5280 requires the field, and
// some CAs omit it): the CRL is made with one, which is cut out of the
// TBSCertList before it is signed again.
//
//	TBSCertList ::= SEQUENCE {
//	     version Version OPTIONAL, signature AlgorithmIdentifier,
//	     issuer Name, thisUpdate Time, nextUpdate Time OPTIONAL, ... }
func crlWithoutNextUpdate(t *testing.T, tmpl *x509.RevocationList, ca *x509.Certificate, key crypto.Signer) []byte {
	t.Helper()
	tmpl.NextUpdate = tmpl.ThisUpdate.AddDate(1, 0, 0)
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca, key)
	if err != nil {
		t.Fatal(err)
	}
	in := cryptobyte.String(der)
	var list, tbs, version, sigAlg, issuer, thisUpdate, nextUpdate cryptobyte.String
	if !in.ReadASN1(&list, cbasn1.SEQUENCE) || !list.ReadASN1(&tbs, cbasn1.SEQUENCE) || !list.ReadASN1Element(&sigAlg, cbasn1.SEQUENCE) ||
		!tbs.ReadASN1Element(&version, cbasn1.INTEGER) || !tbs.ReadASN1Element(&sigAlg, cbasn1.SEQUENCE) ||
		!tbs.ReadASN1Element(&issuer, cbasn1.SEQUENCE) || !tbs.ReadAnyASN1Element(&thisUpdate, nil) ||
		!tbs.ReadAnyASN1Element(&nextUpdate, nil) {
		t.Fatal("crlWithoutNextUpdate: unexpected CRL layout")
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, part := range [][]byte{version, sigAlg, issuer, thisUpdate, tbs} {
			b.AddBytes(part)
		}
	})
	newTBS := b.BytesOrPanic()
	digest := sha256.Sum256(newTBS)
	sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	var out cryptobyte.Builder
	out.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(newTBS)
		b.AddBytes(sigAlg)
		b.AddASN1BitString(sig)
	})
	crl := out.BytesOrPanic()
	parsed, err := x509.ParseRevocationList(crl)
	if err != nil || !parsed.NextUpdate.IsZero() || parsed.CheckSignatureFrom(ca) != nil {
		t.Fatalf("crlWithoutNextUpdate: the CRL made does not parse and check without nextUpdate: %v", err)
	}
	return crl
}

// FuzzParseIDP checks the issuing distribution point parser on any bytes:
// it never panics, and what it accepts is a scope checkScope can act on —
// a partition always has a name to match, so a CRL naming a distribution
// point is never taken for a complete one.
func FuzzParseIDP(f *testing.F) {
	ca, caKey := mkCA(f, "ca")
	leaf := mkCert(f, ca, caKey, 5, false)
	for _, s := range []idpSpec{
		{},
		{point: &dpName{uris: []string{"http://a", "ldap://b"}}},
		{point: &dpName{dns: []string{"p"}}, onlyUser: true},
		{point: &dpName{relative: "p"}, onlyCA: true},
		{reasons: []byte{7, 0x80}, indirect: true, extraField: true},
		{explicitFalses: true},
	} {
		f.Add(s.ext(f, ca.Subject).Value)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		idp, err := parseIDP(der, ca.RawSubject)
		if err != nil {
			if idp != nil {
				t.Fatalf("error %v with a result", err)
			}
			return
		}
		if idp.hasPoint && len(idp.names) == 0 {
			t.Fatal("a distribution point without names was accepted")
		}
		// leaf names no distribution point: a partition never covers it.
		if _, err := checkScope(der, &x509.RevocationList{RawIssuer: ca.RawSubject}, leaf); err == nil && idp.hasPoint {
			t.Fatal("a partition was taken to cover a certificate that names no distribution point")
		}
	})
}
