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
	oid, params, err := outerSignatureAlgorithm(child.Raw)
	if err != nil {
		return err
	}
	p, ok := mldsa.ParametersForOID(oid)
	if !ok {
		if mldsa.IsHashMLDSA(oid) {
			return fmt.Errorf("unsupported certificate signature algorithm %v (HashML-DSA; RFC 9881 certificates use pure ML-DSA)", oid)
		}
		return fmt.Errorf("unsupported certificate signature algorithm %v", oid)
	}
	if params {
		return fmt.Errorf("%v certificate signature algorithm has parameters; RFC 9881 requires them absent", p)
	}
	pub, isMLDSA, err := mldsa.CertificatePublicKey(issuer)
	if err != nil {
		return fmt.Errorf("the issuer's key: %w", err)
	}
	if !isMLDSA || pub.Parameters() != p {
		return fmt.Errorf("%v signature, but the issuer's key is not %v", p, p)
	}
	if len(child.Signature) != p.SignatureSize() {
		return fmt.Errorf("%v signature is %d bytes, want %d", p, len(child.Signature), p.SignatureSize())
	}
	if !pub.Verify(child.RawTBSCertificate, child.Signature) {
		return errors.New("ML-DSA verification failure")
	}
	return nil
}

// outerSignatureAlgorithm reads the signatureAlgorithm of a DER
// Certificate (RFC 5280 section 4.1.1.2) and whether it has parameters.
// crypto/x509 has already checked that it equals the one in the TBS.
func outerSignatureAlgorithm(der []byte) (asn1.ObjectIdentifier, bool, error) {
	s := cryptobyte.String(der)
	var cert, alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.SkipASN1(cbasn1.SEQUENCE) ||
		!cert.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
		return nil, false, errors.New("malformed certificate signature algorithm")
	}
	return oid, !alg.Empty(), nil
}
