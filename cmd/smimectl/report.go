package main

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/smimectl/smimectl/internal/batch"
	"github.com/smimectl/smimectl/internal/chain"
	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/kem"
	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/pkg/certsel"
	"github.com/smimectl/smimectl/pkg/directory"
	"github.com/smimectl/smimectl/pkg/encrypt"
	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// The stderr grammar (STYLE rule 4): one "error" line per failure, then zero or more
// "hint" lines saying what to do, and "warning" lines for soft failures. Lowercase, no
// final period, flags named as --flag, file names %q-quoted. Secrets never appear.
const (
	errorPrefix   = "smimectl: error: "
	hintPrefix    = "smimectl: hint: "
	warningPrefix = "smimectl: warning: "
	debugPrefix   = "smimectl: debug: "
)

// errorWithHint is an error with what the user can do about it. Its Error is the
// wrapped error's, so it adds no words to the message; reportError prints the hints on
// lines of their own.
type errorWithHint struct {
	err   error
	hints []string
}

func (e *errorWithHint) Error() string   { return e.err.Error() }
func (e *errorWithHint) Unwrap() error   { return e.err }
func (e *errorWithHint) Hints() []string { return e.hints }

// withHint returns err with hints attached, or nil if err is nil.
func withHint(err error, hints ...string) error {
	if err == nil {
		return nil
	}
	return &errorWithHint{err: err, hints: hints}
}

// hinter is implemented by errors that carry hints: *errorWithHint and *usageError.
type hinter interface{ Hints() []string }

// describers turn errors the command layer recognises into the sentence the user
// reads, in the words of the guide's troubleshooting chapter, with hints saying what
// to do; the first match wins, and an error none recognises prints as err.Error().
// Library types get their sentence here, next to their exit status in classify.
var describers = []func(error) (string, []string, bool){
	describeAs(describeTokenNotFound),
	describeAs(describeObjectNotFound),
	describeTokenPIN,
	describeLocalFault,
	describeAs(describeRequirementError),
	describeAs(describeDepthError),
	describeNoKey,
	describeAs(describeCertificateError),
	describeAs(describeSignatureError),
	describeAs(describeCertCheckError),
	describeAs(describeMalformedCertificateError),
	describeAs(describeAmbiguousCertificateError),
	describeAs(describeTrustError),
	describeAs(describeSenderError),
	describeAs(describeHeaderError),
	describeAs(describeRevokedError),
	describeAs(describeUnavailableError),
	describeAs(describeCMSLimitError),
	describeAs(describeAmbiguousError),
	describeAs(describeNotMailError),
	describeAs(describeMalformedError),
	describeAs(describePolicyError),
	describeAs(describeDateError),
	describeAs(describeUnsignedParts),
	describeNotSigned,
	describeMessageTooLarge,
	describeAs(describeMissingError),
	describeAs(describeLimitError),
	describeAs(describeNoMatchError),
	describeAs(describeSourceError),
	describeAs(describePartialError),
	describeAs(describeDirectoryUnavailable),
	describeAs(describeDirectoryPermission),
	describeNoNamingContext,
	describeAs(describeNoSuchBase),
	describeNoEquality,
	describeTooLarge,
	describeAs(describeRefusedError),
	describeAs(describeRecipientError),
	describeAs(describeNotForUsError),
	describeAs(describeDecryptError),
	describeAs(describeEncryptMalformedError),
	describeNotEncrypted,
}

func describeRecipientError(e *encrypt.RecipientError) (string, []string) {
	return fmt.Sprintf("the certificate of recipient %s can't be used for encryption: %s", certName(e.Cert), libraryDetail(e.Err)),
		[]string{"give the recipient's encryption certificate (keyEncipherment or keyAgreement, valid now)"}
}

func describeNotForUsError(e *encrypt.NotForUsError) (string, []string) {
	return "this message can't be decrypted: none of its recipients matches your certificate (" + e.Summary() + ")",
		[]string{"decrypt with the key of one of these certificates, or try your key on every recipient with --try-all"}
}

