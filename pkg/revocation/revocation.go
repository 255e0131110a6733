// Package revocation decides whether a certificate has been revoked, as the
// Exchange 2003 Message Security Guide's Chapter 6 "Certificate Revocation
// Check" describes: find a CRL for the certificate's issuer, check the
// CRL's signature and freshness, look the serial number up.
//
// A [Checker] answers for one certificate and its issuer at a given time.
// [New] builds one over CRLs given by hand (the guide's "manually import a
// CRL"); fetching from distribution points, caching and OCSP come later
// behind the same interface. What an unanswered question means is the
// [Mode]: soft passes with a warning (the guide's default, CheckCRL=0),
// hard fails (CheckCRL=1), off does not check (DisableCRLCheck=1).
package revocation

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/smimectl/smimectl/internal/certinfo"
	"time"
)

// Mode says what an unavailable revocation answer means.
type Mode int

const (
	// Soft: no answer is a warning and the certificate passes.
	Soft Mode = iota
	// Hard: no answer is a failure (a temporary one: retry later).
	Hard
	// Off: revocation is not checked; results say so.
	Off
)

func (m Mode) String() string {
	switch m {
	case Hard:
		return "hard"
	case Off:
		return "off"
	}
	return "soft"
}

// ParseMode reads "soft", "hard" or "off".
func ParseMode(s string) (Mode, error) {
	for _, m := range []Mode{Soft, Hard, Off} {
		if m.String() == s {
			return m, nil
		}
	}
	return Soft, fmt.Errorf("revocation: unknown mode %q (want soft, hard or off)", s)
}

// Status is the answer for one certificate.
type Status int

const (
	// Good: a current CRL from the issuer does not list the certificate.
	Good Status = iota
	// Revoked: the certificate was revoked at or before the time asked.
	Revoked
	// Unknown: no usable answer was found.
	Unknown
	// Skipped: revocation checking is off.
	Skipped
)

func (s Status) String() string {
	return [...]string{"good", "revoked", "unknown", "skipped"}[s]
}

// Outcome describes the answer and where it came from.
type Outcome struct {
	Status Status
	// Source names what answered ("crl file"), empty if nothing did.
	Source string
	// Detail is one line for reports.
	Detail string
	// RevokedAt and Reason are set when Status is Revoked; Reason is the
	// RFC 5280 CRLReason code.
	RevokedAt time.Time
	Reason    int
}

// Checker answers whether cert, issued by issuer, was revoked at time at.
// It returns a *RevokedError for a revoked certificate and, in hard mode,
// an *UnavailableError when it has no answer; in soft mode it returns an
// Unknown outcome and a nil error instead.
type Checker interface {
	Check(ctx context.Context, cert, issuer *x509.Certificate, at time.Time) (Outcome, error)
}

// RevokedError reports a revoked certificate.
type RevokedError struct {
	Cert   *x509.Certificate
	At     time.Time
	Reason int
}

func (e *RevokedError) Error() string {
	return fmt.Sprintf("revocation: certificate %s (serial %X) was revoked on %s, reason: %s",
		certinfo.Name(e.Cert.Subject), e.Cert.SerialNumber, e.At.UTC().Format(time.RFC3339), ReasonString(e.Reason))
}

// UnavailableError reports that no revocation answer could be had in hard mode.
type UnavailableError struct {
	Cert *x509.Certificate
	Err  error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("revocation: no revocation information for %s: %v", certinfo.Name(e.Cert.Subject), e.Err)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// ReasonString names an RFC 5280 CRLReason code.
func ReasonString(code int) string {
	names := []string{"unspecified", "keyCompromise", "cACompromise", "affiliationChanged",
		"superseded", "cessationOfOperation", "certificateHold", "7", "removeFromCRL",
		"privilegeWithdrawn", "aACompromise"}
	if code >= 0 && code < len(names) {
		return names[code]
	}
	return fmt.Sprint(code)
}

// Options configure the checker [New] returns.
type Options struct {
	// Mode is soft if zero.
	Mode Mode
	// CRLs are given by hand; only those whose signature checks with the
	// certificate's issuer are used.
	CRLs []*x509.RevocationList
}

// New returns a Checker over the CRLs in opts.
func New(opts Options) Checker { return &crlChecker{opts: opts} }

type crlChecker struct{ opts Options }

var errNoCRL = errors.New("no CRL from the issuer was given (use --crl)")

func (c *crlChecker) Check(ctx context.Context, cert, issuer *x509.Certificate, at time.Time) (Outcome, error) {
	if c.opts.Mode == Off {
		return Outcome{Status: Skipped, Detail: "revocation checking is off"}, nil
	}
	var stale *x509.RevocationList
	for _, crl := range c.opts.CRLs {
		if !bytes.Equal(crl.RawIssuer, cert.RawIssuer) || crl.CheckSignatureFrom(issuer) != nil {
			continue
		}
		for _, e := range crl.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(cert.SerialNumber) == 0 && !e.RevocationTime.After(at) {
				o := Outcome{Status: Revoked, Source: "crl file", RevokedAt: e.RevocationTime, Reason: e.ReasonCode,
					Detail: fmt.Sprintf("listed in the CRL of %s issued %s", crl.Issuer, crl.ThisUpdate.UTC().Format(time.RFC3339))}
				return o, &RevokedError{Cert: cert, At: e.RevocationTime, Reason: e.ReasonCode}
			}
		}
		// A CRL issued after the time asked still covers it: anything
		// revoked before then would be listed. One past its nextUpdate
		// does not prove the certificate good.
		if !crl.NextUpdate.IsZero() && at.After(crl.NextUpdate) {
			stale = crl
			continue
		}
		return Outcome{Status: Good, Source: "crl file",
			Detail: fmt.Sprintf("not listed in the CRL of %s issued %s", crl.Issuer, crl.ThisUpdate.UTC().Format(time.RFC3339))}, nil
	}
	err := errNoCRL
	if stale != nil {
		err = fmt.Errorf("the CRL of %s expired at %s", stale.Issuer, stale.NextUpdate.UTC().Format(time.RFC3339))
	}
	if c.opts.Mode == Hard {
		return Outcome{Status: Unknown, Detail: err.Error()}, &UnavailableError{Cert: cert, Err: err}
	}
	return Outcome{Status: Unknown, Detail: err.Error()}, nil
}

// ParseCRLs reads CRLs from PEM ("X509 CRL" blocks) or a single DER CRL.
func ParseCRLs(data []byte) ([]*x509.RevocationList, error) {
	var out []*x509.RevocationList
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "X509 CRL" {
			continue
		}
		crl, err := x509.ParseRevocationList(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("revocation: parsing CRL: %w", err)
		}
		out = append(out, crl)
	}
	if len(out) > 0 {
		return out, nil
	}
	crl, err := x509.ParseRevocationList(data)
	if err != nil {
		return nil, fmt.Errorf("revocation: no CRL found (PEM \"X509 CRL\" or DER): %w", err)
	}
	return []*x509.RevocationList{crl}, nil
}
