package keys

// This file reads PKCS#7 "certs-only" bundles: a degenerate SignedData whose
// only purpose is to carry certificates (RFC 8551 §3.8, the .p7b/.p7c files
// Windows and OpenSSL's crl2pkcs7 write, and LDAP's userSMIMECertificate).
// It is deliberately small and self-contained; internal/cms is the full
// RFC 5652 parser.

import (
	"crypto/x509"
	encasn1 "encoding/asn1"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// id-signedData OBJECT IDENTIFIER ::= { iso(1) member-body(2) us(840)
// rsadsi(113549) pkcs(1) pkcs7(7) 2 } (RFC 5652 §5.1).
var oidSignedData = encasn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}

// maxBERDepth bounds the nesting berToDER follows; a certs-only bundle with
// certificates inside needs well under 20 levels.
const maxBERDepth = 64

var errMalformedPKCS7 = errors.New("keys: malformed PKCS#7 bundle")

// isContentInfo reports whether data starts like a ContentInfo:
//
//	ContentInfo ::= SEQUENCE { contentType ContentType, content [0] EXPLICIT ANY DEFINED BY contentType }
//
// that is, a SEQUENCE (definite or indefinite length) whose first element is
// an OBJECT IDENTIFIER. A Certificate's first element is a SEQUENCE instead.
func isContentInfo(data []byte) bool {
	if len(data) < 3 || data[0] != 0x30 {
		return false
	}
	i := 2
	switch l := data[1]; {
	case l == 0x80, l < 0x80:
	case l <= 0x84:
		i += int(l & 0x7f)
	default:
		return false
	}
	return i < len(data) && data[i] == 0x06
}

