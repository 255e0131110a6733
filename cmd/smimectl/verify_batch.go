package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/smimectl/smimectl/internal/batch"
	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/verify"
)

// batchFlags are the flags of a batch run of verify (issue #13): many
// messages, one line of result each, no content written.
type batchFlags struct {
	Jobs         int    // --jobs: messages checked at once; 0 is the number of CPUs
	Glob         string // --glob: file names taken from a directory
	JUnit        string // --junit: JUnit XML report file
	Expect       string // --expect: manifest of expected outcomes
	SkipUnsigned bool   // --skip-unsigned: count unsigned messages as skipped

	given bool // a flag of the group was given
}

var batchFlagNames = []string{"jobs", "glob", "junit", "expect", "skip-unsigned"}

func (f *batchFlags) addFlags(fs *pflag.FlagSet) {
	fs.IntVar(&f.Jobs, "jobs", 0, "check up to `n` messages at once (default: the number of CPUs); results keep the input order")
	fs.StringVar(&f.Glob, "glob", "*.eml", "take the files whose name matches `pattern` from directories")
	fs.StringVar(&f.JUnit, "junit", "", "also write the results as JUnit XML to `file`, one testcase per message")
	fs.StringVar(&f.Expect, "expect", "", "read the expected outcome of each message from manifest `file`: \"PATH pass\" or \"PATH fail:REASON\" a line")
	fs.BoolVar(&f.SkipUnsigned, "skip-unsigned", false, "count messages that are not S/MIME signed as skipped, not failed")
	markFileFlag(fs, "junit", "xml")
	markFileFlag(fs, "expect", "txt")
}

// setGiven records whether any flag of the group was given.
func (f *batchFlags) setGiven(fs *pflag.FlagSet) {
	for _, name := range batchFlagNames {
		if fs.Changed(name) {
			f.given = true
		}
	}
}

// batchMode reports whether verify checks a batch: paths named as
// arguments (other than a lone "-", standard input as before), or a flag
// that only a batch has.
func (opts *verifyOptions) batchMode() bool {
	return len(opts.Paths) > 1 || len(opts.Paths) == 1 && opts.Paths[0] != "-" || opts.batchFlags.given
}

// batchRun is the state of one batch run, shared by the emit calls, which
// come one at a time in input order.
type batchRun struct {
	e        *env
	json     bool
	skip     bool
	at       time.Time // the evaluation time, for the JSON of a message too broken to check
	manifest *batch.Manifest
	junit    *junitWriter
	counts   batchCounts
	err      error // the first error writing standard output
}

// batchOutcome is what verifying one input gave.
type batchOutcome struct {
	res *verify.Result
	err error
}

// runVerifyBatch checks every message under opts.Paths with one set of
// verify.Options shared by the workers, and prints one result a message in
// input order, the summary on standard error, and the JUnit file.
func runVerifyBatch(opts *verifyOptions) error {
	e := opts.env
	paths, err := opts.checkBatch()
	if err != nil {
		return err
	}
	run := &batchRun{e: e, json: opts.JSON, skip: opts.SkipUnsigned}
	if opts.Expect != "" {
		if run.manifest, err = readManifest(opts.Expect); err != nil {
			return err
		}
	}
	vopts, err := opts.verifyOptions()
	if err != nil {
		return err
	}
	run.at = vopts.Now()
	// One answer per certificate for the whole run, shared by the workers,
	// and each certificate signature checked once (issue #13, performance).
	vopts.Revocation = revocation.Memo(vopts.Revocation, 0)
	vopts.Batch = &verify.BatchCache{}
	if opts.JUnit != "" {
		if run.junit, err = newJUnitWriter(e, opts.JUnit); err != nil {
			return err
		}
		defer run.junit.abort()
	}
	jobs := opts.Jobs
	if jobs == 0 {
		jobs = runtime.NumCPU()
	}
	if opts.keyFlags.URI != "" {
		jobs = 1 // a smart card's session is not for concurrent use
	}
	defer batchGC(e)()
	inputs := batch.Inputs(paths, batch.Options{Glob: opts.Glob})
	batch.Run(jobs, 4*jobs+16, inputs, func(in batch.Input) batchOutcome {
		return verifyInput(e, in, vopts)
	}, run.emit)
	if err := run.finish(); err != nil {
		return err
	}
	if run.err != nil {
		return run.err
	}
	if c := run.counts; c.passed+c.failed+c.skipped+c.errors == 0 {
		// A CI job whose fixtures went missing must not pass.
		return usagef([]string{fmt.Sprintf("directories give only the files matching --glob %q; name other files as arguments or change --glob", opts.Glob)},
			"no message found in %s", strings.Join(quoteAll(paths), ", "))
	}
	return run.counts.exitError()
}

