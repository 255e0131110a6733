package verify

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/smimectl/smimectl/internal/chain"
	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/mime"
)

// MalformedError reports a message that is not well-formed S/MIME.
type MalformedError struct{ Err error }

func (e *MalformedError) Error() string { return "verify: malformed message: " + e.Err.Error() }
func (e *MalformedError) Unwrap() error { return e.Err }

// AmbiguousError reports a message whose MIME structure other parsers may
// read otherwise (see mime.AmbiguousError): more than one Content-Type or
// Content-Transfer-Encoding field, or a multipart/signed body with a line
// that starts with the boundary and is not an exact delimiter, a nested
// boundary that overlaps the outer one, or a delimiter after the close
// delimiter. The mail client might show other bytes than those verified,
// so the message is refused (issue #11 item 9).
type AmbiguousError struct{ Err error }

func (e *AmbiguousError) Error() string {
	var me *mime.AmbiguousError
	if errors.As(e.Err, &me) {
		return "verify: ambiguous MIME structure: " + me.Reason
	}
	return "verify: ambiguous MIME structure: " + e.Err.Error()
}
func (e *AmbiguousError) Unwrap() error { return e.Err }

// malformed wraps an error of the mime package as an *AmbiguousError when
// it is one, else as a *MalformedError.
func malformed(err error) error {
	var me *mime.AmbiguousError
	if errors.As(err, &me) {
		return &AmbiguousError{Err: err}
	}
	return &MalformedError{Err: err}
}

// SignatureError reports a signature that does not verify: the content
// changed after signing, or the signature is not the signer's.
type SignatureError struct {
	Signer int // index in the message's signer infos
	Err    error
}

func (e *SignatureError) Error() string {
	switch {
	case errors.Is(e.Err, cms.ErrContentModified):
		return fmt.Sprintf("verify: signer %d: the message was changed after it was signed (its content does not match the signed digest)", e.Signer+1)
	case errors.Is(e.Err, cms.ErrBadSignature):
		return fmt.Sprintf("verify: signer %d: the signature is not valid for the signer's certificate", e.Signer+1)
	}
	return fmt.Sprintf("verify: signer %d: %v", e.Signer+1, e.Err)
}

func (e *SignatureError) Unwrap() error { return e.Err }

// TrustError reports a signer certificate that is not trusted now: no
// chain to a trusted root, expired, not yet valid, or not for signing.
type TrustError struct {
	Cert   *x509.Certificate
	Reason chain.Reason
	Err    error
}

func (e *TrustError) Error() string {
	var what string
	switch e.Reason {
	case chain.Untrusted:
		what = "the signer's certificate was issued by an untrusted source"
	case chain.Expired:
		what = "the certificate has expired"
	case chain.NotYetValid:
		what = "the certificate is not yet valid"
	case chain.Usage:
		what = "the certificate may not be used to sign mail"
	case chain.NameConstraint:
		what = "the certificate is outside the names its issuing authority may certify"
	case chain.TooComplex:
		what = "the signer's certificate chain could not be checked"
	case chain.Policy:
		what = "the certificate chain breaks the certificate policies its authorities set"
	default:
		what = "the signer's certificate is not valid"
	}
	return fmt.Sprintf("verify: %s: %v", what, strings.TrimPrefix(e.Err.Error(), "chain: "))
}

func (e *TrustError) Unwrap() error { return e.Err }

// SenderError reports a From address that is not in the signer's certificate.
type SenderError struct {
	From      string
	Addresses []string
}

func (e *SenderError) Error() string {
	if e.From == "" {
		return "verify: the message has no From address to compare with the signer's certificate"
	}
	return fmt.Sprintf("verify: the sender %s is not in the signer's certificate (it is for %s)", e.From, strings.Join(e.Addresses, ", "))
}

// HeaderError reports an outer From field that names another sender than
// the protected one (RFC 9788 header protection): the outer header was
// rewritten after the message was protected, as an event sink or a forger
// would. Both addresses are given.
type HeaderError struct {
	Field     string
	Protected string // the address inside the protection
	Outer     string // the address in the outer header, "" if none
}

func (e *HeaderError) Error() string {
	outer := strconv.Quote(e.Outer)
	if e.Outer == "" {
		outer = "none"
	}
	return fmt.Sprintf("verify: the %s field was changed after the message was protected: %q inside, %s outside", e.Field, e.Protected, outer)
}

// PolicyError reports an algorithm refused by policy.
type PolicyError struct{ Err error }

func (e *PolicyError) Error() string { return "verify: " + e.Err.Error() }
func (e *PolicyError) Unwrap() error { return e.Err }
