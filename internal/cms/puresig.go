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
//
// HashML-DSA (FIPS 204 algorithm 4, id-hash-ml-dsa-*-with-sha512) goes the
// same way, for verification only: Bouncy Castle writes it, RFC 9882
// specifies pure ML-DSA, so this package reads it (signed attributes
// required, SHA-512 digest as the identifier says, parameters absent) and
// never makes it.

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
// people: "RSA", "RSA-PSS", "ECDSA", "Ed25519", "ML-DSA-65",
// "HashML-DSA-65 (pre-hash, read only)"; for an identifier this package
// does not use, the dotted OID, with what it is when known ("Ed448, not
// supported").
func SignatureAlgorithmName(alg pkix.AlgorithmIdentifier) string {
	o := alg.Algorithm
	if p, ok := mldsa.ParametersForOID(o); ok {
		return p.String()
	}
	if p, ok := mldsa.HashParametersForOID(o); ok {
		return "Hash" + p.String() + " (pre-hash, read only)"
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
	if o.Equal(oidEd448) {
		return "Ed448, not supported"
	}
	return ""
}

// hashMLDSAName is "HashML-DSA-65 with SHA-512" for set p.
func hashMLDSAName(p mldsa.Parameters) string {
	return "Hash" + p.String() + " with SHA-512"
}

// isPureScheme reports whether alg is Ed25519, ML-DSA or HashML-DSA: the
// schemes checkPureSignature verifies over the signed attributes' DER.
func isPureScheme(o asn1.ObjectIdentifier) bool {
	_, ok := mldsa.ParametersForOID(o)
	return ok || mldsa.IsHashMLDSA(o) || o.Equal(oidEd25519)
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
		pub, err := si.mldsaKey(cert, p, p.String(), false)
		if err != nil {
			return err
		}
		if !pub.Verify(si.rawSignedAttrs, si.Signature) {
			return ErrBadSignature
		}
		return nil
	}
	if p, ok := mldsa.HashParametersForOID(alg.Algorithm); ok {
		pub, err := si.mldsaKey(cert, p, hashMLDSAName(p), true)
		if err != nil {
			return err
		}
		if !pub.VerifyHashSHA512(si.rawSignedAttrs, si.Signature) {
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

// mldsaKey returns the ML-DSA key of the signer's certificate for a
// signature of set p (named name in errors) after checking that it is of
// set p and that the signature has its size. A HashML-DSA signature
// (hash) may come from a certificate with the pure identifier (FIPS 204
// lets one key make both; M' keeps them apart) or the HashML-DSA one; a
// pure signature never from a certificate that restricts its key to
// HashML-DSA.
func (si *SignerInfo) mldsaKey(cert *x509.Certificate, p mldsa.Parameters, name string, hash bool) (*mldsa.PublicKey, error) {
	pub, hashOnly, isMLDSA, err := mldsa.CertificateVerifyKey(cert)
	if err != nil {
		return nil, fmt.Errorf("cms: the signer's certificate: %w", err)
	}
	if !isMLDSA {
		return nil, &FormatError{name + " signature with a certificate whose key is not ML-DSA"}
	}
	if hashOnly && !hash {
		return nil, &FormatError{fmt.Sprintf("%s signature with a certificate whose key is for %s only", name, hashMLDSAName(pub.Parameters()))}
	}
	if pub.Parameters() != p {
		return nil, &FormatError{fmt.Sprintf("%s signature with an %v certificate", name, pub.Parameters())}
	}
	if len(si.Signature) != p.SignatureSize() {
		return nil, &FormatError{fmt.Sprintf("%s signature is %d bytes, want %d", name, len(si.Signature), p.SignatureSize())}
	}
	return pub, nil
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
	if p, ok := mldsa.HashParametersForOID(o); ok {
		// The identifier names the pre-hash; the messageDigest
		// attribute's digest must be the same one.
		if h != crypto.SHA512 {
			return &FormatError{fmt.Sprintf("%s signature with digest %v; the algorithm requires SHA-512", hashMLDSAName(p), h)}
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
