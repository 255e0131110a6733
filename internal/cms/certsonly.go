package cms

import (
	"crypto/x509"
	"errors"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// CertsOnly returns the DER "certs-only" SignedData of certs (RFC 8551
// section 3.6, RFC 5652 section 5): a ContentInfo of type signedData with
// version 1, no digest algorithms, an id-data eContentInfo without content,
// certs in the certificates field in the order given, and no signers. It is
// the .p7c file, the body of an application/pkcs7-mime; smime-type=certs-only
// message and the value Outlook's "Publish to GAL" writes to
// userSMIMECertificate.
//
//	ContentInfo ::= SEQUENCE { contentType OBJECT IDENTIFIER,
//	    content [0] EXPLICIT SignedData }
//	SignedData ::= SEQUENCE { version CMSVersion,
//	    digestAlgorithms SET OF DigestAlgorithmIdentifier,
//	    encapContentInfo EncapsulatedContentInfo,
//	    certificates [0] IMPLICIT CertificateSet OPTIONAL,
//	    crls [1] IMPLICIT RevocationInfoChoices OPTIONAL,
//	    signerInfos SET OF SignerInfo }
//
// The certificates keep their order (end-entity first, as OpenSSL's crl2pkcs7
// and Outlook write them) rather than DER's sorted SET OF: readers take the
// order as a hint, and every reader this package was tested with accepts it.
func CertsOnly(certs []*x509.Certificate) ([]byte, error) {
	if len(certs) == 0 {
		return nil, errors.New("cms: a certs-only message needs at least one certificate")
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(OIDSignedData)
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(1)
				b.AddASN1(cbasn1.SET, func(*cryptobyte.Builder) {})
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(OIDData)
				})
				b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
					for _, c := range certs {
						b.AddBytes(c.Raw)
					}
				})
				b.AddASN1(cbasn1.SET, func(*cryptobyte.Builder) {})
			})
		})
	})
	return b.Bytes()
}
