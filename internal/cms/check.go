package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

var (
	// ErrContentModified means the content's digest differs from the
	// signed messageDigest attribute: the content changed after signing.
	ErrContentModified = errors.New("cms: the content does not match the signed message digest")
	// ErrBadSignature means the signature value does not verify with the
	// signer's public key.
	ErrBadSignature = errors.New("cms: the signature does not verify with the signer's public key")
)

// UnsupportedAlgorithmError reports an algorithm this package cannot use.
type UnsupportedAlgorithmError struct {
	What string // "digest", "signature"
	OID  asn1.ObjectIdentifier
	// Note, if not empty, says what the algorithm is and why it is not
	// used ("HashML-DSA-65 with SHA-512, ...").
	Note string
}

func (e *UnsupportedAlgorithmError) Error() string {
	if e.Note != "" {
		return fmt.Sprintf("cms: unsupported %s algorithm %v (%s)", e.What, e.OID, e.Note)
	}
	return fmt.Sprintf("cms: unsupported %s algorithm %v", e.What, e.OID)
}

// CheckSignature verifies the signer's signature with cert's public key.
// contentType is the SignedData's eContentType and digest the digest of
// the content under [SignerInfo.Hash]. With signed attributes it checks
// the contentType and messageDigest attributes (RFC 5652 section 5.6) and
// the signature over their DER; without, the signature over digest, which
// RFC 5652 allows only for id-data content.
func (si *SignerInfo) CheckSignature(cert *x509.Certificate, contentType asn1.ObjectIdentifier, digest []byte) error {
	h := si.Hash()
	if h == 0 || !h.Available() {
		return &UnsupportedAlgorithmError{What: "digest", OID: si.DigestAlgorithm.Algorithm}
	}
	pure := isPureScheme(si.SignatureAlgorithm.Algorithm)
	signed := digest
	if si.rawSignedAttrs != nil {
		ct, err := si.singleAttr(OIDAttrContentType, "contentType")
		if err != nil {
			return err
		}
		var oid asn1.ObjectIdentifier
		s := cryptobyte.String(ct)
		if !s.ReadASN1ObjectIdentifier(&oid) || !s.Empty() {
			return &FormatError{"bad contentType attribute"}
		}
		if !oid.Equal(contentType) {
			return &FormatError{fmt.Sprintf("contentType attribute %v differs from the content's type %v", oid, contentType)}
		}
		md, err := si.singleAttr(OIDAttrMessageDigest, "messageDigest")
		if err != nil {
			return err
		}
		var mdv cryptobyte.String
		s = cryptobyte.String(md)
		if !s.ReadASN1(&mdv, cbasn1.OCTET_STRING) || !s.Empty() {
			return &FormatError{"bad messageDigest attribute"}
		}
		if !bytes.Equal(mdv, digest) {
			return ErrContentModified
		}
		if pure {
			return si.checkPureSignature(cert, h)
		}
		hh := h.New()
		hh.Write(si.rawSignedAttrs)
		signed = hh.Sum(nil)
	} else if !contentType.Equal(OIDData) {
		return &FormatError{"signed attributes are required for content other than id-data"}
	} else if pure {
		return si.checkPureSignature(cert, h)
	}
	return verifyRaw(cert.PublicKey, si.SignatureAlgorithm, h, signed, si.Signature)
}

// verifyRaw checks sig over the digest hashed with h, as alg says.
func verifyRaw(pub crypto.PublicKey, alg pkix.AlgorithmIdentifier, h crypto.Hash, hashed, sig []byte) error {
	o := alg.Algorithm
	sa, ok := signatureAlgorithm(o)
	if !ok {
		return &UnsupportedAlgorithmError{What: "signature", OID: o, Note: unsupportedNote(o)}
	}
	if sa.hash != 0 && sa.hash != h {
		return &FormatError{"signature algorithm and digest algorithm disagree"}
	}
	switch sa.scheme {
	case schemeRSA, schemePSS:
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return &FormatError{sa.scheme + " signature with a non-RSA certificate"}
		}
		if sa.scheme == schemeRSA {
			if rsa.VerifyPKCS1v15(k, h, hashed, sig) != nil {
				return ErrBadSignature
			}
			return nil
		}
		p, err := parsePSSParams(alg.Parameters.FullBytes)
		if err != nil {
			return err
		}
		if p.hash != h {
			return &FormatError{"RSA-PSS hash differs from the digest algorithm"}
		}
		if rsa.VerifyPSS(k, h, hashed, sig, &rsa.PSSOptions{SaltLength: p.saltLength, Hash: h}) != nil {
			return ErrBadSignature
		}
		return nil
	default: // schemeECDSA
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return &FormatError{"ECDSA signature with a non-EC certificate"}
		}
		if !ecdsa.VerifyASN1(k, hashed, sig) {
			return ErrBadSignature
		}
		return nil
	}
}

// Signature schemes, as reports name them.
const (
	schemeRSA   = "RSA"
	schemePSS   = "RSA-PSS"
	schemeECDSA = "ECDSA"
)