func describeDecryptError(e *encrypt.DecryptError) (string, []string) {
	const msg = "this message can't be decrypted: the key does not fit, or the message was modified in transit"
	if errors.Is(e, cms.ErrKEMUnwrap) {
		// ML-KEM decapsulation never fails (implicit rejection): the wrong
		// key or the change shows only at the key-unwrap check after it.
		return msg, []string{"the ML-KEM recipient entry names your certificate, but its content key does not unwrap with your key: " +
			"the entry was changed in transit or made for another key (ML-KEM accepts any ciphertext, only the AES key-wrap check after it can tell); " +
			"ask the sender to encrypt again"}
	}
	return msg, nil
}

func describeEncryptMalformedError(e *encrypt.MalformedError) (string, []string) {
	return "the message is not well-formed S/MIME: " + libraryDetail(e.Err), nil
}

func describeNotEncrypted(err error) (string, []string, bool) {
	if !errors.Is(err, encrypt.ErrNotEncrypted) {
		return "", nil, false
	}
	return libraryDetail(err), []string{"decrypt reads application/pkcs7-mime enveloped-data and authEnveloped-data messages"}, true
}

// describeAs turns a describer of one error type into a describers entry that
// matches with errors.As.
func describeAs[E error](d func(E) (string, []string)) func(error) (string, []string, bool) {
	return func(err error) (string, []string, bool) {
		var target E
		if !errors.As(err, &target) {
			return "", nil, false
		}
		msg, hints := d(target)
		return msg, hints, true
	}
}

// libraryDetail is a library error's text without its package prefix.
func libraryDetail(err error) string {
	return dropPackagePrefixes(err.Error())
}

// packagePrefixes are the names this module's packages start their errors with
// ("keys: ..."): Go convention, but noise to someone reading smimectl's
// errors (issue #16 item 10).
var packagePrefixes = []string{"sign", "encrypt", "decrypt", "verify", "certsel", "revocation", "chain",
	"cms", "keys", "mime", "kem", "mldsa", "capabilities", "directory", "certinfo", "lab"}

// dropPackagePrefixes also drops a part that repeats a path (repeatsPath).
//
// dropPackagePrefixes removes the package names of packagePrefixes where one
// starts msg or one of its ": "-separated parts ("--pkcs11: keys: bad URI"
// becomes "--pkcs11: bad URI"). A word that ends a phrase ("can't sign: ...")
// is not a whole part and stays. "revocation" is also the name of a flag, which
// config errors put after the file ("config file "x": revocation: ..."), so it
// goes only from the start.
func dropPackagePrefixes(msg string) string {
	parts := strings.Split(msg, ": ")
	kept := parts[:0]
	for i, p := range parts {
		if i < len(parts)-1 && slices.Contains(packagePrefixes, p) && (i == 0 || p != "revocation") {
			continue
		}
		if i < len(parts)-1 && repeatsPath(strings.Join(kept, ": "), p) {
			continue
		}
		kept = append(kept, p)
	}
	return strings.Join(kept, ": ")
}

// repeatsPath reports whether part only names again, as "reading PATH" or
// "fetching URL", a file or URL that the message before it already names
// ("can't use --key "a.key" with --cert "a.crt": reading "a.crt": ...").
func repeatsPath(before, part string) bool {
	for _, verb := range []string{"reading ", "fetching ", "opening "} {
		if what, ok := strings.CutPrefix(part, verb); ok && what != "" && !strings.Contains(what, " ") {
			return strings.Contains(before, what)
		}
	}
	return false
}

// certName names a certificate for a message: its common name, else its subject.
func certName(c *x509.Certificate) string {
	if c == nil {
		return "the certificate"
	}
	if c.Subject.CommonName != "" {
		return fmt.Sprintf("%q", c.Subject.CommonName)
	}
	return fmt.Sprintf("%q", c.Subject.String())
}

func describeCertificateError(e *sign.CertificateError) (string, []string) {
	who := e.Address
	if who == "" {
		who = "this message"
	}
	msg := fmt.Sprintf("no certificate with a private key can sign for %s: %s", who, libraryDetail(e.Err))
	if errors.Is(e.Err, kem.ErrCannotSign) {
		// --force can't help: the key itself cannot sign.
		return msg, []string{"an ML-KEM key only decrypts: give a signing certificate for the sender with --key and --cert, or --p12"}
	}
	return msg, []string{"give a signing certificate for the sender with --key and --cert, or --p12; --force signs anyway"}
}

