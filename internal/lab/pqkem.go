package lab

import (
	"crypto/x509"
	"fmt"
	"io"

	"github.com/smimectl/smimectl/internal/kem"
)

// kemUsers returns the ML-KEM users of a --pq lab, issued by ca (the PQ
// intermediate): dan-mlkem, an ML-KEM-768 encryption-only certificate
// (keyEncipherment, RFC 9935 section 5) for dan@Domain, whose key comes
// from the first 64 bytes of the stream "key/dan-mlkem" as the ML-KEM seed
// (d || z) and is written as PKCS#8 in RFC 9935's seed form.
func (b *builder) kemUsers(ca *Authority) ([]*User, error) {
	const name, local, person = "dan-mlkem", "dan", "Dan"
	seed := make([]byte, kem.SeedSize)
	if _, err := io.ReadFull(b.stream("key/"+name), seed); err != nil {
		return nil, err
	}
	key, err := kem.NewPrivateKeyFromSeed(kem.MLKEM768, seed)
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	tmpl, err := b.userTemplate(name, local, person, x509.KeyUsageKeyEncipherment, tenYears(b.opts.Epoch), ca)
	if err != nil {
		return nil, err
	}
	cert, err := b.issueSPKI(name, tmpl, kem.MarshalPublicKeyInfo(key.PublicKey()), ca)
	if err != nil {
		return nil, err
	}
	// crypto/x509 left the key nil: read it as every reader of the tree does.
	if cert, err = kem.ParseCertificate(cert.Raw); err != nil {
		return nil, fmt.Errorf("lab: parsing certificate %q: %w", name, err)
	}
	return []*User{{
		Name: name, Email: local + "@" + b.opts.Domain, Cert: cert,
		PrivateKey: key, KeyPKCS8: kem.MarshalPKCS8PrivateKey(key), Issuer: ca.Name,
		Note: "ML-KEM-768 encryption-only certificate (keyEncipherment): receives KEMRecipientInfo (RFC 9936)",
	}}, nil
}

// pqKeyName names, for the README, a certificate key crypto/x509 leaves
// unparsed and that is not ML-DSA (such as "ML-KEM-768"), or "".
func pqKeyName(cert *x509.Certificate) string {
	if k, ok := cert.PublicKey.(*kem.PublicKey); ok {
		return k.ParameterSet().String()
	}
	if k, err := kem.ParsePublicKeyInfo(cert.RawSubjectPublicKeyInfo); err == nil {
		return k.ParameterSet().String()
	}
	return ""
}
