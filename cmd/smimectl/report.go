package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
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
// reads; the first match wins, and an error none recognises prints as err.Error().
// Library types get their sentence here, next to their exit status in classify
// (for example *verify.TrustError -> "the signer's certificate was issued by an
// untrusted source").
var describers = []func(error) (string, bool){
	describePathError,
}

// describePathError words a bare file-system error (one no caller added context to)
// as "can't open "msg.eml": no such file or directory".
func describePathError(err error) (string, bool) {
	var pe *fs.PathError
	if !errors.As(err, &pe) || err.Error() != pe.Error() {
		return "", false
	}
	return fmt.Sprintf("can't %s %q: %v", pe.Op, pe.Path, pe.Err), true
}

// describe returns the message for err.
func describe(err error) string {
	for _, d := range describers {
		if msg, ok := d(err); ok {
			return msg
		}
	}
	return err.Error()
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
	writeLines(w, errorPrefix, describe(err))
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

// writeLines writes msg with prefix on every non-empty line, without final periods.
func writeLines(w io.Writer, prefix, msg string) {
	for line := range strings.SplitSeq(msg, "\n") {
		line = strings.TrimRight(line, " \t\r.")
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
