package verify

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/smimectl/smimectl/internal/chain"
	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/mime"
)

// MalformedError reports a message that is not well-formed S/MIME.
type MalformedError struct{ Err error }

func (e *MalformedError) Error() string  { return "verify: " + e.detail() }
func (e *MalformedError) detail() string { return "malformed message: " + e.Err.Error() }
func (e *MalformedError) Unwrap() error  { return e.Err }

// AmbiguousError reports a message whose MIME structure other parsers may
// read otherwise: more than one Content-Type or
// Content-Transfer-Encoding field, or a multipart/signed body with a line
// that starts with the boundary and is not an exact delimiter, a nested
// boundary that overlaps the outer one, or a delimiter after the close
// delimiter. The mail client might show other bytes than those verified,
// so the message is refused (issue #11 item 9).
type AmbiguousError struct{ Err error }

func (e *AmbiguousError) Error() string { return "verify: " + e.detail() }

// detail is the error's text without the package name.
func (e *AmbiguousError) detail() string {
	var me *mime.AmbiguousError
	if errors.As(e.Err, &me) {
		return "ambiguous MIME structure: " + me.Reason
	}
	return "ambiguous MIME structure: " + e.Err.Error()
}

// messageDetail is what err, a failure to read the message, says about
// the message: a *MalformedError's cause, an *AmbiguousError's text
// without the package name. Inspect's notes quote it.
func messageDetail(err error) string {
	switch e := err.(type) {
	case *MalformedError:
		return e.Err.Error()
	case *AmbiguousError:
		return e.detail()
	}
	return err.Error()
}
func (e *AmbiguousError) Unwrap() error { return e.Err }

// malformed wraps an error met while reading the message as an
// *AmbiguousError when it is one, else as a *MalformedError, except a
// *mime.SpoolError: a temporary file that could not be written or read is a
// fault of this machine, not of the message (issue #11 item 15), and is
// returned as it is. A bound of the MIME or CMS reader gets this
// package's type (*LimitError) inside the *MalformedError, as input that is
// not mail has its *NotMailError from encrypt.OpenInput already, so that
// callers need no internal package to tell them apart (issue #17 item 1).
func malformed(err error) error {
	var me *mime.AmbiguousError
	if errors.As(err, &me) {
		return &AmbiguousError{Err: err}
	}
	var se *mime.SpoolError
	if errors.As(err, &se) {
		return err
	}
	var (
		ml *mime.LimitError
		cl *cms.LimitError
	)
	switch {
	case errors.As(err, &ml):
		err = &LimitError{What: ml.What, Max: int64(ml.Max), Err: err}
	case errors.As(err, &cl):
		err = &LimitError{What: cl.What, Max: cl.Limit, Bytes: cl.Bytes, Err: err}
	}
	return &MalformedError{Err: err}
}

// ErrContentModified and ErrBadSignature tell the two failures of a
// signature apart: errors.Is finds them in a [*SignatureError].
var (
	// ErrContentModified: the content does not match the digest the
	// signer signed; it was changed after it was signed.
	ErrContentModified error = errorString("the content was changed after it was signed")
	// ErrBadSignature: the signature does not verify with the signer's
	// public key.
	ErrBadSignature error = errorString("the signature is not valid for the signer's certificate")
)

// ErrNoFrom is found by errors.Is in a *SenderError for a message without
// a From field.
var ErrNoFrom error = errorString("the message has no From field")

// The errors of this package name it once, where they are created
// ("verify: ..."); a wrapper of this package (a *LayerError, a *PartError,
// a *CertificateError) or a warning takes their detail, the text without
// the name, instead of cutting it off the text (issue #17 item 4).
type detailer interface{ detail() string }

// detailOf is err's text without this package's name when err is one of
// its errors, else err's text.
func detailOf(err error) string {
	if d, ok := err.(detailer); ok {
		return d.detail()
	}
	return err.Error()
}

// errorString is a sentinel error of this package.
type errorString string

func (e errorString) Error() string  { return "verify: " + string(e) }
func (e errorString) detail() string { return string(e) }

// whyError is a sentinel of this package with why it applies.
type whyError struct {
	err error // the sentinel
	why string
}

func (e *whyError) Error() string  { return e.err.Error() + ": " + e.why }
func (e *whyError) detail() string { return detailOf(e.err) + ": " + e.why }
func (e *whyError) Unwrap() error  { return e.err }

// notSigned is ErrNotSigned with why the message is not signed.
func notSigned(format string, args ...any) error {
	return &whyError{err: ErrNotSigned, why: fmt.Sprintf(format, args...)}
}

// SignatureError reports a signature that does not verify: the content
// changed after signing, or the signature is not the signer's.
type SignatureError struct {
	Signer int // index in the message's signer infos
	Err    error
}

func (e *SignatureError) Error() string { return "verify: " + e.detail() }

