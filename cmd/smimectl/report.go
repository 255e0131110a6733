package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"slices"
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

func (e *errorWithHint) Error() string { return e.err.Error() }

func (e *errorWithHint) Unwrap() error { return e.err }

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
