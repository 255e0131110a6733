package cms

import (
	"crypto"
	"crypto/ed25519"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"

	"github.com/smimectl/smimectl/internal/mldsa"
)

// Pure signature schemes sign the DER of the signed attributes themselves,
// not a digest of them: Ed25519 (RFC 8419) and ML-DSA (RFC 9882). Both
// need signed attributes here, since this package checks content by its
// digest and never holds it whole; and both fix which digest algorithm the
// SignerInfo may name for the messageDigest attribute.

var (
	// oidEd25519 is id-Ed25519 (RFC 8410 section 3), the signature
	// algorithm and the public key algorithm alike; parameters absent.
	oidEd25519 = asn1.ObjectIdentifier{1, 3, 101, 112}
	// oidEd448 is id-Ed448, named in errors only.
	oidEd448 = asn1.ObjectIdentifier{1, 3, 101, 113}
)

// Names of the pure schemes, as reports name them.
const (
	schemeEd25519 = "Ed25519"
	schemeMLDSA   = "ML-DSA"
)

// SignatureAlgorithmName names a SignerInfo's signatureAlgorithm for
// people: "RSA", "RSA-PSS", "ECDSA", "Ed25519", "ML-DSA-65"; for an
// identifier this package does not use, the dotted OID, with what it is when
// known ("HashML-DSA-65 with SHA-512 (unsupported)").
func SignatureAlgorithmName(alg pkix.AlgorithmIdentifier) string {
	o := alg.Algorithm
	if p, ok := mldsa.ParametersForOID(o); ok {
		return p.String()
	}
	if o.Equal(oidEd25519) {
		return schemeEd25519
	}
	if sa, ok := signatureAlgorithm(o); ok {
		return sa.scheme
	}
	if n := unsupportedNote(o); n != "" {
		return o.String() + " (" + n + ")"
	}
	return o.String()
}

// unsupportedNote says what a known but unsupported signature algorithm is.
func unsupportedNote(o asn1.ObjectIdentifier) string {
	switch {
	case mldsa.IsHashMLDSA(o):
		return fmt.Sprintf("HashML-DSA-%s with SHA-512, the pre-hash variant; RFC 9882 uses pure ML-DSA only",
			map[int]string{32: "44", 33: "65", 34: "87"}[o[8]])
	case o.Equal(oidEd448):
		return "Ed448, not supported"
	}
	return ""
}

// isPureScheme reports whether alg is Ed25519 or ML-DSA.
func isPureScheme(o asn1.ObjectIdentifier) bool {
	_, ok := mldsa.ParametersForOID(o)
	return ok || o.Equal(oidEd25519)
}

// checkPureSignature checks a SignerInfo whose signatureAlgorithm is
// Ed25519 or ML-DSA, after CheckSignature checked its attributes.
func (si *SignerInfo) checkPureSignature(cert *x509.Certificate, h crypto.Hash) error {
	alg := si.SignatureAlgorithm
	if len(alg.Parameters.FullBytes) != 0 {
		// RFC 8419 section 3.1, RFC 9882 section 3.3: parameters MUST be absent.
		return &FormatError{SignatureAlgorithmName(alg) + " signature algorithm has parameters; they must be absent"}
	}
	if si.rawSignedAttrs == nil {
		return &FormatError{SignatureAlgorithmName(alg) + " signatures without signed attributes are not supported"}
	}
	if err := pureDigestAllowed(alg.Algorithm, h); err != nil {
		return err
	}
	if p, ok := mldsa.ParametersForOID(alg.Algorithm); ok {
		pub, isMLDSA, err := mldsa.CertificatePublicKey(cert)
		if err != nil {
			return fmt.Errorf("cms: the signer's certificate: %w", err)
		}
		if !isMLDSA {
			return &FormatError{fmt.Sprintf("%v signature with a certificate whose key is not ML-DSA", p)}
		}
		if pub.Parameters() != p {
			return &FormatError{fmt.Sprintf("%v signature with an %v certificate", p, pub.Parameters())}
		}
		if len(si.Signature) != p.SignatureSize() {
			return &FormatError{fmt.Sprintf("%v signature is %d bytes, want %d", p, len(si.Signature), p.SignatureSize())}
		}
		if !pub.Verify(si.rawSignedAttrs, si.Signature) {
			return ErrBadSignature
		}
		return nil
	}
	pub, ok := cert.PublicKey.(ed25519.PublicKey)
	if !ok {
		return &FormatError{"Ed25519 signature with a certificate whose key is not Ed25519"}
	}
	if len(si.Signature) != ed25519.SignatureSize {
		return &FormatError{fmt.Sprintf("Ed25519 signature is %d bytes, want %d", len(si.Signature), ed25519.SignatureSize)}
	}
	if !ed25519.Verify(pub, si.rawSignedAttrs, si.Signature) {
		return ErrBadSignature
	}
	return nil
}

