package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/smimectl/smimectl/internal/batch"
	"github.com/smimectl/smimectl/internal/keys"
	"github.com/smimectl/smimectl/pkg/certsel"
	"github.com/smimectl/smimectl/pkg/directory"
	"github.com/smimectl/smimectl/pkg/encrypt"
	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// Exit statuses, as SPEC.md "Results, errors, exit codes" defines them. The same table
// renders "smimectl help exit-codes", the EXIT STATUS section of smimectl(1) and the
// README; change them here only.
const (
	// exitOK: done; for verify, every signature is valid and trusted.
	exitOK = 0
	// exitFailed: the message failed: not signed, bad signature, untrusted, expired,
	// revoked, not from the sender, cannot decrypt, malformed.
	exitFailed = 1
	// exitUsage: usage or local setup error: bad flag, unreadable key or file,
	// a missing or read-only TMPDIR or --out directory. Never 1: a fault of
	// this machine is not a verdict on the message.
	exitUsage = 2
	// exitNoCert: no usable certificate or key for the operation: nothing to sign
	// with, a recipient without a certificate.
	exitNoCert = 3
	// exitTempFail is EX_TEMPFAIL from sysexits.h, as sendmail and procmail use it: a
	// temporary failure worth retrying, such as a directory, CRL or OCSP server that
	// was unreachable where its answer was required, or a local resource that can
	// come back: a full disk or quota, too many open files, an I/O error (see
	// retryableErrnos).
	exitTempFail = 75
)

// exitStatuses lists every exit status with the text that documents it, in order,
// wrapped to fit a terminal.
var exitStatuses = []struct {
	code int
	text string
}{
	{exitOK, "done; for verify, every signature is valid and trusted"},
	{exitFailed, "the message failed: not signed, bad signature, untrusted, expired,\nrevoked, not from the sender, cannot decrypt, malformed"},
	{exitUsage, "usage or local setup error: bad flag, unknown command, unreadable\nkey or file, missing or read-only TMPDIR or output directory"},
	{exitNoCert, "no usable certificate or key for the operation: nothing to sign\nwith, a recipient without a certificate"},
	{exitTempFail, "temporary failure worth retrying (EX_TEMPFAIL): a directory, CRL\nor OCSP server was unreachable where its answer was required, or\na local disk or quota is full or failed (ENOSPC, EDQUOT, EIO)"},
}

// exitStatusTable renders exitStatuses as aligned lines with the given indent.
func exitStatusTable(indent string) string {
	var b strings.Builder
	for _, s := range exitStatuses {
		code := strconv.Itoa(s.code)
		for line := range strings.SplitSeq(s.text, "\n") {
			fmt.Fprintf(&b, "%s%-4s%s\n", indent, code, line)
			code = ""
		}
	}
	return b.String()
}

// usageError is a misuse of the command line: an unknown flag or command, a bad flag
// value, a wrong number of arguments, flags that can't be used together. It exits
// with exitUsage; the report adds its hints and, when usage is set, the usage line.
type usageError struct {
	err   error
	usage string   // the command's usage line, or ""
	hints []string // what to do instead
}

func (e *usageError) Error() string   { return e.err.Error() }
func (e *usageError) Unwrap() error   { return e.err }
func (e *usageError) Hints() []string { return usageHints(e.usage, e.hints) }

// usagef returns a *usageError with a formatted message and the given hints.
func usagef(hints []string, format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...), hints: hints}
}

// usageHints is hints followed by the usage line, if any.
func usageHints(usage string, hints []string) []string {
	if usage == "" {
		return hints
	}
	return append(append([]string(nil), hints...), "usage: "+usage)
}

// silentError carries an exit status for a command that has already printed its own
// report (for example --json results with failures): Main exits with code and prints
// nothing more.
type silentError struct{ code int }

