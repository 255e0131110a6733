// Package ldaptls holds the TLS set-up shared by the two LDAP clients,
// pkg/certsel (lookups) and pkg/directory (publishing).
package ldaptls

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// VerifyingConfig returns a TLS configuration that verifies the server's
// chain against roots (nil: the system's) and its name against host, as
// crypto/tls would, but keeps the verification error in *verifyErr: a
// certificate that fails is a setup problem (the wrong --ldap-ca, a wrong host
// name), not worth retrying, and the LDAP library's errors do not wrap it.
func VerifyingConfig(host string, roots *x509.CertPool) (*tls.Config, *error) {
	verifyErr := new(error)
	conf := &tls.Config{
		MinVersion: tls.VersionTLS12,
		ServerName: host,
		// Verification happens in VerifyConnection below, never skipped.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				*verifyErr = errors.New("the server sent no certificate")
				return *verifyErr
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
				DNSName: host, Roots: roots, Intermediates: inter,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			})
			if err != nil {
				*verifyErr = fmt.Errorf("the directory's TLS certificate: %w", err)
			}
			return *verifyErr
		},
	}
	return conf, verifyErr
}
