package encrypt

import (
	"errors"
	"fmt"
	"io"

	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/mime"
)

// NotMailError reports input that is neither a mail message nor a bare CMS
// file (see [OpenInput]). Start says in words what the input starts with;
// no input bytes are quoted. It comes inside the [*MalformedError] of
// [Decrypt], and inside pkg/verify's MalformedError, which names it
// NotMailError too.
type NotMailError struct {
	// Start is "binary data", "text that is not a header field",
	// "base64 that is not a CMS message" or "a PEM <LABEL> block, not a
	// CMS message".
	Start string
	err   error
}

func (e *NotMailError) Error() string {
	if e.err != nil {
		return e.err.Error()
	}
	return "the input is not a mail message: it starts with " + e.Start
}

func (e *NotMailError) Unwrap() error { return e.err }

// LimitError reports a message past a processing bound: a bound of
// reading CMS (64 signers; 1,000 certificates, CRLs or recipients; the
// bytes they may take), or, from pkg/verify, one of its walk of the MIME
// structure (its MaxParts, MaxPartDepth and MaxSignedParts). No genuine
// message comes near them: it is a sign of a hostile message. It comes
// inside the [*MalformedError] of [Decrypt], and inside pkg/verify's
// MalformedError, which names it LimitError too.
type LimitError struct {
	// What is what was counted ("parts in a multipart entity",
	// "recipients", ...).
	What string
	// Max is the bound, in items, or in bytes when Bytes is set.
	Max   int64
	Bytes bool
	// Err is the reader's error, whose words Error gives, or nil.
	Err error
}

func (e *LimitError) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	if e.Bytes {
		return fmt.Sprintf("its %s take more than %d bytes", e.What, e.Max)
	}
	return fmt.Sprintf("more than %d %s", e.Max, e.What)
}

func (e *LimitError) Unwrap() error { return e.Err }

// CMS reports whether the bound is one of reading CMS (the bounds a caller
// can list, such as the README's "Limits"), rather than one of the MIME
// structure.
func (e *LimitError) CMS() bool {
	var cl *cms.LimitError
	return errors.As(e.Err, &cl)
}

// malformed is err as a *MalformedError, with a bound of reading CMS as a
// *LimitError inside, so that callers need no internal package to tell it
// apart (issue #17 item 1). The text stays err's.
func malformed(err error) *MalformedError {
	var cl *cms.LimitError
	if errors.As(err, &cl) {
		err = &LimitError{What: cl.What, Max: cl.Limit, Bytes: cl.Bytes, Err: err}
	}
	return &MalformedError{Err: err}
}

// OpenInput returns a reader of the input r as a MIME entity, and the form
// it found (see [InputForm]): a mail message as it is; a bare CMS file
// (DER, PEM or bare base64) as an application/pkcs7-mime entity that
// carries it, with no other header field (no From, no Subject). With
// FormAuto the first bytes decide; input that is neither mail nor CMS (a
// PEM block of another kind, base64 of something else, binary data) is a
// [*NotMailError], and so is input forced as FormMIME whose first line is
// not a header field. A forced DER or PEM form is not checked here: what
// is not CMS fails when the CMS is read. [Decrypt] and pkg/verify read
// their input through it.
func OpenInput(r io.Reader, form InputForm) (io.Reader, InputForm, error) {
	mr, f, err := mime.OpenInput(r, mime.Form(form))
	var nm *mime.NotMailError
	if errors.As(err, &nm) {
		err = &NotMailError{Start: nm.Start, err: err}
	}
	return mr, InputForm(f), err
}

// SpoolError is the error of a temporary file that could not be created,
// written or read while content was spooled (DecryptOptions.SpoolDir, and
// pkg/verify's Options.SpoolDir, whose SpoolError is this type): a fault
// of this machine, not of the message, which was not judged. Like
// net.Error it is an interface: errors.As finds it in an error of
// [Decrypt] or of pkg/verify (var se encrypt.SpoolError; errors.As(err,
// &se)), errors.Is finds its cause (syscall.ENOSPC for a full disk,
// fs.ErrNotExist for a directory that is gone), and Unwrap gives that
// cause. Trying again can help when the cause is temporary.
type SpoolError interface {
	error
	Unwrap() error
	// SpoolDir is the directory of the temporary file.
	SpoolDir() string
}
