package main

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/smimectl/smimectl/internal/keys"
)

// cmdMkCRL issues a CRL of a lab authority for revocation scripts, with what
// lab init's CRLs lack:
//
//	mkcrl [-idp-uri <url>] [-idp-dn <cn>] [-revoke <cert file>]... <ca> <thisUpdate> <out>
//
// <ca> names the authority's files without extension (lab/intermediate: its
// .crt and .key); the CRL is current from <thisUpdate> (RFC 3339) for a year
// and written as PEM to <out>. -idp-uri and -idp-dn give it a critical issuing
// distribution point (RFC 5280 section 5.2.5) whose fullName is the URI, or the
// directory name of the authority's subject with CN=<cn> added: the CRL is then a
// partition. -revoke lists a certificate as revoked (keyCompromise) a day before
// thisUpdate.
func cmdMkCRL(ts *testscript.TestScript, neg bool, args []string) {
	usage := "usage: mkcrl [-idp-uri <url>] [-idp-dn <cn>] [-revoke <cert>]... <ca> <thisUpdate> <out>"
	if neg {
		ts.Fatalf("%s", usage)
	}
	var uris, dns, revoke []string
	for len(args) > 3 {
		switch args[0] {
		case "-idp-uri":
			uris = append(uris, args[1])
		case "-idp-dn":
			dns = append(dns, args[1])
		case "-revoke":
			revoke = append(revoke, args[1])
		default:
			ts.Fatalf("%s", usage)
		}
		args = args[2:]
	}
	if len(args) != 3 {
		ts.Fatalf("%s", usage)
	}
	ca, err := keys.LoadIdentity(ts.MkAbs(args[0]+".key"), ts.MkAbs(args[0]+".crt"), nil)
	ts.Check(err)
	this, err := time.Parse(time.RFC3339, args[1])
	ts.Check(err)
	tmpl := &x509.RevocationList{Number: big.NewInt(100), ThisUpdate: this, NextUpdate: this.AddDate(1, 0, 0)}
	for _, name := range revoke {
		certs, err := keys.LoadCertificates(ts.MkAbs(name))
		ts.Check(err)
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{
			SerialNumber: certs[0].SerialNumber, RevocationTime: this.AddDate(0, 0, -1), ReasonCode: 1})
	}
	if len(uris)+len(dns) > 0 {
		tmpl.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 28}, Critical: true,
			Value: scriptIDP(ts, ca.Certificate.Subject, uris, dns)}}
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Certificate, ca.Signer)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[2]), pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o644))
}

// scriptIDP encodes an IssuingDistributionPoint whose distributionPoint is a
// fullName of the URIs and of the directory names issuer + CN=<dn>:
//
//	IssuingDistributionPoint ::= SEQUENCE {
//	     distributionPoint [0] DistributionPointName OPTIONAL, ... }
//	DistributionPointName ::= CHOICE { fullName [0] GeneralNames, ... }
func scriptIDP(ts *testscript.TestScript, issuer pkix.Name, uris, dns []string) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				for _, u := range uris {
					b.AddASN1(cbasn1.Tag(6).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(u)) })
				}
				for _, dn := range dns {
					rdns := append(issuer.ToRDNSequence(), pkix.RelativeDistinguishedNameSET{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: dn}})
					name, err := asn1.Marshal(rdns)
					ts.Check(err)
					b.AddASN1(cbasn1.Tag(4).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { b.AddBytes(name) })
				}
			})
		})
	})
	der, err := b.Bytes()
	ts.Check(err)
	return der
}