// signatureAlgorithms are the signatureAlgorithm identifiers this package
// reads (RFC 3370, RFC 4056, RFC 5753, RFC 5754): the scheme and, for the
// "hash with scheme" identifiers, the digest they imply. The bare key-type
// identifiers (rsaEncryption, as OpenSSL writes; id-ecPublicKey, as some
// clients write) and RSASSA-PSS take the digest from the SignerInfo.
var signatureAlgorithms = []struct {
	oid    asn1.ObjectIdentifier
	scheme string
	hash   crypto.Hash
}{
	{oidRSAEncryption, schemeRSA, 0},
	{oidMD5WithRSA, schemeRSA, crypto.MD5},
	{oidSHA1WithRSA, schemeRSA, crypto.SHA1},
	{oidSHA224WithRSA, schemeRSA, crypto.SHA224},
	{oidSHA256WithRSA, schemeRSA, crypto.SHA256},
	{oidSHA384WithRSA, schemeRSA, crypto.SHA384},
	{oidSHA512WithRSA, schemeRSA, crypto.SHA512},
	{oidRSAPSS, schemePSS, 0},
	{oidECPublicKey, schemeECDSA, 0},
	{oidECDSAWithSHA1, schemeECDSA, crypto.SHA1},
	{oidECDSAWithSHA224, schemeECDSA, crypto.SHA224},
	{oidECDSAWithSHA256, schemeECDSA, crypto.SHA256},
	{oidECDSAWithSHA384, schemeECDSA, crypto.SHA384},
	{oidECDSAWithSHA512, schemeECDSA, crypto.SHA512},
}

type sigAlgorithm struct {
	scheme string
	hash   crypto.Hash
}

func signatureAlgorithm(o asn1.ObjectIdentifier) (sigAlgorithm, bool) {
	for _, a := range signatureAlgorithms {
		if a.oid.Equal(o) {
			return sigAlgorithm{a.scheme, a.hash}, true
		}
	}
	return sigAlgorithm{}, false
}

type pssParams struct {
	hash       crypto.Hash
	saltLength int
}

// parsePSSParams reads RSASSA-PSS-params (RFC 4055 section 3.1):
//
//	RSASSA-PSS-params ::= SEQUENCE {
//	  hashAlgorithm      [0] HashAlgorithm DEFAULT sha1,
//	  maskGenAlgorithm   [1] MaskGenAlgorithm DEFAULT mgf1SHA1,
//	  saltLength         [2] INTEGER DEFAULT 20,
//	  trailerField       [3] TrailerField DEFAULT trailerFieldBC }
//
// Go's RSA-PSS uses one hash for the message and MGF1, so parameters
// with different hashes are refused.
func parsePSSParams(der []byte) (pssParams, error) {
	p := pssParams{hash: crypto.SHA1, saltLength: 20}
	mgfHash := crypto.SHA1
	bad := &FormatError{"bad RSASSA-PSS parameters"}
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return p, bad
	}
	var f cryptobyte.String
	var present bool
	if !seq.ReadOptionalASN1(&f, &present, cbasn1.Tag(0).ContextSpecific().Constructed()) {
		return p, bad
	}
	if present {
		ai, err := readAlgorithm(&f)
		if err != nil {
			return p, bad
		}
		if p.hash = HashForOID(ai.Algorithm); p.hash == 0 {
			return p, &UnsupportedAlgorithmError{What: "digest", OID: ai.Algorithm}
		}
	}
	if !seq.ReadOptionalASN1(&f, &present, cbasn1.Tag(1).ContextSpecific().Constructed()) {
		return p, bad
	}
	if present {
		mgf, err := readAlgorithm(&f)
		if err != nil || !mgf.Algorithm.Equal(oidMGF1) {
			return p, bad
		}
		var inner pkix.AlgorithmIdentifier
		if _, err := asn1.Unmarshal(mgf.Parameters.FullBytes, &inner); err != nil {
			return p, bad
		}
		mgfHash = HashForOID(inner.Algorithm)
	}
	var salt int64 = 20
	if !seq.ReadOptionalASN1(&f, &present, cbasn1.Tag(2).ContextSpecific().Constructed()) {
		return p, bad
	}
	if present && (!f.ReadASN1Int64WithTag(&salt, cbasn1.INTEGER) || salt < 0 || salt > 1<<16) {
		return p, bad
	}
	p.saltLength = int(salt)
	var trailer int64 = 1
	if !seq.ReadOptionalASN1(&f, &present, cbasn1.Tag(3).ContextSpecific().Constructed()) {
		return p, bad
	}
	if present && !f.ReadASN1Int64WithTag(&trailer, cbasn1.INTEGER) {
		return p, bad
	}
	if trailer != 1 || !seq.Empty() {
		return p, bad
	}
	if mgfHash != p.hash {
		return p, &FormatError{"RSASSA-PSS with different message and MGF1 hashes is not supported"}
	}
	return p, nil
}

// SignatureAlgorithmName names the signer's signature scheme for reports:
// "RSA", "RSA-PSS", "ECDSA", "Ed25519" or "ML-DSA-44", "-65", "-87" (the
// dotted identifier if unknown, with what it is when known).
func (si *SignerInfo) SignatureAlgorithmName() string {
	return SignatureAlgorithmName(si.SignatureAlgorithm)
}