func (e *SignatureError) detail() string {
	switch {
	case errors.Is(e.Err, cms.ErrContentModified):
		return fmt.Sprintf("signer %d: the message was changed after it was signed (its content does not match the signed digest)", e.Signer+1)
	case errors.Is(e.Err, cms.ErrBadSignature):
		return fmt.Sprintf("signer %d: the signature is not valid for the signer's certificate", e.Signer+1)
	}
	return fmt.Sprintf("signer %d: %v", e.Signer+1, e.Err)
}

func (e *SignatureError) Unwrap() error { return e.Err }

// Is reports whether the signature failed as target says:
// [ErrContentModified] or [ErrBadSignature].
func (e *SignatureError) Is(target error) bool {
	switch target {
	case ErrContentModified:
		return errors.Is(e.Err, cms.ErrContentModified)
	case ErrBadSignature:
		return errors.Is(e.Err, cms.ErrBadSignature)
	}
	return false
}

// TrustError reports a signer certificate that is not trusted now: no
// chain to a trusted root, expired, not yet valid, or not for signing.
type TrustError struct {
	Cert   *x509.Certificate
	Reason TrustReason
	Err    error
}

// TrustReason says why a certificate is not trusted, as crypto/x509's
// InvalidReason does for its CertificateInvalidError.
type TrustReason int

// The reasons of a [TrustError]; String gives the name of each.
const (
	// Untrusted: no chain leads to one of Options.Roots ("untrusted").
	Untrusted TrustReason = iota
	// Expired: a certificate of the chain had expired ("expired").
	Expired
	// NotYetValid: a certificate of the chain was not yet valid
	// ("not-yet-valid").
	NotYetValid
	// NotAuthorized: an issuer is not a CA or may not sign certificates
	// ("not-authorized").
	NotAuthorized
	// BadCertificateSignature: a certificate's signature does not verify,
	// or uses MD5 ("bad-signature").
	BadCertificateSignature
	// IncompatibleUsage: the key usage or extended key usage does not
	// allow the purpose, such as signing mail ("usage").
	IncompatibleUsage
	// UnhandledCriticalExtension: a certificate has a critical extension
	// this package does not know ("critical-extension").
	UnhandledCriticalExtension
	// NameConstraintViolation: a certificate has a name outside the name
	// constraints of a CA above it ("name-constraint").
	NameConstraintViolation
	// TooComplex: the certificates form more candidate chains than are
	// examined ("too-complex").
	TooComplex
	// PolicyViolation: the chain breaks its certificate policy rules (RFC
	// 5280 section 6.1; "policy").
	PolicyViolation
)

var trustReasonNames = []string{"untrusted", "expired", "not-yet-valid", "not-authorized", "bad-signature", "usage",
	"critical-extension", "name-constraint", "too-complex", "policy"}

func (r TrustReason) String() string {
	if r < 0 || int(r) >= len(trustReasonNames) {
		return "TrustReason(" + strconv.Itoa(int(r)) + ")"
	}
	return trustReasonNames[r]
}

