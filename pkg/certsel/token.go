package certsel

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
)

// Token is what [PKCS11] needs of a PKCS#11 token (a smart card): the
// certificates on it, each with its private key when the token holds one
// under the same CKA_ID and the session is logged in. smimectl's token
// type implements it.
type Token interface {
	Certificates() ([]TokenCertificate, error)
}

// TokenCertificate is one certificate on a [Token]: Key is its private key
// (a crypto.Signer; RSA keys are also crypto.Decrypters, EC keys have
// ECDH), or nil; URI names the certificate's object on its token (RFC 7512).
type TokenCertificate = struct {
	Certificate *x509.Certificate
	Key         crypto.Signer
	URI         string
}

// PKCS11 is a [Source] over the certificates on a PKCS#11 token (a smart
// card), opened and logged in by the caller. A certificate whose
// private key is on the token (same CKA_ID; the token must be logged in to
// see keys) comes with that key, marked Hardware, so it passes the
// smart-card-only policy (the guide's SmartCardOnly). The token's CA
// certificates are offered as every candidate's Chain. The caller closes
// the token once it is done with the selected key.
type PKCS11 struct {
	Token Token
	// Name names the token for reports (its pkcs11: URI).
	Name string
}

func (p PKCS11) String() string { return p.Name }

// Find returns every certificate on the token.
func (p PKCS11) Find(context.Context, string) ([]Found, error) {
	certs, err := p.Token.Certificates()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", p.Name, err)
	}
	var cas []*x509.Certificate
	for _, c := range certs {
		if c.Certificate.IsCA {
			cas = append(cas, c.Certificate)
		}
	}
	var out []Found
	for _, c := range certs {
		if c.Certificate.IsCA {
			continue
		}
		out = append(out, Found{Cert: c.Certificate, Chain: cas, Key: c.Key, Hardware: c.Key != nil, Origin: c.URI})
	}
	return out, nil
}