func (e *silentError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// noCertError marks a failure to find a usable certificate or key for the operation
// (exitNoCert). The command layer wraps with it where the library's answer means
// "nothing to use", until the library has a type of its own (certsel.NoMatchError).
type noCertError struct{ err error }

func (e *noCertError) Error() string { return e.err.Error() }
func (e *noCertError) Unwrap() error { return e.err }

// setupError is a local file that exists but can't be used: a key, certificate or CRL
// file that is malformed or does not decrypt (exitUsage). Its message names the flag.
type setupError struct{ err error }

func (e *setupError) Error() string { return e.err.Error() }
func (e *setupError) Unwrap() error { return e.err }

// setupErrorf returns a *setupError with a formatted message; wrap the cause with %w.
func setupErrorf(format string, args ...any) error {
	return &setupError{err: fmt.Errorf(format, args...)}
}

// classify maps errors to exit statuses. exitCode tries each function in order and
// takes the first answer; an error none of them recognises is exitFailed.
//
// Library error types are added here, not in the libraries, which know nothing of
// exit codes (STYLE rule 1). Put the more specific types first: the first match wins.
var classify = []func(error) (int, bool){
	asCode(func(e *silentError) int { return e.code }),
	asCode(func(*usageError) int { return exitUsage }),
	asCode(func(*setupError) int { return exitUsage }),
	// A temperror verdict in filter mode with --tempfail-exit: retry later.
	asCode(func(*tempfailError) int { return exitTempFail }),
	// No revocation answer where one was required (--revocation hard): retry later.
	asCode(func(*revocation.UnavailableError) int { return exitTempFail }),
	// A fault of this machine — a missing, read-only or full TMPDIR or --out
	// directory, a failed disk — wherever the library met it, even inside
	// what it calls a malformed message: never a verdict on the message
	// (issue #11 item 15).
	localFaultCode,
	asCode(func(*noCertError) int { return exitNoCert }),
	asCode(func(*keys.TokenNotFoundError) int { return exitNoCert }),
	asCode(func(*keys.ObjectNotFoundError) int { return exitNoCert }),
	isCode(keys.ErrIncorrectPIN, exitUsage),
	isCode(keys.ErrPINLocked, exitUsage),
	// The signer's own certificate can't sign for the sender: nothing to sign with.
	asCode(func(*sign.CertificateError) int { return exitNoCert }),
	// Certificate selection: nothing qualifies (3), unless only a missing revocation
	// answer stood in the way (75); a directory that is down or slow is 75 too.
	asCode(func(e *certsel.NoMatchError) int { return tempOr(e.Temporary(), exitNoCert) }),
	asCode(func(*certsel.MissingError) int { return exitNoCert }),
	// A source that failed otherwise (a refused bind, a directory TLS
	// certificate that --ldap-ca does not verify, an unreadable file) is
	// setup: never a verdict (issue #16 item 13).
	func(err error) (int, bool) {
		var se *certsel.SourceError
		if !errors.As(err, &se) {
			return 0, false
		}
		return tempOr(se.Temporary(), exitUsage), true
	},
	// Directory maintenance (issue #14 item 5): a directory that does not
	// answer is worth retrying; a refused bind or operation, a server
	// without a naming context or that can't delete single values, is setup;
	// certificates publish refuses are not usable for the operation.
	asCode(func(*directory.UnavailableError) int { return exitTempFail }),
	asCode(func(*directory.PermissionError) int { return exitUsage }),
	asCode(func(*directory.NoSuchBaseError) int { return exitUsage }),
	isCode(directory.ErrNoNamingContext, exitUsage),
	isCode(directory.ErrNoEquality, exitUsage),
	asCode(func(*directory.RefusedError) int { return exitNoCert }),
	// A recipient certificate that can't encrypt: nothing to encrypt to.
	asCode(func(*encrypt.RecipientError) int { return exitNoCert }),
	// Verdicts on the message.
	asCode(func(*verify.MalformedError) int { return exitFailed }),
	asCode(func(*verify.AmbiguousError) int { return exitFailed }),
	asCode(func(*verify.SignatureError) int { return exitFailed }),
	asCode(func(*verify.TrustError) int { return exitFailed }),
	asCode(func(*verify.SenderError) int { return exitFailed }),
	asCode(func(*verify.HeaderError) int { return exitFailed }),
	asCode(func(*verify.PolicyError) int { return exitFailed }),
	asCode(func(*verify.DateError) int { return exitFailed }),
	asCode(func(*verify.PartialError) int { return exitFailed }),
	// cert-verify: a certificate file that holds no certificate is the verdict on it.
	asCode(func(*verify.MalformedCertificateError) int { return exitFailed }),
	asCode(func(*verify.AmbiguousCertificateError) int { return exitFailed }),
	asCode(func(*revocation.RevokedError) int { return exitFailed }),
	isCode(verify.ErrNotSigned, exitFailed),
	// An mbox message larger than a batch holds: a bound a hostile
	// sender meets, as too-complex messages are (issue #13).
	isCode(batch.ErrMessageTooLarge, exitFailed),
	isCode(verify.ErrNoKey, exitFailed),
	asCode(func(*verify.RequirementError) int { return exitFailed }),
	asCode(func(*verify.DepthError) int { return exitFailed }),
	asCode(func(*encrypt.NotForUsError) int { return exitFailed }),
	asCode(func(*encrypt.DecryptError) int { return exitFailed }),
	asCode(func(*encrypt.MalformedError) int { return exitFailed }),
	isCode(encrypt.ErrNotEncrypted, exitFailed),
	// A key that does not decrypt is local setup, as is a key file that is not a key.
	isCode(keys.ErrIncorrectPassphrase, exitUsage),
	isCode(keys.ErrPassphraseRequired, exitUsage),
}

// localFault finds a failure of this machine's file system in err: a spool
// file that could not be created, written or read (verify.SpoolError), or a
// local file (--in, --out, --key, --trust, standard output...) that could not
// be opened, read, written or renamed (*fs.PathError, *os.LinkError). It
// returns the first one found, or nil.
func localFault(err error) error {
	var se verify.SpoolError
	if errors.As(err, &se) {
		return se
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le
	}
	return nil
}

// retryableErrnos are the local failures that can go away by themselves, so
// that trying again later can succeed (exitTempFail): space or quota that is
// freed, descriptors or memory that other processes give back, an interrupted
// or would-block call, a device or network file system that is busy or timed
// out. EIO is among them: it is what NFS and failing-over storage report for a
// while, and a mail system that retries loses nothing, where one that takes the
// failure as final bounces or quarantines good mail. Every other errno (no
// such file or directory, not a directory, permission denied, read-only file
// system) needs someone to change the setup: exitUsage.
var retryableErrnos = []error{
	syscall.ENOSPC, syscall.EDQUOT, syscall.EAGAIN, syscall.EINTR,
	syscall.EMFILE, syscall.ENFILE, syscall.ENOMEM, syscall.ENOBUFS,
	syscall.EBUSY, syscall.ETIMEDOUT, syscall.EIO,
}

// retryable reports whether a local fault may go away by itself.
func retryable(err error) bool {
	for _, e := range retryableErrnos {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// localFaultCode is the classify entry for local faults: exitTempFail when
// trying again can help, else exitUsage.
func localFaultCode(err error) (int, bool) {
	f := localFault(err)
	if f == nil {
		return 0, false
	}
	return tempOr(retryable(f), exitUsage), true
}

// tempOr is exitTempFail if temporary, else code.
func tempOr(temporary bool, code int) int {
	if temporary {
		return exitTempFail
	}
	return code
}

// isCode turns a sentinel error into a classify entry that matches with errors.Is.
func isCode(target error, code int) func(error) (int, bool) {
	return func(err error) (int, bool) { return code, errors.Is(err, target) }
}

// asCode turns a function of one error type into a classify entry that matches with
// errors.As.
func asCode[E error](code func(E) int) func(error) (int, bool) {
	return func(err error) (int, bool) {
		var target E
		if errors.As(err, &target) {
			return code(target), true
		}
		return 0, false
	}
}

// exitCode returns the exit status for the error a command returned.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	for _, c := range classify {
		if code, ok := c(err); ok {
			return code
		}
	}
	return exitFailed
}