func describeSignatureError(e *verify.SignatureError) (string, []string) {
	switch {
	case errors.Is(e.Err, cms.ErrContentModified):
		return "the message was changed after it was signed", []string{
			"a mail system that re-wraps lines, changes the transfer encoding or adds a footer breaks clear signatures; opaque-sign mail that passes through one"}
	case errors.Is(e.Err, cms.ErrBadSignature):
		return "the signature is not valid for the signer's certificate", nil
	}
	return libraryDetail(e), nil
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
	var ce *chain.Error
	if errors.As(e.Err, &ce) && ce.Cert != nil {
		// "at signing time 2025-...: " when the library says when, then the
		// certificate by name rather than by its whole subject.
		when, _ := strings.CutSuffix(e.Err.Error(), ce.Error())
		detail = when + certName(ce.Cert) + " " + ce.Detail
	}
	who := w.cert
	if e.Cert != nil && e.Cert.IsCA {
		who = "the certificate of the issuing authority " + certName(e.Cert)
	}
	switch e.Reason {
	case chain.Untrusted:
		if ce != nil && ce.Cert != nil && !ce.Cert.IsCA && !bytes.Equal(ce.Cert.RawIssuer, ce.Cert.RawSubject) {
			// The chain stopped at an end-entity certificate: its issuer was
			// nowhere, which is a missing intermediate far more often than an
			// untrusted root; "untrusted source" is kept for a chain that ends at
			// an authority --trust does not name (issue #16 item 10).
			msg := fmt.Sprintf("the chain of %s is incomplete: the issuer %s was not in %s or --intermediates",
				w.cert, issuerName(ce.Cert), w.source)
			hints := []string{"give the issuing authority's certificate with --intermediates"}
			if len(ce.Cert.IssuingCertificateURL) > 0 {
				hints = append(hints, "--fetch-intermediates downloads the issuer from "+ce.Cert.IssuingCertificateURL[0])
			}
			return msg, hints
		}
		msg := w.cert + " was issued by an untrusted source"
		if ce != nil && ce.Cert != nil {
			msg += fmt.Sprintf(" (%s, the issuer of %s)", issuerName(ce.Cert), certName(ce.Cert))
		}
		hints := []string{"pass the issuing root with --trust, and intermediates " + w.source + " lacks with --intermediates"}
		if ce != nil && ce.Cert != nil && len(ce.Cert.IssuingCertificateURL) > 0 {
			hints = append(hints, "--fetch-intermediates downloads the issuer from "+ce.Cert.IssuingCertificateURL[0])
		}
		return msg, hints
	case chain.Expired:
		return who + " has expired: " + detail, []string{w.atHint}
	case chain.NotYetValid:
		return who + " is not yet valid: " + detail, []string{
			"check the clock, or give the time to check at with --at"}
	case chain.Usage:
		return w.cert + " may not be used " + w.use + ": " + detail, nil
	case chain.Policy:
		return w.cert + " chain breaks the certificate policies its authorities set: " + detail, []string{
			"the issuing authorities set these rules (RFC 5280 certificate policies and policy constraints); only the issuing authority can issue a certificate that meets them",
			"cert-verify -v prints the chain that was tried"}
	case chain.NameConstraint:
		return w.cert + " is outside the names its issuing authority may certify: " + detail, []string{
			"an authority's name constraints bind every certificate below it; a certificate for another name must come from another authority"}
	case chain.TooComplex:
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
	if e.Err != nil && !errors.Is(e.Err, mime.ErrNoFrom) {
		hints = []string{"every mailbox of the one From field (and the Sender) must be in a valid signer's certificate; a From that can't be read completely can't be checked"}
	}
	return libraryDetail(e), hints
}

func describeHeaderError(e *verify.HeaderError) (string, []string) {
	return libraryDetail(e), []string{"the signed or encrypted header names another sender than the outer one: treat the outer From as forged; --sender-check warn accepts the message with a warning"}
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

func describeCMSLimitError(e *cms.LimitError) (string, []string) {
	return "the message is refused: " + strings.TrimPrefix(libraryDetail(e), "message refused: "), []string{
		"smimectl reads at most 64 signers, 1000 certificates, 1000 CRLs and 1000 recipients per message (see \"Limits\" in the README)"}
}

// describeNotMailError words input that is neither mail nor a bare CMS file
// (issue #15 item 1) by what it starts with, never by its bytes.
func describeNotMailError(e *verify.NotMailError) (string, []string) {
	msg := "the input is not a mail message: it starts with " + e.Start
	switch {
	case e.Start == "binary data":
		return msg, []string{"is it a DER .p7m or .p7s file? use --inform der (a mail message starts with header fields such as From)"}
	case strings.HasPrefix(e.Start, "base64"):
		return msg, []string{"is it a base64 .p7m whose first bytes were lost? use --inform pem to read it as CMS anyway"}
	case strings.HasPrefix(e.Start, "a PEM"):
		return msg, []string{"give a CMS file (BEGIN CMS or BEGIN PKCS7) or a mail message"}
	}
	return msg, []string{"a mail message starts with header fields such as From; a body without them can't be checked on its own (for a detached signature over a file, use --content)"}
}

func describeMalformedError(e *verify.MalformedError) (string, []string) {
	detail := libraryDetail(e.Err)
	if strings.Contains(detail, "signed layer without content") || strings.Contains(detail, "signed message without content") {
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
	return libraryDetail(e), nil
}

func describeDateError(e *verify.DateError) (string, []string) {
	return libraryDetail(e), []string{"a message replayed or re-dated after it was signed shows another date than the one signed; " +
		"--max-clock-skew sets the tolerance, and without --strict-date it is a warning"}
}

func describeUnsignedParts(e *verify.PartialError) (string, []string) {
	return libraryDetail(e), []string{
		"a mail client shows the unsigned parts beside the signed one, and no signature vouches for them; " +
			"a mailing list's footer or a forwarder's text looks like this",
		"--allow-unsigned-parts accepts the message; --json lists which part each signature covers"}
}

func describeNotSigned(err error) (string, []string, bool) {
	if !errors.Is(err, verify.ErrNotSigned) {
		return "", nil, false
	}
	return libraryDetail(err), []string{"verify reads multipart/signed and application/pkcs7-mime signed-data messages"}, true
}

// describeMessageTooLarge words an mbox message larger than a batch holds
// in memory (internal/batch's Options.MaxMboxMessage).
func describeMessageTooLarge(err error) (string, []string, bool) {
	if !errors.Is(err, batch.ErrMessageTooLarge) {
		return "", nil, false
	}
	return fmt.Sprintf("the message is larger than the %d MiB a batch reads from an mbox: not checked", batch.DefaultMaxMboxMessage>>20),
		[]string{"save it to a file of its own and name that file: a file is read as a stream, whatever its size"}, true
}

// describeLocalFault words a fault of this machine (see localFault) as what
// could not be done with which file, "can't open "msg.eml": no such file or
// directory", with what to do, when it is bare, a temporary file's, or inside
// what a library called a bad message (the message was not judged). A file
// error a caller has put in context ("can't read --trust "x.pem": ...") is
// left to the other describers.
func describeLocalFault(err error) (string, []string, bool) {
	var setup *setupError
	f := localFault(err)
	if f == nil || errors.As(err, &setup) {
		return "", nil, false
	}
	var msg string
	stdio := false
	switch f := f.(type) {
	case *mime.SpoolError:
		return libraryDetail(f), spoolHints(f), true
	case *fs.PathError:
		msg = fmt.Sprintf("can't %s %q: %v", f.Op, f.Path, f.Err)
		if stream, ok := stdioNames[f.Path]; ok {
			// os.Stdout's name: whatever the context, say which stream.
			op := f.Op
			if op == "write" {
				op = "write to"
			}
			msg, stdio = fmt.Sprintf("can't %s %s: %v", op, stream, f.Err), true
		}
	case *os.LinkError:
		msg = fmt.Sprintf("can't %s %q to %q: %v", f.Op, f.Old, f.New, f.Err)
	}
	var hints []string
	if errors.Is(f, syscall.ENOSPC) || errors.Is(f, syscall.EDQUOT) {
		hints = append(hints, "the disk or quota is full: make room, then try again")
	} else if retryable(f) {
		hints = append(hints, "a fault of this machine, not of the message: try again later")
	}
	if err.Error() == f.Error() || stdio || isMessageError(err) {
		// A bare error, or one a library wrapped as a verdict on the
		// message: the file and the cause say it all.
		return msg, hints, true
	}
	// In context ("can't search missing.pem: ..."): the other describers
	// word it.
	return "", nil, false
}

// stdioNames are the names os.Stdout and os.Stderr give in errors.
var stdioNames = map[string]string{"/dev/stdout": "standard output", "/dev/stderr": "standard error"}

// isMessageError reports whether err carries a verdict on the message, which a
// local fault inside it must not be worded as.
func isMessageError(err error) bool {
	var (
		vm *verify.MalformedError
		em *encrypt.MalformedError
		de *encrypt.DecryptError
	)
	return errors.As(err, &vm) || errors.As(err, &em) || errors.As(err, &de)
}

// spoolHints says what to do about a temporary file that failed: the message
// was not judged, and TMPDIR needs room or another directory.
func spoolHints(e *mime.SpoolError) []string {
	const notMessage = "this is a fault of this machine, not of the message, which was not judged"
	switch {
	case errors.Is(e, syscall.ENOSPC) || errors.Is(e, syscall.EDQUOT):
		return []string{notMessage, fmt.Sprintf("make room in %q, or set TMPDIR to a directory with more space, then try again", e.Dir)}
	case retryable(e):
		return []string{notMessage, "try again later; if it persists, check the disk that holds " + strconv.Quote(e.Dir)}
	}
	return []string{notMessage, "set TMPDIR to an existing directory that smimectl can write to"}
}

// describe returns the message for err and the hints that go with it.
func describe(err error) (string, []string) {
	// A layered message's failure names its layer, then says what failed.
	var le *verify.LayerError
	if errors.As(err, &le) {
		msg, hints := describe(le.Err)
		return fmt.Sprintf("layer %d (%s): %s", le.Depth, le.Kind, msg), hints
	}
	// So does a wrapped message's failure its part (issue #15 item 5).
	var pe *verify.PartError
	if errors.As(err, &pe) {
		msg, hints := describe(pe.Err)
		return fmt.Sprintf("part %s: %s", pe.Section, msg), hints
	}
	// cert-match --explain printed the reasons: no hint to print them.
	var ex *explainedError
	if errors.As(err, &ex) {
		msg, _ := describe(ex.err)
		return msg, nil
	}
	for _, d := range describers {
		if msg, hints, ok := d(err); ok {
			return msg, hints
		}
	}
	return err.Error(), nil
}

// reportError writes err to w in the stderr grammar: the error line, the hints of
// every error in the chain, and, if debug is set (SMIMECTL_DEBUG=1), the full wrapped
// chain with each error's type. A *silentError prints nothing: its command has
// already reported.
func reportError(w io.Writer, err error, debug bool) {
	var silent *silentError
	if err == nil || errors.As(err, &silent) {
		return
	}
	msg, hints := describe(err)
	writeLines(w, errorPrefix, dropPackagePrefixes(msg))
	for _, hint := range hints {
		writeLines(w, hintPrefix, hint)
	}
	walkErrors(err, func(e error) {
		if h, ok := e.(hinter); ok {
			for _, hint := range h.Hints() {
				writeLines(w, hintPrefix, hint)
			}
		}
	})
	if debug {
		walkErrors(err, func(e error) {
			writeLines(w, debugPrefix, fmt.Sprintf("%T: %s", e, e.Error()))
		})
	}
}

// warn writes a warning line to w, for soft failures that do not change the exit
// status (a CRL unreachable in soft mode, SHA-1 accepted).
func warn(w io.Writer, format string, args ...any) {
	writeLines(w, warningPrefix, fmt.Sprintf(format, args...))
}

// writeLines writes msg with prefix on every non-empty line, without final
// periods. Messages quote what senders chose (names in certificates,
// header fields): any control character left in a line (CR, ESC, C1, a
// bidi override) is escaped, so that no line can redraw the prefix of
// another or pass for one this program wrote.
func writeLines(w io.Writer, prefix, msg string) {
	for line := range strings.SplitSeq(msg, "\n") {
		line = escapeControls(strings.TrimRight(line, " \t\r."), true)
		if line != "" {
			fmt.Fprintf(w, "%s%s\n", prefix, line)
		}
	}
}

// walkErrors calls f for err and every error it wraps, depth first, following both
// Unwrap() error and Unwrap() []error.
func walkErrors(err error, f func(error)) {
	if err == nil {
		return
	}
	f(err)
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		walkErrors(u.Unwrap(), f)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			walkErrors(e, f)
		}
	}
}

func describeNoMatchError(e *certsel.NoMatchError) (string, []string) {
	what, purpose := "encryption certificate", "encrypt"
	if e.Purpose == certsel.PurposeSign {
		what, purpose = "signing certificate", "sign"
	}
	msg := fmt.Sprintf("no %s found for %s", what, e.Address)
	if len(e.Candidates) > 0 {
		msg = fmt.Sprintf("no usable %s for %s: %s", what, e.Address, e.Summary())
	}
	return msg, []string{fmt.Sprintf("see why with smimectl cert-match %s --purpose %s --certs <source> --explain", e.Address, purpose)}
}

// describeMissingError names every recipient without a usable encryption
// certificate on the error line, and why for each on a hint line.
func describeMissingError(e *certsel.MissingError) (string, []string) {
	addrs := make([]string, len(e.Missing))
	var hints []string
	for i, nm := range e.Missing {
		addrs[i] = nm.Address
		hints = append(hints, nm.Address+": "+whyMissing(nm))
	}
	return "no encryption certificate for " + strings.Join(addrs, ", "), append(hints,
		"give each recipient's certificate with --recipient-cert, or look addresses up in --certs; --allow-missing encrypts for the others",
		"see why with smimectl cert-match <address> --purpose encrypt --certs <source> --explain")
}

func describeLimitError(e *certsel.LimitError) (string, []string) {
	return fmt.Sprintf("%d recipients exceed the limit of %d", e.Count, e.Limit),
		[]string{"send to fewer recipients at once, or raise the limit with --max-recipients"}
}

// whyMissing says in a few words why no certificate qualified for an address:
// what was wrong with each certificate that carries it, leaving out the many
// that are for other addresses.
func whyMissing(nm *certsel.NoMatchError) string {
	var why []string
	for _, c := range nm.Candidates {
		if c.Rule != certsel.Address && c.Rule != certsel.Duplicate {
			why = append(why, fmt.Sprintf("%s from %s: %s", holder(c.Cert), c.Origin, c.Detail))
		}
	}
	switch {
	case len(why) > 0:
		return strings.Join(why, "; ")
	case len(nm.Candidates) > 0:
		return fmt.Sprintf("none of the %d certificates found carries the address", len(nm.Candidates))
	}
	return "no certificate found"
}

func describeSourceError(e *certsel.SourceError) (string, []string) {
	msg := fmt.Sprintf("can't search %s: %s", e.Source, libraryDetail(e.Err))
	if e.Temporary() {
		return msg, []string{"the directory may be down or slow; try again later, or raise --lookup-timeout"}
	}
	return msg, nil
}

// errorText is the error line reportError writes for err, without its
// prefix: the "error" of every --json object, so that a script reads what a
// person reads on standard error (issue #13 item 6). "" for nil.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	msg, _ := describe(err)
	var lines []string
	for line := range strings.SplitSeq(msg, "\n") {
		if line = strings.TrimRight(line, " \t\r."); line != "" {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, "\n")
}

// reasonCode is the reason code of err (see verify.Reasons): the library's,
// or for the errors only the command layer meets, the code that says why.
func reasonCode(err error) string {
	var (
		noMatch *certsel.NoMatchError
		missing *certsel.MissingError
		signer  *sign.CertificateError
		recip   *encrypt.RecipientError
		source  *certsel.SourceError
		noCert  *noCertError
	)
	switch {
	case err == nil:
		return ""
	case localFault(err) != nil:
		return verify.ReasonLocalFault
	case errors.Is(err, batch.ErrMessageTooLarge):
		return verify.ReasonTooComplex
	case errors.As(err, &source), errors.As(err, new(*directory.UnavailableError)):
		return verify.ReasonLookupFailed
	case errors.As(err, &signer), errors.As(err, &noMatch), errors.As(err, &missing), errors.As(err, &recip),
		errors.As(err, &noCert):
		if code := verify.ReasonCode(err); code != verify.ReasonOther {
			// A signer's own certificate that is expired, revoked...
			return code
		}
		return verify.ReasonNoCertificate
	}
	return verify.ReasonCode(err)
}
