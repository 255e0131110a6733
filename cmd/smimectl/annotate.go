package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/spf13/pflag"

	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/pkg/verify"
)

// Filter mode (--annotate) of verify and decrypt, for procmail and Sieve (SPEC:
// "never lose a message: in filter mode any failure passes the original through
// unchanged"): the message always goes out, with an Authentication-Results field
// (RFC 8601, method smime of RFC 7281) at the top of its header, and the exit status
// is 0 whenever it was written; the verdict is in the field, and any error still goes
// to standard error. Only when nothing could be written (a bad flag, an unreadable
// key or trust file, an unreadable message, an unwritable --out) is the status
// non-zero, and then nothing is written: procmail and Sieve filters keep the original
// message when a filter fails. A fault of this machine met while reading the message
// (a full or missing TMPDIR) is such a case too: it is not a verdict on the message.

// annotateFlags are --annotate and --authserv-id, shared by verify and decrypt.
type annotateFlags struct {
	Annotate   bool   // --annotate: filter mode
	AuthServID string // --authserv-id: the authserv-id; "" is the host name
	// --tempfail-exit: a temperror verdict writes nothing and exits 75, so
	// that the mail system retries the message (issue #16 item 14)
	TempfailExit bool
	// idFlag is --authserv-id, to tell the command line from a config
	// setting (which is used only with --annotate).
	idFlag *pflag.Flag
}

func (f *annotateFlags) addFlags(fs *pflag.FlagSet, what string) {
	fs.BoolVar(&f.Annotate, "annotate", false, "filter mode: write "+what+" with an Authentication-Results field (smime) at the top, "+
		"and exit 0 whenever it was written, whatever the verdict; revocation fetches get --crl-timeout 5s and --crl-total-timeout 10s unless given")
	fs.StringVar(&f.AuthServID, "authserv-id", "", "with --annotate: the `name` of this host in Authentication-Results (default: the host name)")
	f.idFlag = fs.Lookup("authserv-id")
	fs.BoolVar(&f.TempfailExit, "tempfail-exit", false, "with --annotate: on a temporary failure (smime=temperror, such as no revocation answer), write nothing and exit 75 so that the mail system retries the message later")
}

// annotating reports whether a flag of filter mode was given on the command
// line: an authserv-id from the config file does not ask for filter mode.
func (f *annotateFlags) annotating() bool {
	if f.idFlag != nil {
		return f.Annotate || f.idFlag.Changed
	}
	return f.Annotate || f.AuthServID != ""
}

// authservID checks the filter-mode flags against --json and returns the
// authserv-id to write: --authserv-id, else the host name.
func (f *annotateFlags) authservID(e *env, json bool) (string, error) {
	switch {
	case !f.Annotate:
		return "", usagef([]string{"add --annotate to write the message with an Authentication-Results field"},
			"--authserv-id needs --annotate")
	case json:
		return "", usagef([]string{"--annotate writes the message with the verdict in a header field; --json prints the verdict alone: choose one"},
			"--annotate can't be used with --json")
	case f.AuthServID != "":
		return f.AuthServID, nil
	}
	if e.Hostname == nil {
		return "", setupErrorf("the host name is unknown")
	}
	h, err := e.Hostname()
	if err == nil && h == "" {
		err = errors.New("it is empty")
	}
	if err != nil {
		return "", withHint(setupErrorf("can't get the host name for Authentication-Results: %w", err),
			"name this host with --authserv-id")
	}
	return h, nil
}

// annotateSpoolThreshold is the memory each spool of a filter-mode run
// may hold before it moves to a temporary file (issue #13: --annotate under
// 32 MiB peak RSS at any size). A filter holds the message as received and
// each layer's content at once, and with the default 8 MiB each a large
// message had 16 MiB of chunks live when they spilled, and as much
// garbage once they had, before a GC could return it: 37-41 MiB peak. At
// 1 MiB a spilled message costs two temporary files, which the page cache
// holds as well as the heap did, and most mail (under 1 MiB) still never
// touches the disk.
const annotateSpoolThreshold = 1 << 20

// annotateJob is one filter-mode run.
type annotateJob struct {
	e          *env
	io         ioFlags
	opts       verify.Options
	authservID string
	tempfail   bool // --tempfail-exit
	// release: write the opened content (decrypt) instead of the message as
	// received (verify) when every layer opened and passed.
	release bool
	perm    fs.FileMode
	// report writes -v lines and warnings for the result.
	report func(res *verify.Result, verr error)
}

