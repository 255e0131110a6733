package chain

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"

	"github.com/smimectl/smimectl/internal/mldsa"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// CheckCertificateSignature reports whether issuer's public key verifies
// the signature on child. It is the one place the tree checks a signature
// on a certificate: crypto/x509 for the algorithms it knows (SHA-1 included,
// which CheckSignatureFrom would refuse), and ML-DSA (RFC 9881), which
// crypto/x509 parses but cannot verify, through internal/mldsa.
func CheckCertificateSignature(child, issuer *x509.Certificate) error {
	if child.SignatureAlgorithm != x509.UnknownSignatureAlgorithm {
		return issuer.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature)
	}
	alg, err := outerSignatureAlgorithm(child.Raw)
	if err != nil {
		return err
	}
	return CheckSignature(issuer, child.SignatureAlgorithm, alg, child.RawTBSCertificate, child.Signature)
}

// CheckSignature reports whether issuer's public key verifies sig over
// signed, for a certificate, a CRL or any other object an authority signs:
// algorithm is what crypto/x509 made of its signatureAlgorithm, algDER the
// DER AlgorithmIdentifier itself, read when crypto/x509 does not know the
// algorithm (UnknownSignatureAlgorithm): ML-DSA (RFC 9881), parameters
// absent.
func CheckSignature(issuer *x509.Certificate, algorithm x509.SignatureAlgorithm, algDER, signed, sig []byte) error {
	if algorithm != x509.UnknownSignatureAlgorithm {
		return issuer.CheckSignature(algorithm, signed, sig)
	}
	s := cryptobyte.String(algDER)
	var alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&alg, cbasn1.SEQUENCE) || !s.Empty() || !alg.ReadASN1ObjectIdentifier(&oid) {
		return errors.New("malformed signature algorithm")
	}
	p, ok := mldsa.ParametersForOID(oid)
	if !ok {
		if mldsa.IsHashMLDSA(oid) {
			return fmt.Errorf("unsupported signature algorithm %v (HashML-DSA; RFC 9881 uses pure ML-DSA)", oid)
		}
		return fmt.Errorf("unsupported signature algorithm %v", oid)
	}
	if !alg.Empty() {
		return fmt.Errorf("%v signature algorithm has parameters; RFC 9881 requires them absent", p)
	}
	pub, isMLDSA, err := mldsa.CertificatePublicKey(issuer)
	if err != nil {
		return fmt.Errorf("the issuer's key: %w", err)
	}
	if !isMLDSA || pub.Parameters() != p {
		return fmt.Errorf("%v signature, but the issuer's key is not %v", p, p)
	}
	if len(sig) != p.SignatureSize() {
		return fmt.Errorf("%v signature is %d bytes, want %d", p, len(sig), p.SignatureSize())
	}
	if !pub.Verify(signed, sig) {
		return errors.New("ML-DSA verification failure")
	}
	return nil
}

// outerSignatureAlgorithm returns the DER signatureAlgorithm of a DER
// Certificate or CertificateList (RFC 5280 sections 4.1.1.2, 5.1.1.2),
// SEQUENCE { tbs, signatureAlgorithm, signatureValue }.
func outerSignatureAlgorithm(der []byte) ([]byte, error) {
	s := cryptobyte.String(der)
	var cert, alg cryptobyte.String
	if !s.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.SkipASN1(cbasn1.SEQUENCE) ||
		!cert.ReadASN1Element(&alg, cbasn1.SEQUENCE) {
		return nil, errors.New("malformed certificate signature algorithm")
	}
	return alg, nil
}

// CheckCRLSignature is x509.RevocationList.CheckSignatureFrom for every
// algorithm CheckSignature knows: issuer must be a certification authority
// allowed to sign CRLs (crlSign, when it has a key usage), and its key
// must verify the CRL's signature.
func CheckCRLSignature(crl *x509.RevocationList, issuer *x509.Certificate) error {
	if issuer.Version == 3 && !issuer.BasicConstraintsValid || issuer.BasicConstraintsValid && !issuer.IsCA {
		return x509.ConstraintViolationError{}
	}
	if issuer.KeyUsage != 0 && issuer.KeyUsage&x509.KeyUsageCRLSign == 0 {
		return x509.ConstraintViolationError{}
	}
	if crl.SignatureAlgorithm != x509.UnknownSignatureAlgorithm {
		return crl.CheckSignatureFrom(issuer)
	}
	alg, err := outerSignatureAlgorithm(crl.Raw)
	if err != nil {
		return err
	}
	return CheckSignature(issuer, crl.SignatureAlgorithm, alg, crl.RawTBSRevocationList, crl.Signature)
}
