package revocation

import (
	"bytes"
	"crypto/x509"

	"github.com/smimectl/smimectl/internal/chain"
)

// IssuedBy reports whether issuer issued cert: issuer's subject is cert's
// issuer name and issuer's public key verifies cert's signature, with the
// algorithms a chain is checked with (crypto/x509's, SHA-1 included, and
// ML-DSA, RFC 9881). IssuedBy(cert, cert) tells a self-signed certificate,
// a root that has no CRL to fetch, apart from one that only has the same
// name. It is what finds the issuer [Refresh] needs among the certificates
// at hand; nothing else of the issuer (validity, CA flag, key usage) is
// checked.
func IssuedBy(cert, issuer *x509.Certificate) bool {
	return bytes.Equal(issuer.RawSubject, cert.RawIssuer) && chain.CheckCertificateSignature(cert, issuer) == nil
}
