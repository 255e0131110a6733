package directory

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/smimectl/smimectl/internal/chain"
	"github.com/smimectl/smimectl/internal/keys"
)

// MaxValueSize is the largest value read as certificates; a larger one is
// reported as unreadable (it is still a value that [PlanClean] can remove).
const MaxValueSize = 1 << 20

// Value is one value of a certificate attribute, read and judged.
type Value struct {
	// Raw is the value as the directory holds it.
	Raw []byte
	// Certs are its certificates: for userSMIMECertificate a PKCS#7
	// certs-only bundle (end-entity certificates and their chain), for
	// userCertificate one DER certificate. Nil when Err is set.
	Certs []Cert
	// Err says why the value could not be read: malformed PKCS#7 or DER,
	// no certificate, or larger than MaxValueSize.
	Err error
	// TrustChecked is whether Untrusted was judged (Roots were given).
	TrustChecked bool
	// Untrusted: some end-entity certificate of the value does not chain
	// to the roots (checked while it was valid, so that an expired
	// certificate from the organisation's CA is expired, not untrusted).
	// A value that can't be read counts as untrusted too.
	Untrusted bool
	// Expired: every end-entity certificate of the value has expired.
	Expired bool
}

// Cert is one certificate of a [Value].
type Cert struct {
	*x509.Certificate
	// EndEntity: not a CA certificate (or the value holds only CA
	// certificates).
	EndEntity bool
	// Trusted: an end-entity certificate that chains to the roots; false
	// when the trust was not checked.
	Trusted bool
	// Expired: notAfter is before the time of the judgement.
	Expired bool
}

// SHA256 is the hex SHA-256 of the raw value, which names it.
func (v *Value) SHA256() string {
	s := sha256.Sum256(v.Raw)
	return hex.EncodeToString(s[:])
}

// Judge says how values are judged.
type Judge struct {
	// Roots are the organisation's CA certificates; a value whose
	// end-entity certificates all chain to one is trusted. Nil: trust is
	// not judged.
	Roots []*x509.Certificate
	// Intermediates help build chains, besides the value's own
	// certificates.
	Intermediates []*x509.Certificate
	// Now is the time of the judgement (expiry).
	Now time.Time
}

// ReadValue reads and judges one value.
func (j Judge) ReadValue(raw []byte) Value {
	v := Value{Raw: raw, TrustChecked: j.Roots != nil}
	if len(raw) > MaxValueSize {
		v.Err = fmt.Errorf("directory: a value of %d bytes is larger than %d bytes; not read", len(raw), MaxValueSize)
		v.Untrusted = true
		return v
	}
	certs, err := keys.ParseCertificates(raw)
	if err != nil {
		v.Err = err
		v.Untrusted = true
		return v
	}
	hasEE := false
	for _, c := range certs {
		if !isCA(c) {
			hasEE = true
		}
	}
	v.Expired = true
	for _, c := range certs {
		vc := Cert{Certificate: c, EndEntity: !hasEE || !isCA(c), Expired: j.Now.After(c.NotAfter)}
		if vc.EndEntity {
			if !vc.Expired {
				v.Expired = false
			}
			if j.Roots != nil {
				vc.Trusted = j.trusted(c, certs)
				if !vc.Trusted {
					v.Untrusted = true
				}
			}
		}
		v.Certs = append(v.Certs, vc)
	}
	return v
}

func isCA(c *x509.Certificate) bool { return c.BasicConstraintsValid && c.IsCA }

// trusted reports whether leaf was issued under one of the roots: a chain of
// good signatures reaches a root, checked at a time when leaf was valid.
func (j Judge) trusted(leaf *x509.Certificate, bundle []*x509.Certificate) bool {
	at := j.Now
	if at.After(leaf.NotAfter) {
		at = leaf.NotAfter
	}
	if at.Before(leaf.NotBefore) {
		at = leaf.NotBefore
	}
	inter := append(append([]*x509.Certificate(nil), j.Intermediates...), bundle...)
	_, err := chain.Build(leaf, chain.Options{Roots: j.Roots, Intermediates: inter, Time: at})
	if err == nil {
		return true
	}
	ce, ok := err.(*chain.Error)
	if !ok {
		return false
	}
	switch ce.Reason {
	case chain.Untrusted, chain.BadSignature, chain.TooComplex, chain.NotAuthorized:
		return false
	}
	// The path reached a root; what failed (a CA expired at that time, a
	// usage or policy rule) does not make the certificate someone else's.
	return true
}
