package keys

// This file reads PKCS#7 "certs-only" bundles: a degenerate SignedData whose
// only purpose is to carry certificates (RFC 8551 §3.8, the .p7b/.p7c files
// Windows and OpenSSL's crl2pkcs7 write, and LDAP's userSMIMECertificate).
// The parsing itself is internal/cms's.

import (
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/smimectl/smimectl/internal/cms"
)

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
// SignedData (RFC 5652 section 5.1), BER or DER, through internal/cms.
func parsePKCS7Certificates(data []byte) ([]*x509.Certificate, error) {
	certs, err := cms.Certificates(data)
	if err != nil {
		return nil, fmt.Errorf("keys: PKCS#7 bundle: %w", err)
	}
	if len(certs) == 0 {
		return nil, errors.New("keys: PKCS#7 bundle holds no certificates")
	}
	return certs, nil
}
