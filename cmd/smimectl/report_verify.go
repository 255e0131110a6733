package main

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/verify"
)

// The words of pkg/verify's errors (and the revocation errors of a signer's
// chain): what the user reads on the error line, with the hints that go with it.

func describeSignatureError(e *verify.SignatureError) (string, []string) {
	switch {
	case errors.Is(e, verify.ErrContentModified):
		return "the message was changed after it was signed", []string{
			"a mail system that re-wraps lines, changes the transfer encoding or adds a footer breaks clear signatures; opaque-sign mail that passes through one"}
	case errors.Is(e, verify.ErrBadSignature):
		return "the signature is not valid for the signer's certificate", nil
	}
	return e.Error(), nil
}

// trustWords are the words describeTrust and describeRevoked use for what was
// checked: a message's signer (verify) or a certificate on its own (cert-verify).
type trustWords struct {
	cert   string // "the signer's certificate"
	use    string // what the key usage did not allow: "to sign mail"
	source string // what the intermediates came in: "the message"
	atHint string // the hint for an expired certificate
}

var signerWords = trustWords{
	cert:   "the signer's certificate",
	use:    "to sign mail",
	source: "the message",
	atHint: "--at <time> checks the message as of another time, such as when it was received",
}

func describeTrustError(e *verify.TrustError) (string, []string) {
	return describeTrust(e, signerWords)
}

// describeTrust words a failed chain or key-usage check of w.cert.
func describeTrust(e *verify.TrustError, w trustWords) (string, []string) {
	detail := libraryDetail(e.Err)
	fault, what, when := e.Fault()
	if fault != nil {
		// "at signing time 2025-...: " when the library says when, then the
		// certificate by name rather than by its whole subject.
		detail = when + certName(fault) + " " + what
	}
	who := w.cert
	if e.Cert != nil && e.Cert.IsCA {
		who = "the certificate of the issuing authority " + certName(e.Cert)
	}
	switch e.Reason {
	case verify.Untrusted:
		if fault != nil && !fault.IsCA && !bytes.Equal(fault.RawIssuer, fault.RawSubject) {
			// The chain stopped at an end-entity certificate: its issuer was
			// nowhere, which is a missing intermediate far more often than an
			// untrusted root; "untrusted source" is kept for a chain that ends at
			// an authority --trust does not name (issue #16 item 10).
			msg := fmt.Sprintf("the chain of %s is incomplete: the issuer %s was not in %s or --intermediates",
				w.cert, issuerName(fault), w.source)
			hints := []string{"give the issuing authority's certificate with --intermediates"}
			if len(fault.IssuingCertificateURL) > 0 {
				hints = append(hints, "--fetch-intermediates downloads the issuer from "+fault.IssuingCertificateURL[0])
			}
			return msg, hints
		}
		msg := w.cert + " was issued by an untrusted source"
		if fault != nil {
			msg += fmt.Sprintf(" (%s, the issuer of %s)", issuerName(fault), certName(fault))
		}
		hints := []string{"pass the issuing root with --trust, and intermediates " + w.source + " lacks with --intermediates"}
		if fault != nil && len(fault.IssuingCertificateURL) > 0 {
			hints = append(hints, "--fetch-intermediates downloads the issuer from "+fault.IssuingCertificateURL[0])
		}
		return msg, hints
	case verify.Expired:
		return who + " has expired: " + detail, []string{w.atHint}
	case verify.NotYetValid:
		return who + " is not yet valid: " + detail, []string{
			"check the clock, or give the time to check at with --at"}
	case verify.IncompatibleUsage:
		return w.cert + " may not be used " + w.use + ": " + detail, nil
	case verify.PolicyViolation:
		return w.cert + " chain breaks the certificate policies its authorities set: " + detail, []string{
			"the issuing authorities set these rules (RFC 5280 certificate policies and policy constraints); only the issuing authority can issue a certificate that meets them",
			"cert-verify -v prints the chain that was tried"}
	case verify.NameConstraintViolation:
		return w.cert + " is outside the names its issuing authority may certify: " + detail, []string{
			"an authority's name constraints bind every certificate below it; a certificate for another name must come from another authority"}
	case verify.TooComplex:
		return w.cert + " chain could not be checked: " + detail, []string{
			"no genuine chain needs this much work: the certificates " + w.source + " carries (or --intermediates gives) look built to stall a verifier"}
	}
	return who + " is not valid: " + detail, nil
}

// issuerName names a certificate's issuer: its common name, else the whole name.
func issuerName(c *x509.Certificate) string {
	if c.Issuer.CommonName != "" {
		return fmt.Sprintf("%q", c.Issuer.CommonName)
	}
	return fmt.Sprintf("%q", c.Issuer.String())
}

