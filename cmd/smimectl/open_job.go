package main

import (
	"context"
	"io"
	"io/fs"
	"os"

	"github.com/smimectl/smimectl/pkg/verify"
)

// contentOutput opens where verify and decrypt write what they release:
// --out through a temporary file that only commit renames into place (see
// openOutputMode), else standard output, or nowhere when --json holds
// standard output and no --out is given. A temporary file that can't be
// created is an error now, before the message is read (issue #17 item 5:
// the one copy of what verify, decrypt and decrypt --trust each did).
//
// Output that goes nowhere — --json without --out, --out naming the null
// device, or standard output that is the null device (> /dev/null) — is
// io.Discard, which tells the library that nothing needs keeping for it
// (issue #13: a 100 MB message is then not spooled).
func contentOutput(e *env, path string, json bool, perm fs.FileMode) (w io.Writer, commit func() error, abort func(), err error) {
	if isStdio(path) && (json || isNullFile(e.Stdout)) || isNullDevice(path) {
		return io.Discard, func() error { return nil }, func() {}, nil
	}
	w, commit, abort = openOutputMode(e, path, perm)
	if _, err := w.Write(nil); err != nil {
		return nil, nil, nil, err
	}
	return w, commit, abort, nil
}

// isNullDevice reports whether path names the null device (os.DevNull,
// itself or through a link): a character device, the same file as it.
func isNullDevice(path string) bool {
	if isStdio(path) {
		return false
	}
	fi, err := os.Stat(path)
	return err == nil && isNull(fi)
}

// isNullFile reports whether w is an open file (or the command's standard
// output, a stdioWriter) that is the null device.
func isNullFile(w io.Writer) bool {
	f, ok := w.(*os.File)
	if sw, isStdio := w.(*stdioWriter); isStdio {
		f, ok = sw.f, true
	}
	if !ok || f == nil {
		return false
	}
	fi, err := f.Stat()
	return err == nil && isNull(fi)
}

// isNull reports whether fi is the null device: a character device, the
// same file as os.DevNull.
func isNull(fi fs.FileInfo) bool {
	if fi.Mode()&fs.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err == nil && os.SameFile(fi, null)
}

// printWarnings writes each warning of a result as "smimectl: warning: …".
func printWarnings(w io.Writer, warnings []string) {
	for _, warning := range warnings {
		warn(w, "%s", warning)
	}
}

// openJob is one message opened with verify.Open, for verify and decrypt
// --trust: the content goes to --out (or standard output) only when every
// layer opened and every signature passed; --json prints the result.
type openJob struct {
	e     *env
	io    ioFlags
	json  bool
	eol   eolFlag
	perm  fs.FileMode // of --out
	vopts verify.Options
	caps  *capsFlags // what valid signers advertised is remembered here
	// report writes the -v lines for a result, after its warnings.
	report func(res *verify.Result)
}

// run opens the message. The result is returned with the error, for the
// caller's -v line; the content is in place only when the error is nil.
func (j *openJob) run() (*verify.Result, error) {
	e := j.e
	in, err := openInput(e, j.io.In)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	w, commit, abort, err := contentOutput(e, j.io.Out, j.json, j.perm)
	if err != nil {
		return nil, err
	}
	// Content that goes nowhere needs no line-end conversion, and the
	// input is given to the library as it is, so that a file can be read
	// again rather than spooled (see contentOutput).
	var rd io.Reader = in
	end := func() error { return nil }
	if w != io.Discard {
		rd, w, end = j.eol.apply(in, w)
	}
	res, verr := verify.Open(context.Background(), w, rd, j.vopts)
	if verr == nil {
		verr = end()
	}
	if res != nil {
		printWarnings(e.Stderr, res.Warnings)
		j.report(res)
	}
	// A fault of this machine is no result on the message: no JSON object
	// with "valid": false for it, only the error (exit 2 or 75).
	if j.json && localFault(verr) == nil {
		if err := printJSON(e.Stdout, j.io.In, res, verr, j.vopts); err != nil {
			abort()
			return res, err
		}
	}
	if verr != nil {
		abort()
		return res, verr
	}
	learnCapabilities(e, j.caps, res)
	return res, commit()
}
