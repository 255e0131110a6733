package sign

import (
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/smimectl/smimectl/internal/cms"
)

// CertsOnly returns the DER "certs-only" message of certs (RFC 8551
// section 3.6): a SignedData with no signers that carries certs in the
// order given, end-entity first as OpenSSL's crl2pkcs7 and Outlook write
// it. It is the .p7c file, the body of an application/pkcs7-mime;
// smime-type=certs-only message and the value Outlook's "Publish to GAL"
// writes to userSMIMECertificate. It lives here, beside [Sign], because it
// is the one other SignedData this module writes; ReadCertificates of
// pkg/verify reads it back. Every certificate must be a parsed one (its Raw set).
func CertsOnly(certs []*x509.Certificate) ([]byte, error) {
	if len(certs) == 0 {
		return nil, errors.New("sign: a certs-only message needs at least one certificate")
	}
	for i, c := range certs {
		if c == nil || len(c.Raw) == 0 {
			return nil, fmt.Errorf("sign: certificate %d of the certs-only message has no DER encoding: give parsed certificates", i+1)
		}
	}
	return cms.CertsOnly(certs)
}