// runAnnotate reads the whole message into a spool (memory up to the spool
// threshold, then a temporary file) while verify.Open reads it, then writes the
// Authentication-Results field followed by the message as received or, for
// decrypt, the opened content. The verification error is reported on standard
// error after the message was written, and the run succeeds.
func runAnnotate(j annotateJob) error {
	if j.opts.Form == verify.FormAuto {
		// A mail filter reads mail: the message goes back out with the
		// verdict added, which a bare CMS file has no header for.
		j.opts.Form = verify.FormMIME
	}
	in, err := openInput(j.e, j.io.In)
	if err != nil {
		return err
	}
	defer in.Close()
	if j.opts.SpoolThreshold == 0 {
		j.opts.SpoolThreshold = annotateSpoolThreshold
	}
	orig := &mime.Spool{Dir: j.opts.SpoolDir, Threshold: j.opts.SpoolThreshold}
	defer orig.Close()
	content := &mime.Spool{Dir: j.opts.SpoolDir, Threshold: j.opts.SpoolThreshold}
	defer content.Close()
	var w io.Writer = io.Discard
	if j.release {
		w = content
	}
	res, verr := verify.Open(context.Background(), w, io.TeeReader(in, orig), j.opts)
	if localFault(verr) != nil {
		// A full or missing TMPDIR, a failed disk: no verdict on the
		// message can be given, so none is written (issue #11 item 15);
		// the exit status (75 or 2) tells the mail system.
		return verr
	}
	// Open stops reading at a failure: the rest of the message is kept too.
	if _, err := io.Copy(orig, in); err != nil {
		return fmt.Errorf("reading the message: %w", err)
	}
	field := verify.AuthenticationResults(j.authservID, res, verr)
	if j.tempfail && verr != nil && strings.Contains(field, "smime="+verify.AuthTempError) {
		// --tempfail-exit: nothing written, exit 75; the MTA keeps the
		// message and tries again later (issue #16 item 14).
		j.report(res, verr)
		return &tempfailError{err: verr}
	}
	j.report(res, verr)
	body := orig
	if j.release && verr == nil {
		body = content
	}
	r, err := body.Open()
	if err != nil {
		return err
	}
	out, commit, abort := openOutputMode(j.e, j.io.Out, j.perm)
	if _, err := verify.PrependAuthenticationResults(out, field, j.authservID, r); err != nil {
		abort()
		return err
	}
	if err := commit(); err != nil {
		return err
	}
	// An unsigned message (smime=none) is no error in a filter: the logs of
	// procmail and syslog show only what needs attention (issue #16 item 14).
	if verr != nil && !(res == nil && errors.Is(verr, verify.ErrNotSigned)) {
		reportError(j.e.Stderr, verr, j.e.Getenv("SMIMECTL_DEBUG") == "1")
	}
	return nil
}

// tempfailError is a temperror verdict under --tempfail-exit: exit 75,
// nothing written.
type tempfailError struct{ err error }

func (e *tempfailError) Error() string { return e.err.Error() }
func (e *tempfailError) Unwrap() error { return e.err }

// runVerifyAnnotate is verify --annotate: the message as received, with the field.
func runVerifyAnnotate(opts *verifyOptions) error {
	e := opts.env
	id, err := opts.annotateFlags.authservID(e, opts.JSON)
	if err != nil {
		return err
	}
	opts.revocationFlags.filterBudget()
	vopts, err := opts.verifyOptions()
	if err != nil {
		return err
	}
	return runAnnotate(annotateJob{e: e, io: opts.ioFlags, opts: vopts, authservID: id, tempfail: opts.TempfailExit, perm: modePublic,
		report: func(res *verify.Result, verr error) {
			if res == nil {
				return
			}
			printWarnings(e.Stderr, res.Warnings)
			if opts.Verbose && len(res.Layers) > 1 {
				reportLayers(e.Stderr, res)
			}
			if opts.Verbose && verr == nil {
				fmt.Fprintf(e.Stderr, "smimectl: verified: %s\n", summary(res))
			}
			if verr == nil {
				learnCapabilities(e, &opts.capsFlags, res)
			}
		}})
}

// runDecryptAnnotate is decrypt --annotate: the opened content when every layer
// opened and every signature passed, else the message as received; with the field
// either way. It needs --trust: the field reports signatures, so they are checked.
func runDecryptAnnotate(opts *decryptOptions) error {
	e := opts.env
	id, err := opts.annotateFlags.authservID(e, opts.JSON)
	if err != nil {
		return err
	}
	if len(opts.Trust) == 0 {
		return usagef([]string{"give the trusted roots with --trust: the Authentication-Results field reports the signatures, so they must be checked"},
			"--annotate needs --trust")
	}
	key, err := opts.keyFlags.loadIdentity(e, "")
	if err != nil {
		return err
	}
	opts.revocationFlags.filterBudget()
	vopts, err := opts.verifyFlags.options(e, opts.Verbose, false)
	if err != nil {
		return err
	}
	vopts.Decrypt = &verify.Identity{Certificate: key.Certificate, Key: key.Signer, TryAll: opts.TryAll}
	// Encrypted-only mail is decrypted and marked smime=none (--require signed refuses it).
	vopts.AllowUnsigned = true
	return runAnnotate(annotateJob{e: e, io: opts.ioFlags, opts: vopts, authservID: id, tempfail: opts.TempfailExit, release: true, perm: modePrivate,
		report: func(res *verify.Result, verr error) {
			if res == nil {
				return
			}
			printWarnings(e.Stderr, res.Warnings)
			if opts.Verbose {
				reportLayers(e.Stderr, res)
			}
			if verr == nil {
				learnCapabilities(e, &opts.capsFlags, res)
			}
		}})
}
