package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/smimectl/smimectl/internal/batch"
	"github.com/smimectl/smimectl/pkg/certsel"
	"github.com/smimectl/smimectl/pkg/directory"
	"github.com/smimectl/smimectl/pkg/encrypt"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// Classification: which describer words an error (the describers table, first
// match wins), local faults, and the reason code of --json.

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
	describeCMSLimitError,
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
	case verify.SpoolError:
		return f.Error(), spoolHints(f), true
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

// describe returns the message for err and the hints that go with it. The
// package names of the library's errors ("verify: ...") in a describer's
// message are dropped here, once for every describer (issue #17 item 4):
// they are noise to someone reading smimectl's errors (see
// dropPackagePrefixes).
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
			return dropPackagePrefixes(msg), hints
		}
	}
	return err.Error(), nil
}

// reasonCode is the reason code of err (see verify.Reasons), as the JSON
// objects and batch records carry it.
func reasonCode(err error) string { return string(reasonOf(err)) }

// reasonOf is the reason code of err: the library's, or for the errors
// only the command layer meets, the code that says why.
func reasonOf(err error) verify.Reason {
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
