package capabilities

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/smimectl/smimectl/internal/certinfo"
	"github.com/smimectl/smimectl/internal/chain"
	"github.com/smimectl/smimectl/pkg/verify"
)

// LearnFrom records the capabilities of the signers of a verified message
// (verify.Verify or verify.Open): only if res is Valid — every signature,
// certificate chain to a trusted root, revocation answer and sender check
// passed — and only of signers that are Valid. A forged signature, a
// certificate that does not chain to a trusted root, or any other failure
// teaches nothing, so a sender can't make encrypt pick a cipher for someone
// else's certificate. A signer that sent no smimeCapabilities attribute
// teaches nothing either (its client may simply not say), and one whose
// attribute does not parse is an error for that signer only. written counts
// the records written; err joins every signer's error.
func (s *Store) LearnFrom(res *verify.Result) (written int, err error) {
	if res == nil || !res.Valid {
		return 0, nil
	}
	var errs []error
	for _, sg := range res.Signers {
		if !sg.Valid || sg.Certificate == nil || sg.Capabilities == nil {
			continue
		}
		caps, truncated, err := Parse(sg.Capabilities)
		if err != nil {
			errs = append(errs, fmt.Errorf("signer %d: %w", sg.Index+1, err))
			continue
		}
		var at time.Time
		if sg.SigningTime != nil {
			at = *sg.SigningTime
		}
		for _, cert := range learnFor(sg) {
			o, err := s.Learn(cert, caps, truncated, at)
			if err != nil {
				errs = append(errs, fmt.Errorf("signer %d: %w", sg.Index+1, err))
				continue
			}
			if o == Written {
				written++
			}
		}
	}
	return written, errors.Join(errs...)
}

// learnFor lists the certificates a valid signer's capabilities are recorded
// for: its own, and the encryption certificate its SMIMEEncryptionKeyPreference
// attribute names (RFC 8551 2.5.3; Outlook and others sign with one
// certificate and receive with another) when that certificate is the same
// person's: signed by the issuer of the signer's verified chain and carrying
// one of the signer's addresses. So a signer can't attach what it
// advertises to a certificate of someone else, nor to certificates of its
// own making that only claim that issuer's name (the message's certificate
// set is not authenticated): each would be a record no encryption ever
// reads, one more per message.
func learnFor(sg *verify.Signer) []*x509.Certificate {
	out := []*x509.Certificate{sg.Certificate}
	e := sg.EncryptionCertificate
	if e == nil || e.Equal(sg.Certificate) || !bytes.Equal(e.RawIssuer, sg.Certificate.RawIssuer) || len(sg.Chain) < 2 {
		return out
	}
	if chain.CheckCertificateSignature(e, sg.Chain[1]) != nil {
		return out
	}
	for _, a := range certinfo.Addresses(sg.Certificate) {
		if certinfo.HasAddress(e, a) {
			return append(out, e)
		}
	}
	return out
}
