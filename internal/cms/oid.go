package cms

import (
	"crypto"
	"encoding/asn1"
	"fmt"
)

// Object identifiers from RFC 5652 (CMS), RFC 5754 and RFC 3370 (algorithms),
// RFC 4056 (RSASSA-PSS), RFC 5758 (ECDSA) and RFC 8551 (S/MIME attributes).
var (
	OIDData                  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	OIDSignedData            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	OIDEnvelopedData         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 3}
	OIDAuthEnvelopedData     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 23}
	OIDAttrContentType       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	OIDAttrMessageDigest     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	OIDAttrSigningTime       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	OIDAttrSMIMECapabilities = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 15}
	// OIDAttrEncryptionKeyPreference is id-aa-encrypKeyPref (RFC 8551 2.5.3).
	OIDAttrEncryptionKeyPreference = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 11}

	oidMD5    = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}
	oidSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA224 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}

	oidRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidMD5WithRSA    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 4}
	oidSHA1WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}
	oidRSAPSS        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidMGF1          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	oidSHA256WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidSHA224WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 14}

	oidECPublicKey     = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidECDSAWithSHA1   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}
	oidECDSAWithSHA224 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 1}
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSAWithSHA512 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}

	// Content-encryption algorithms (RFC 3565, RFC 5084), as advertised in
	// S/MIME capabilities.
	OIDAES128CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	OIDAES256CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	OIDAES128GCM = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 6}
	OIDAES256GCM = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 46}
)

var hashOIDs = []struct {
	oid  asn1.ObjectIdentifier
	hash crypto.Hash
}{
	{oidMD5, crypto.MD5}, {oidSHA1, crypto.SHA1}, {oidSHA224, crypto.SHA224},
	{oidSHA256, crypto.SHA256}, {oidSHA384, crypto.SHA384}, {oidSHA512, crypto.SHA512},
}

// HashForOID returns the digest algorithm named by oid, or 0 if unknown.
func HashForOID(oid asn1.ObjectIdentifier) crypto.Hash {
	for _, h := range hashOIDs {
		if h.oid.Equal(oid) {
			return h.hash
		}
	}
	return 0
}

func oidForHash(h crypto.Hash) (asn1.ObjectIdentifier, error) {
	for _, e := range hashOIDs {
		if e.hash == h {
			return e.oid, nil
		}
	}
	return nil, fmt.Errorf("cms: unsupported digest algorithm %v", h)
}

// MicAlg returns the RFC 8551 section 3.5.3.2 micalg name of h ("sha-256").
func MicAlg(h crypto.Hash) string {
	switch h {
	case crypto.MD5:
		return "md5"
	case crypto.SHA1:
		return "sha-1"
	case crypto.SHA224:
		return "sha-224"
	case crypto.SHA256:
		return "sha-256"
	case crypto.SHA384:
		return "sha-384"
	case crypto.SHA512:
		return "sha-512"
	}
	return "unknown"
}

// HashForMicAlg is the inverse of [MicAlg]; it also accepts the "sha1" and
// "rsa-sha1" spellings older clients wrote. It returns 0 if unknown.
func HashForMicAlg(name string) crypto.Hash {
	switch name {
	case "md5", "rsa-md5":
		return crypto.MD5
	case "sha-1", "sha1", "rsa-sha1":
		return crypto.SHA1
	case "sha-224", "sha224":
		return crypto.SHA224
	case "sha-256", "sha256":
		return crypto.SHA256
	case "sha-384", "sha384":
		return crypto.SHA384
	case "sha-512", "sha512":
		return crypto.SHA512
	}
	return 0
}
