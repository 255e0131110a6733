package keys

import (
	"crypto/x509"

	"github.com/smimectl/smimectl/internal/mldsa"
)

// parsePKCS8 reads a DER PKCS#8 private key: ML-DSA keys in any of the
// three forms of RFC 9881 section 6 (seed, expandedKey, both), which
// crypto/x509 does not know, and everything else through crypto/x509.
func parsePKCS8(der []byte) (any, error) {
	key, ok, err := mldsa.ParsePKCS8PrivateKey(der)
	if ok {
		if err != nil {
			return nil, err
		}
		return key, nil
	}
	return x509.ParsePKCS8PrivateKey(der)
}
