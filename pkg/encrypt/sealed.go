package encrypt

import (
	"errors"
	"fmt"

	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/mime"
)

// NotMailError reports input to [Decrypt] that is neither a mail message
// nor a bare CMS file (see [InputForm]). Start says in words what the input
// starts with; no input bytes are quoted. It comes inside a
// [*MalformedError].
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
	return "decrypt: the input is not a mail message: it starts with " + e.Start
}

func (e *NotMailError) Unwrap() error { return e.err }

// LimitError reports a message to [Decrypt] past a bound of reading CMS:
// 1,000 recipients, or the bytes a part of the message may take. No
// genuine message comes near them: it is a sign of a hostile message. It
// comes inside a [*MalformedError].
type LimitError struct {
	// What is what was counted ("recipients", ...).
	What string
	// Max is the bound, in items, or in bytes when Bytes is set.
	Max   int64
	Bytes bool
	err   error // the reader's error, whose words Error gives
}

func (e *LimitError) Error() string {
	if e.err != nil {
		return e.err.Error()
	}
	if e.Bytes {
		return fmt.Sprintf("decrypt: message refused: its %s take more than %d bytes", e.What, e.Max)
	}
	return fmt.Sprintf("decrypt: message refused: more than %d %s", e.Max, e.What)
}

func (e *LimitError) Unwrap() error { return e.err }

// malformed is err as a *MalformedError, with a bound of reading CMS or
// input that is not mail given this package's type inside (*LimitError,
// *NotMailError), so that callers need no internal package to tell them
// apart (issue #17 item 1). The text stays err's.
func malformed(err error) *MalformedError {
	var (
		cl *cms.LimitError
		nm *mime.NotMailError
	)
	switch {
	case errors.As(err, &cl):
		err = &LimitError{What: cl.What, Max: cl.Limit, Bytes: cl.Bytes, err: err}
	case errors.As(err, &nm):
		err = &NotMailError{Start: nm.Start, err: err}
	}
	return &MalformedError{Err: err}
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