// MarshalText gives the reason's name (see String).
func (r TrustReason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// trustReason is the TrustReason of a chain failure: the two enumerations
// are kept in the same order (TestTrustReasonMatchesChain).
func trustReason(r chain.Reason) TrustReason { return TrustReason(r) }

func (e *TrustError) Error() string { return "verify: " + e.detail() }

func (e *TrustError) detail() string {
	return trustWhat(e.Reason, "the signer's certificate", "to sign mail") + ": " + chainText(e.Err)
}

// chainText is the text of err, a chain failure: a *chain.Error says
// which certificate failed and why (the verify error around it says what
// it means for the message).
func chainText(err error) string {
	if ce, ok := err.(*chain.Error); ok && ce.Cert != nil {
		return fmt.Sprintf("%s: %s", ce.Cert.Subject, ce.Detail)
	}
	return err.Error()
}

// trustWhat words a chain failure of reason r: who names the certificate
// checked ("the signer's certificate"), use what its key usage must allow
// ("to sign mail"). TrustError and CertificateError share it.
func trustWhat(r TrustReason, who, use string) string {
	switch r {
	case Untrusted:
		return who + " was issued by an untrusted source"
	case Expired:
		return "the certificate has expired"
	case NotYetValid:
		return "the certificate is not yet valid"
	case IncompatibleUsage:
		return "the certificate may not be used " + use
	case PolicyViolation:
		return "the certificate chain breaks the certificate policies its authorities set"
	case NameConstraintViolation:
		return "the certificate is outside the names its issuing authority may certify"
	case TooComplex:
		return "the certificate chain could not be checked"
	}
	return who + " is not valid"
}

func (e *TrustError) Unwrap() error { return e.Err }

// SenderError reports a sender the signatures do not vouch for (RFC 8550
// section 3): a mailbox of the From field, or the Sender field's mailbox,
// that no valid signer's certificate carries; or From and Sender fields
// that cannot be read completely (Err), such as a second From field.
type SenderError struct {
	// From is the first mailbox no valid signer's certificate carries,
	// "" when the message has no From field or Err is set.
	From string
	// Missing lists every such mailbox: From mailboxes in order, then the
	// Sender mailbox. Nil means From alone.
	Missing []string
	// Sender is the Sender field's mailbox when it is missing (and not a
	// From mailbox too).
	Sender string
	// Addresses are the addresses in the valid signers' certificates.
	Addresses []string
	// Signers is the number of valid signers; zero is taken as one.
	Signers int
	// Err, if not nil, says why the From and Sender fields could not be
	// read; for a message without a From field, errors.Is(e, ErrNoFrom).
	Err error
}

func (e *SenderError) Error() string { return "verify: " + e.detail() }

func (e *SenderError) detail() string {
	switch {
	case errors.Is(e.Err, mime.ErrNoFrom) || e.Err == nil && e.From == "" && len(e.Missing) == 0:
		return "the message has no From address to compare with the signer's certificate"
	case e.Err != nil:
		return "the sender can't be checked: " + strings.TrimPrefix(e.Err.Error(), "mime: ")
	}
	missing := e.Missing
	if len(missing) == 0 {
		missing = []string{e.From}
	}
	// At most maxListed mailboxes: the message chose them (issue #11 item 13).
	var names []string
	for i, m := range missing {
		if i == maxListed {
			names = append(names, fmt.Sprintf("and %d more", len(missing)-maxListed))
			break
		}
		if m == e.Sender {
			m += " (Sender)"
		}
		names = append(names, m)
	}
	who, is := "the sender "+names[0], "is"
	if len(missing) > 1 {
		who, is = "the senders "+strings.Join(names, ", "), "are"
	}
	whose, it := "the signer's certificate", "it is"
	if e.Signers > 1 {
		whose, it = "any signer's certificate", "they are"
	}
	addrs := e.Addresses
	if len(addrs) == 0 {
		return fmt.Sprintf("%s %s not in %s (%s for no mail address)", who, is, whose, it)
	}
	more := ""
	if len(addrs) > maxListed {
		addrs, more = addrs[:maxListed], fmt.Sprintf(" and %d more", len(addrs)-maxListed)
	}
	return fmt.Sprintf("%s %s not in %s (%s for %s%s)", who, is, whose, it, strings.Join(addrs, ", "), more)
}

// maxListed is how many mailboxes or addresses an error names.
const maxListed = 10

func (e *SenderError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNoFrom) true for a message without a From
// field.
func (e *SenderError) Is(target error) bool {
	return target == ErrNoFrom && errors.Is(e.Err, mime.ErrNoFrom)
}

// HeaderError reports an outer From field that names another sender than
// the protected one (RFC 9788 header protection): the outer header was
// rewritten after the message was protected, as an event sink or a forger
// would. Both addresses are given.
type HeaderError struct {
	Field     string
	Protected string // the mailboxes inside the protection, "" if none
	Outer     string // the mailboxes (or, unreadable, the text) in the outer header, "" if none
}

func (e *HeaderError) Error() string { return "verify: " + e.detail() }

func (e *HeaderError) detail() string {
	outer, inner := strconv.Quote(e.Outer), strconv.Quote(e.Protected)
	if e.Outer == "" {
		outer = "none"
	}
	if e.Protected == "" {
		inner = "none"
	}
	return fmt.Sprintf("the %s field was changed after the message was protected: %s inside, %s outside", e.Field, inner, outer)
}

// PolicyError reports an algorithm refused by policy.
type PolicyError struct {
	// Option is the option that would accept the algorithm
	// (OptionAllowMD5, OptionMinDigest), or "" when none would.
	Option Option
	Err    error
}

func (e *PolicyError) Error() string  { return "verify: " + e.detail() }
func (e *PolicyError) detail() string { return e.Err.Error() }
func (e *PolicyError) Unwrap() error  { return e.Err }

// DateError reports a Date header field further from a signer's signingTime
// than Options.MaxClockSkew allows, or one that can't be read (Err): a
// replayed or re-dated message (issue #15 item 9).
type DateError struct {
	Date        time.Time
	SigningTime time.Time
	Skew        time.Duration
	Err         error
}

func (e *DateError) Error() string { return "verify: " + e.detail() }

func (e *DateError) detail() string {
	if e.Err != nil {
		return fmt.Sprintf("the Date field can't be compared with the signing time %s: %v", e.SigningTime.UTC().Format(time.RFC3339), e.Err)
	}
	return fmt.Sprintf("the Date field (%s) is %s from the signing time (%s), more than %s",
		e.Date.UTC().Format(time.RFC3339), e.Date.Sub(e.SigningTime).Abs().Round(time.Second), e.SigningTime.UTC().Format(time.RFC3339), e.Skew)
}

func (e *DateError) Unwrap() error { return e.Err }
