package main

// runBatch: the run every batch command (verify, decrypt, inspect) shares.

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/smimectl/smimectl/internal/batch"
	"github.com/smimectl/smimectl/pkg/capabilities"
	"github.com/smimectl/smimectl/pkg/verify"
)

// batchCommand is what one command does with each message of a batch; the
// rest (inputs, order, verdicts, counts, JUnit, --expect, progress, exit
// status) is the same for every command (runBatch).
type batchCommand struct {
	name string // "verify", "decrypt", "inspect": JUnit's suite and class
	// work reads the message of in from r.
	work func(in batch.Input, r io.Reader) batchOutcome
	// text and json write one message's result on standard output.
	text, json func(w io.Writer, rec *batchRecord) error
	// passed names the messages that passed in the summary line:
	// "passed", or "inspected" for inspect, which judges nothing.
	passed string
	// jobs, if not 0, is the most messages at once (a smart card: 1).
	jobs int
	// skipDirs are not walked (decrypt --out-dir).
	skipDirs []string
	// caps, if not nil, remembers what the valid signers of each message
	// that passed advertised (verify, decrypt --trust).
	caps *capabilities.Store
}

// batchRun is the state of one batch run, shared by the emit calls, which
// come one at a time in input order.
type batchRun struct {
	e        *env // its Stdout and Stderr clear the progress bar first
	cmd      *batchCommand
	json     bool
	skip     bool
	quiet    bool
	manifest *batch.Manifest
	junit    *junitWriter
	progress *progressBar // nil: none
	counts   batchCounts
	err      error // the first error writing standard output
}

// batchOutcome is what working on one input gave.
type batchOutcome struct {
	res *verify.Result     // verify, decrypt
	ins *verify.Inspection // inspect
	out string             // decrypt --out-dir: the file written
	err error
}

// warnings are the outcome's warnings, for standard error.
func (o batchOutcome) warnings() []string {
	if o.res == nil {
		return nil
	}
	return o.res.Warnings
}

// runBatch works on every message under paths with c, in parallel, and
// prints one result a message in input order, the summary on standard
// error, and the JUnit file. The exit status is that of the worst message,
// as a run on it alone would have exited (see batchCounts.exitError).
func runBatch(e *env, f *batchFlags, paths []string, jsonOut bool, c *batchCommand) error {
	run := &batchRun{e: e, cmd: c, json: jsonOut, skip: f.SkipUnsigned, quiet: f.Quiet}
	var err error
	if f.Expect != "" {
		if run.manifest, err = readManifest(f.Expect); err != nil {
			return err
		}
	}
	if f.JUnit != "" {
		if run.junit, err = newJUnitWriter(e, f.JUnit, c.name); err != nil {
			return err
		}
		defer run.junit.abort()
	}
	jobs := f.Jobs
	if jobs == 0 {
		jobs = runtime.NumCPU()
	}
	if c.jobs > 0 {
		jobs = min(jobs, c.jobs)
	}
	opts := batch.Options{Glob: f.Glob, SkipDirs: c.skipDirs}
	if !f.Quiet {
		run.progress = newProgressBar(e, paths, opts)
		if run.progress != nil {
			defer run.progress.stop()
			run.e = run.progress.env(e)
		}
	}
	// The messages of an mbox are held in memory from the walk to their
	// line: at most batch.DefaultMaxHeld bytes of them at once, whatever
	// their size and --jobs (a hostile mbox of large messages).
	defer batchGC(e)()
	held := batch.NewBudget(0)
	batch.Run(jobs, 4*jobs+16, held.Inputs(batch.Inputs(paths, opts)), func(in batch.Input) batchOutcome {
		return workOn(e, in, c.work)
	}, func(in batch.Input, out batchOutcome) {
		defer held.Release(in)
		run.emit(in, out)
	})
	if err := run.finish(); err != nil {
		return err
	}
	if run.err != nil {
		return run.err
	}
	if c := run.counts; c.passed+c.failed+c.skipped+c.errors == 0 {
		// A CI job whose fixtures went missing must not pass.
		return usagef([]string{fmt.Sprintf("directories give only the files matching --glob %q; name other files as arguments or change --glob", f.Glob)},
			"no message found in %s", strings.Join(quoteAll(paths), ", "))
	}
	return run.counts.exitError()
}

// workOn opens one input and hands it to work; an input that is no
// message (unreadable, skipped) is its error.
func workOn(e *env, in batch.Input, work func(batch.Input, io.Reader) batchOutcome) batchOutcome {
	if in.Err != nil || in.Skipped != "" {
		return batchOutcome{err: in.Err}
	}
	var r io.Reader
	switch {
	case in.Data != nil:
		r = bytes.NewReader(in.Data)
	case in.Path == "-":
		r = e.Stdin
	default:
		f, err := batch.Open(in.Path)
		if err != nil {
			return batchOutcome{err: err}
		}
		defer f.Close()
		if r, err = smallFile(f); err != nil {
			return batchOutcome{err: err}
		}
	}
	return work(in, r)
}

// readManifest reads the --expect file; its PATHs are also read relative
// to its directory.
func readManifest(path string) (*batch.Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("can't read --expect %q: %w", path, err)
	}
	defer f.Close()
	codes := map[string]bool{}
	for _, r := range verify.Reasons() {
		codes[string(r.Code)] = true
	}
	known := func(code string) bool { return codes[code] }
	m, err := batch.ParseManifest(f, filepath.Dir(path), known)
	if err != nil {
		return nil, usagef([]string{"a line is \"PATH pass\" or \"PATH fail:REASON\"; docs/json.md lists the reason codes"}, "--expect %q: %w", path, err)
	}
	return m, nil
}

// maxSmallFile is the size up to which a batch reads a message file
// whole before verifying it.
const maxSmallFile = 256 << 10

// smallFile returns a reader of f: its bytes in memory if it is a regular
// file of at most maxSmallFile bytes, so that the library sizes its
// buffers to the message (a few kilobytes, not 64 KiB each, for the
// typical message of a batch); else f.
func smallFile(f *os.File) (io.Reader, error) {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > maxSmallFile {
		return f, nil
	}
	buf := make([]byte, fi.Size()+1)
	n, err := io.ReadFull(f, buf)
	switch {
	case err == io.ErrUnexpectedEOF || err == io.EOF:
		return bytes.NewReader(buf[:n]), nil
	case err != nil:
		return nil, err
	}
	// The file grew since Stat: read on from where this stopped.
	return io.MultiReader(bytes.NewReader(buf[:n]), f), nil
}