// batchGC sets the garbage collector for a batch and returns the function
// that sets it back. A batch keeps little alive (the trust material, a
// window of results) and makes garbage per message: at Go's default GOGC
// of 100 the collector ran every few dozen messages and took a quarter of
// the CPU of verifying 10,000 small ones. GOGC 300 takes that down by a
// quarter for 46 MiB peak RSS instead of 25 (issue #13: under 64 MiB), and
// a 48 MiB soft memory limit keeps a batch of large messages from growing
// past it. GOGC or GOMEMLIMIT in the environment are left to rule.
func batchGC(e *env) (restore func()) {
	if e.Getenv("GOGC") != "" || e.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	pct := debug.SetGCPercent(300)
	limit := debug.SetMemoryLimit(48 << 20)
	return func() {
		debug.SetGCPercent(pct)
		debug.SetMemoryLimit(limit)
	}
}

// checkBatch refuses the flags that make no sense for many messages and
// returns the paths to check.
func (opts *verifyOptions) checkBatch() ([]string, error) {
	paths := opts.Paths
	switch {
	case opts.In != "" && len(paths) > 0:
		return nil, usagef([]string{"name every message as an argument: smimectl verify [flags] PATH..."}, "--in can't be used with PATH arguments")
	case opts.Out != "":
		return nil, usagef([]string{"a batch writes no content; drop --out, and use --json or --junit <file> for the results"}, "--out can't be used with several messages")
	case opts.annotating():
		return nil, usagef([]string{"--annotate filters one message at a time: run it once per message"}, "--annotate can't be used with several messages")
	case opts.Verbose:
		return nil, usagef([]string{"a batch prints one line per message; --json shows every check"}, "-v can't be used with several messages")
	case opts.Jobs < 0:
		return nil, usagef(nil, "--jobs must be 1 or more, or 0 for the number of CPUs, not %d", opts.Jobs)
	case opts.JUnit == "-":
		return nil, usagef([]string{"standard output has the results already; name a file"}, "--junit needs a file name")
	case countOf(paths, "-") > 1:
		return nil, usagef(nil, "standard input (-) can be read only once")
	}
	if err := batch.CheckGlob(opts.Glob); err != nil {
		return nil, usagef([]string{"--glob takes a file-name pattern such as *.eml or *.msg"}, "--glob: bad pattern %q", opts.Glob)
	}
	if len(paths) == 0 {
		paths = []string{"-"}
		if opts.In != "" {
			paths = []string{opts.In}
		}
	}
	return paths, nil
}

func quoteAll(s []string) []string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = strconv.Quote(v)
	}
	return q
}

func countOf(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
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
		codes[r.Code] = true
	}
	known := func(code string) bool { return codes[code] }
	m, err := batch.ParseManifest(f, filepath.Dir(path), known)
	if err != nil {
		return nil, usagef([]string{"a line is \"PATH pass\" or \"PATH fail:REASON\"; docs/json.md lists the reason codes"}, "--expect %q: %w", path, err)
	}
	return m, nil
}

// verifyInput checks one input. It writes nothing out: a batch releases no
// content.
func verifyInput(e *env, in batch.Input, vopts verify.Options) batchOutcome {
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
		f, err := os.Open(in.Path)
		if err != nil {
			return batchOutcome{err: err}
		}
		defer f.Close()
		if r, err = smallFile(f); err != nil {
			return batchOutcome{err: err}
		}
	}
	res, err := verify.Open(context.Background(), io.Discard, r, vopts)
	return batchOutcome{res: res, err: err}
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

// verdict is the outcome of one message in a batch.
type verdict string

const (
	verdictPass  verdict = "pass"
	verdictFail  verdict = "fail"
	verdictSkip  verdict = "skip"
	verdictError verdict = "error" // a fault of this machine: the message was not judged
)

// batchRecord is one message's line of results.
type batchRecord struct {
	in       batch.Input
	out      batchOutcome
	verdict  verdict
	reason   string // reason code, "" when it passed
	text     string // why it failed, or how it met its expectation
	expected *batch.Expectation
	tempFail bool // a required revocation answer could not be had
}