// pureDigestAllowed checks the SignerInfo's digest algorithm against the
// pure scheme. RFC 8419 section 3.1: with signed attributes, Ed25519 uses
// SHA-512. RFC 9882 section 3.2: the digest must offer at least the
// collision strength of the ML-DSA parameter set: SHA-256 or better for
// ML-DSA-44, SHA-384 or SHA-512 for ML-DSA-65, SHA-512 for ML-DSA-87 (the
// SHA-3 and SHAKE digests it also allows are not supported here).
func pureDigestAllowed(o asn1.ObjectIdentifier, h crypto.Hash) error {
	if p, ok := mldsa.ParametersForOID(o); ok {
		if h.Size()*8/2 < p.DigestStrength() {
			return &FormatError{fmt.Sprintf("%v signature with digest %v, which is weaker than the parameter set (RFC 9882 section 3.2 needs %d-bit collision strength, such as SHA-512)",
				p, h, p.DigestStrength())}
		}
		return nil
	}
	if h != crypto.SHA512 {
		return &FormatError{fmt.Sprintf("Ed25519 signature with digest %v; RFC 8419 requires SHA-512 with signed attributes", h)}
	}
	return nil
}

// pureSignerHash is the digest a pure-scheme key signs with when the
// caller names none: SHA-512, which RFC 8419 requires for Ed25519 and
// RFC 9882 requires every ML-DSA implementation to support.
func pureSignerHash(pub crypto.PublicKey) (crypto.Hash, bool) {
	switch pub.(type) {
	case ed25519.PublicKey, *mldsa.PublicKey:
		return crypto.SHA512, true
	}
	return 0, false
}

// pureSignatureAlgorithm returns the DER signatureAlgorithm of a pure
// scheme key (parameters absent), and false for other keys.
func pureSignatureAlgorithm(pub crypto.PublicKey) ([]byte, asn1.ObjectIdentifier, bool) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return algorithmDER(oidEd25519, nil), oidEd25519, true
	case *mldsa.PublicKey:
		o := k.Parameters().OID()
		return algorithmDER(o, nil), o, true
	}
	return nil, nil, false
}

// KeyMatchesCertificate reports whether pub is the public key of cert, for
// every key type this package signs with (crypto/x509 leaves an ML-DSA
// certificate's PublicKey nil; its key is read from the certificate here).
func KeyMatchesCertificate(pub crypto.PublicKey, cert *x509.Certificate) bool {
	if k, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); ok && cert.PublicKey != nil {
		return k.Equal(pub)
	}
	return matchesCertificate(pub, cert)
}

// matchesCertificate reports whether pub, a pure-scheme key, is the public
// key of cert.
func matchesCertificate(pub crypto.PublicKey, cert *x509.Certificate) bool {
	if k, ok := pub.(*mldsa.PublicKey); ok {
		c, isMLDSA, err := mldsa.CertificatePublicKey(cert)
		return err == nil && isMLDSA && k.Equal(c)
	}
	if k, ok := pub.(ed25519.PublicKey); ok {
		return k.Equal(cert.PublicKey)
	}
	return false
}