func describeSenderError(e *verify.SenderError) (string, []string) {
	hints := []string{"--sender-check warn accepts the message with a warning, for lists and gateways that rewrite From"}
	if e.Err != nil && !errors.Is(e, verify.ErrNoFrom) {
		hints = []string{"every mailbox of the one From field (and the Sender) must be in a valid signer's certificate; a From that can't be read completely can't be checked"}
	}
	return e.Error(), hints
}

func describeHeaderError(e *verify.HeaderError) (string, []string) {
	return e.Error(), []string{"the signed or encrypted header names another sender than the outer one: treat the outer From as forged; --sender-check warn accepts the message with a warning"}
}

func describeRevokedError(e *revocation.RevokedError) (string, []string) {
	return describeRevoked(e, signerWords)
}

// describeRevoked words a revoked certificate of w.cert's chain.
func describeRevoked(e *revocation.RevokedError, w trustWords) (string, []string) {
	who := w.cert
	if e.Cert != nil && e.Cert.IsCA {
		who = "the certificate of the issuing authority " + certName(e.Cert)
	}
	return fmt.Sprintf("%s was revoked on %s (%s)", who, e.At.UTC().Format(time.RFC3339), revocation.ReasonString(e.Reason)), nil
}

func describeUnavailableError(e *revocation.UnavailableError) (string, []string) {
	return fmt.Sprintf("no revocation information for %s: %s", certName(e.Cert), libraryDetail(e.Err)), []string{
		"try again later, give the CRL with --crl, or accept the message with a warning with --revocation soft"}
}

// describeCMSLimitError words a message past a bound of reading CMS; a bound
// of the MIME walk is left to describeMalformedError.
func describeCMSLimitError(err error) (string, []string, bool) {
	var e *verify.LimitError
	if !errors.As(err, &e) || !e.CMS() {
		return "", nil, false
	}
	what := fmt.Sprintf("more than %d %s", e.Max, e.What)
	if e.Bytes {
		what = fmt.Sprintf("its %s take more than %d bytes", e.What, e.Max)
	}
	return "the message is refused: " + what, []string{
		"smimectl reads at most 64 signers, 1000 certificates, 1000 CRLs and 1000 recipients per message (see \"Limits\" in the README)"}, true
}

// describeNotMailError words input that is neither mail nor a bare CMS file
// (issue #15 item 1) by what it starts with, never by its bytes: verify's
// NotMailError is encrypt's, so this serves decrypt too.
func describeNotMailError(e *verify.NotMailError) (string, []string) {
	return describeNotMail(e.Start)
}

// describeNotMail words input that starts with start.
func describeNotMail(start string) (string, []string) {
	msg := "the input is not a mail message: it starts with " + start
	switch {
	case start == "binary data":
		return msg, []string{"is it a DER .p7m or .p7s file? use --inform der (a mail message starts with header fields such as From)"}
	case strings.HasPrefix(start, "base64"):
		return msg, []string{"is it a base64 .p7m whose first bytes were lost? use --inform pem to read it as CMS anyway"}
	case strings.HasPrefix(start, "a PEM"):
		return msg, []string{"give a CMS file (BEGIN CMS or BEGIN PKCS7) or a mail message"}
	}
	return msg, []string{"a mail message starts with header fields such as From; a body without them can't be checked on its own (for a detached signature over a file, use --content)"}
}

func describeMalformedError(e *verify.MalformedError) (string, []string) {
	detail := libraryDetail(e.Err)
	if errors.Is(e, verify.ErrDetachedSignature) {
		// A detached signature given on its own (issue #15 item 2).
		return "the message is not well-formed S/MIME: " + detail, []string{"is it a detached signature (.p7s)? check it over the signed file with --content FILE"}
	}
	return "the message is not well-formed S/MIME: " + detail, nil
}

func describeAmbiguousError(e *verify.AmbiguousError) (string, []string) {
	return "the message has an ambiguous MIME structure: " + strings.TrimPrefix(libraryDetail(e), "ambiguous MIME structure: "),
		[]string{"a mail client could show other text than the signed part, so the signature is not trusted; ask the sender to send it again"}
}

func describePolicyError(e *verify.PolicyError) (string, []string) {
	return e.Error(), nil
}

func describeDateError(e *verify.DateError) (string, []string) {
	return e.Error(), []string{"a message replayed or re-dated after it was signed shows another date than the one signed; " +
		"--max-clock-skew sets the tolerance, and without --strict-date it is a warning"}
}

func describeUnsignedParts(e *verify.PartialError) (string, []string) {
	return e.Error(), []string{
		"a mail client shows the unsigned parts beside the signed one, and no signature vouches for them; " +
			"a mailing list's footer or a forwarder's text looks like this",
		"--allow-unsigned-parts accepts the message; --json lists which part each signature covers"}
}

func describeNotSigned(err error) (string, []string, bool) {
	if !errors.Is(err, verify.ErrNotSigned) {
		return "", nil, false
	}
	return err.Error(), []string{"verify reads multipart/signed and application/pkcs7-mime signed-data messages"}, true
}