// judge turns an outcome into the record of the message, applying the
// manifest's expectation, if any.
func (run *batchRun) judge(in batch.Input, out batchOutcome) *batchRecord {
	rec := &batchRecord{in: in, out: out, verdict: verdictPass}
	if out.err != nil {
		rec.reason = verify.ReasonCode(out.err)
		rec.text, _ = describe(out.err)
		switch code := exitCode(out.err); {
		case in.Err != nil || code == exitUsage:
			rec.verdict, rec.reason = verdictError, verify.ReasonLocalFault
		default:
			rec.verdict = verdictFail
			rec.tempFail = code == exitTempFail
		}
	}
	if run.manifest != nil {
		rec.expected = run.manifest.Lookup(in.Path, in.MboxIndex)
	}
	switch exp := rec.expected; {
	case rec.verdict == verdictError:
	case exp == nil:
		if rec.verdict == verdictFail && run.skip && errors.Is(out.err, verify.ErrNotSigned) {
			rec.verdict = verdictSkip
		}
	case exp.Pass:
	case rec.verdict == verdictPass:
		rec.verdict = verdictFail
		rec.text = fmt.Sprintf("passed, but --expect wants fail:%s", exp.Reason)
	case rec.reason == exp.Reason:
		rec.verdict, rec.tempFail = verdictPass, false
		rec.text = "failed as expected: " + rec.text
	default:
		rec.text = fmt.Sprintf("failed with %s, but --expect wants fail:%s: %s", rec.reason, exp.Reason, rec.text)
	}
	return rec
}

// emit writes the result of one input: its line (text or JSON), its
// warnings, its JUnit testcase; a skipped path is only a warning.
func (run *batchRun) emit(in batch.Input, out batchOutcome) {
	if in.Skipped != "" {
		warn(run.e.Stderr, "%q skipped: %s", in.Path, in.Skipped)
		return
	}
	rec := run.judge(in, out)
	if out.res != nil {
		for _, w := range out.res.Warnings {
			warn(run.e.Stderr, "%s: %s", batchName(in), w)
		}
	}
	run.write(rec)
}

// write prints rec and counts it.
func (run *batchRun) write(rec *batchRecord) {
	run.counts.add(rec)
	var err error
	if run.json {
		err = writeBatchJSON(run.e.Stdout, rec, run.at)
	} else {
		err = writeBatchText(run.e.Stdout, rec)
	}
	if run.err == nil {
		run.err = err
	}
	if run.junit != nil {
		run.junit.add(rec)
	}
}

// finish reports the manifest's fixtures that were not found, as failures
// (a negative fixture that went missing must not pass unseen), writes the
// JUnit file and the summary line.
func (run *batchRun) finish() error {
	if run.manifest != nil {
		for _, exp := range run.manifest.Unused() {
			run.write(&batchRecord{
				in:       batch.Input{Path: exp.Path, MboxIndex: -1},
				verdict:  verdictFail,
				text:     fmt.Sprintf("named on line %d of --expect, but not among the messages checked", exp.Line),
				expected: exp,
			})
		}
	}
	if run.junit != nil {
		if err := run.junit.commit(&run.counts); err != nil {
			return err
		}
	}
	fmt.Fprintf(run.e.Stderr, "smimectl: %s\n", run.counts.summary(run.skip))
	return nil
}

// batchCounts counts the verdicts of a run.
type batchCounts struct {
	passed, failed, skipped, errors, tempFailed int
}

func (c *batchCounts) add(rec *batchRecord) {
	switch rec.verdict {
	case verdictPass:
		c.passed++
	case verdictFail:
		c.failed++
	case verdictSkip:
		c.skipped++
	case verdictError:
		c.errors++
	}
	if rec.tempFail {
		c.tempFailed++
	}
}

// summary is the last line on standard error: "3 passed, 1 failed", with
// skipped messages when --skip-unsigned is given and errors when there are.
func (c *batchCounts) summary(skip bool) string {
	s := fmt.Sprintf("%d passed, %d failed", c.passed, c.failed)
	if skip {
		s += fmt.Sprintf(", %d skipped", c.skipped)
	}
	if c.errors > 0 {
		s += fmt.Sprintf(", %d not checked (error)", c.errors)
	}
	return s
}

// exitError is the run's exit status: 2 if a message could not be read
// (a fault of this machine, which a CI must see), else 75 if a required
// revocation answer was missing (trying again can help), else 1 if any
// message failed, else 0. The results are printed already.
func (c *batchCounts) exitError() error {
	switch {
	case c.errors > 0:
		return &silentError{exitUsage}
	case c.tempFailed > 0:
		return &silentError{exitTempFail}
	case c.failed > 0:
		return &silentError{exitFailed}
	}
	return nil
}