// parsePKCS7Certificates returns the certificates of a ContentInfo holding a
// SignedData (RFC 5652 §5.1):
//
//	SignedData ::= SEQUENCE {
//	  version CMSVersion,
//	  digestAlgorithms DigestAlgorithmIdentifiers,
//	  encapContentInfo EncapsulatedContentInfo,
//	  certificates [0] IMPLICIT CertificateSet OPTIONAL,
//	  crls [1] IMPLICIT RevocationInfoChoices OPTIONAL,
//	  signerInfos SignerInfos }
//
// Only the certificates are read; the other fields are checked for shape
// and skipped. Other CertificateChoices (attribute certificates, tagged [0]
// to [3]) are skipped too. BER input, as NSS and some Windows versions write
// with indefinite lengths, is converted to DER first.
func parsePKCS7Certificates(data []byte) ([]*x509.Certificate, error) {
	der, err := berToDER(data)
	if err != nil {
		return nil, err
	}
	input := cryptobyte.String(der)
	var ci, content, sd, certSet cryptobyte.String
	var contentType encasn1.ObjectIdentifier
	if !input.ReadASN1(&ci, asn1.SEQUENCE) || !input.Empty() ||
		!ci.ReadASN1ObjectIdentifier(&contentType) {
		return nil, fmt.Errorf("%w: not a ContentInfo", errMalformedPKCS7)
	}
	if !contentType.Equal(oidSignedData) {
		return nil, fmt.Errorf("keys: PKCS#7 content type %v is not signed-data", contentType)
	}
	var version int
	var hasCerts bool
	if !ci.ReadASN1(&content, asn1.Tag(0).Constructed().ContextSpecific()) || !ci.Empty() ||
		!content.ReadASN1(&sd, asn1.SEQUENCE) || !content.Empty() ||
		!sd.ReadASN1Integer(&version) ||
		!sd.SkipASN1(asn1.SET) || // digestAlgorithms
		!sd.SkipASN1(asn1.SEQUENCE) || // encapContentInfo
		!sd.ReadOptionalASN1(&certSet, &hasCerts, asn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, fmt.Errorf("%w: malformed SignedData", errMalformedPKCS7)
	}
	var certs []*x509.Certificate
	for !certSet.Empty() {
		var elem cryptobyte.String
		var tag asn1.Tag
		if !certSet.ReadAnyASN1Element(&elem, &tag) {
			return nil, fmt.Errorf("%w: malformed certificate set", errMalformedPKCS7)
		}
		if tag != asn1.SEQUENCE {
			continue // extendedCertificate, v1/v2 attribute certificate, other
		}
		cert, err := x509.ParseCertificate(elem)
		if err != nil {
			return nil, fmt.Errorf("keys: PKCS#7 bundle certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, errors.New("keys: PKCS#7 bundle holds no certificates")
	}
	return certs, nil
}

// berToDER re-encodes a single BER element with definite, minimal lengths
// (X.690 §10.1), the only BER feature certs-only bundles are seen to use.
// Tags and primitive contents are copied as they are, so DER input comes out
// unchanged.
func berToDER(data []byte) ([]byte, error) {
	out, rest, err := convertBER(data, 0)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: trailing data", errMalformedPKCS7)
	}
	return out, nil
}

// convertBER converts the element at the start of in and returns it and the
// bytes after it.
func convertBER(in []byte, depth int) (out, rest []byte, err error) {
	if depth > maxBERDepth {
		return nil, nil, fmt.Errorf("%w: nested too deeply", errMalformedPKCS7)
	}
	// Identifier octets (X.690 §8.1.2), high tag numbers included.
	if len(in) < 2 {
		return nil, nil, fmt.Errorf("%w: truncated", errMalformedPKCS7)
	}
	tagLen := 1
	if in[0]&0x1f == 0x1f {
		for {
			if tagLen >= len(in) || tagLen > 4 {
				return nil, nil, fmt.Errorf("%w: bad tag", errMalformedPKCS7)
			}
			b := in[tagLen]
			tagLen++
			if b&0x80 == 0 {
				break
			}
		}
	}
	constructed := in[0]&0x20 != 0
	tag, in := in[:tagLen], in[tagLen:]

	// Length octets (X.690 §8.1.3).
	if len(in) < 1 {
		return nil, nil, fmt.Errorf("%w: truncated", errMalformedPKCS7)
	}
	l := in[0]
	in = in[1:]
	var contents []byte
	switch {
	case l == 0x80:
		if !constructed {
			return nil, nil, fmt.Errorf("%w: indefinite length on a primitive element", errMalformedPKCS7)
		}
		var body []byte
		for {
			if len(in) >= 2 && in[0] == 0 && in[1] == 0 {
				in = in[2:]
				break
			}
			if len(in) == 0 {
				return nil, nil, fmt.Errorf("%w: missing end-of-contents", errMalformedPKCS7)
			}
			var child []byte
			child, in, err = convertBER(in, depth+1)
			if err != nil {
				return nil, nil, err
			}
			body = append(body, child...)
		}
		return appendElement(tag, body), in, nil
	case l < 0x80:
		if int(l) > len(in) {
			return nil, nil, fmt.Errorf("%w: truncated", errMalformedPKCS7)
		}
		contents, rest = in[:l], in[l:]
	default:
		n := int(l & 0x7f)
		if n > 4 || n > len(in) {
			return nil, nil, fmt.Errorf("%w: bad length", errMalformedPKCS7)
		}
		length := 0
		for _, b := range in[:n] {
			length = length<<8 | int(b)
		}
		in = in[n:]
		if length < 0 || length > len(in) {
			return nil, nil, fmt.Errorf("%w: truncated", errMalformedPKCS7)
		}
		contents, rest = in[:length], in[length:]
	}
	if !constructed {
		return appendElement(tag, contents), rest, nil
	}
	var body []byte
	for len(contents) > 0 {
		var child []byte
		child, contents, err = convertBER(contents, depth+1)
		if err != nil {
			return nil, nil, err
		}
		body = append(body, child...)
	}
	return appendElement(tag, body), rest, nil
}

// appendElement encodes tag, a minimal definite length and body.
func appendElement(tag, body []byte) []byte {
	out := make([]byte, 0, len(tag)+5+len(body))
	out = append(out, tag...)
	switch n := len(body); {
	case n < 0x80:
		out = append(out, byte(n))
	case n <= 0xff:
		out = append(out, 0x81, byte(n))
	case n <= 0xffff:
		out = append(out, 0x82, byte(n>>8), byte(n))
	case n <= 0xffffff:
		out = append(out, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		out = append(out, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(out, body...)
}
