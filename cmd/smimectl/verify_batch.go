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

	"github.com/spf13/pflag"

	"github.com/smimectl/smimectl/internal/batch"
	"github.com/smimectl/smimectl/pkg/capabilities"
	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/verify"
)

// batchFlags are the flags of a batch run (issue #13): many messages, one
// result each, in input order. verify and decrypt --trust have them all;
// inspect, which judges nothing, has --jobs, --glob and --quiet.
type batchFlags struct {
	Jobs         int    // --jobs: messages checked at once; 0 is the number of CPUs
	Glob         string // --glob: file names taken from a directory
	JUnit        string // --junit: JUnit XML report file
	Expect       string // --expect: manifest of expected outcomes
	SkipUnsigned bool   // --skip-unsigned: count unsigned messages as skipped
	Quiet        bool   // --quiet: no progress bar and no summary line

	given bool // a flag that makes a batch was given
}

// batchFlagNames are the flags that make a run a batch even of standard
// input; --quiet is not among them: it only takes output away.
var batchFlagNames = []string{"jobs", "glob", "junit", "expect", "skip-unsigned"}

// addFlags adds the batch flags to fs; verdicts adds those of commands that
// judge messages (--junit, --expect, --skip-unsigned).
func (f *batchFlags) addFlags(fs *pflag.FlagSet, verdicts bool) {
	fs.IntVar(&f.Jobs, "jobs", 0, "check up to `n` messages at once (default: the number of CPUs); results keep the input order")
	fs.StringVar(&f.Glob, "glob", "*.eml", "take the files whose name matches `pattern` from directories")
	if verdicts {
		fs.StringVar(&f.JUnit, "junit", "", "also write the results as JUnit XML to `file`, one testcase per message")
		fs.StringVar(&f.Expect, "expect", "", "read the expected outcome of each message from manifest `file`: \"PATH pass\" or \"PATH fail:REASON\" a line")
		fs.BoolVar(&f.SkipUnsigned, "skip-unsigned", false, "count messages that are not S/MIME signed as skipped, not failed")
		markFileFlag(fs, "junit", "xml")
		markFileFlag(fs, "expect", "txt")
	}
	fs.BoolVarP(&f.Quiet, "quiet", "q", false, "with several messages: no progress bar and no summary line on standard error")
}

// setGiven records whether any flag that makes a batch was given.
func (f *batchFlags) setGiven(fs *pflag.FlagSet) {
	for _, name := range batchFlagNames {
		if fs.Lookup(name) != nil && fs.Changed(name) {
			f.given = true
		}
	}
}

// isBatch reports whether a command with these arguments and flags works on
// a batch: paths named as arguments (other than a lone "-", standard input
// as before), or a flag that only a batch has.
func (f *batchFlags) isBatch(paths []string) bool {
	return len(paths) > 1 || len(paths) == 1 && paths[0] != "-" || f.given
}

// checkInArgs refuses --in with PATH arguments: one place for every
// command that takes both (issue #13 item 1).
func checkInArgs(cmd, in string, paths []string) error {
	if in != "" && len(paths) > 0 {
		return usagef([]string{fmt.Sprintf("name every message as an argument: smimectl %s [flags] PATH...", cmd)}, "--in can't be used with PATH arguments")
	}
	return nil
}

// check refuses what no batch can do and returns the paths to read: the
// arguments, or standard input.
func (f *batchFlags) check(paths []string) ([]string, error) {
	switch {
	case f.Jobs < 0:
		return nil, usagef(nil, "--jobs must be 1 or more, or 0 for the number of CPUs, not %d", f.Jobs)
	case f.JUnit == "-":
		return nil, usagef([]string{"standard output has the results already; name a file"}, "--junit needs a file name")
	case countOf(paths, "-") > 1:
		return nil, usagef(nil, "standard input (-) can be read only once")
	}
	if err := batch.CheckGlob(f.Glob); err != nil {
		return nil, usagef([]string{"--glob takes a file-name pattern such as *.eml or *.msg"}, "--glob: bad pattern %q", f.Glob)
	}
	if len(paths) == 0 {
		paths = []string{"-"}
	}
	return paths, nil
}

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

// runVerifyBatch checks every message under opts.Paths with one set of
// verify.Options shared by the workers, writing no content.
func runVerifyBatch(opts *verifyOptions) error {
	paths, err := opts.checkBatch()
	if err != nil {
		return err
	}
	vopts, err := opts.verifyOptions()
	if err != nil {
		return err
	}
	shareAcrossBatch(&vopts)
	c := &batchCommand{
		name:   "verify",
		passed: "passed",
		work:   verifyWork(vopts),
		text:   writeBatchText,
		json:   func(w io.Writer, rec *batchRecord) error { return writeBatchJSON(w, rec, vopts) },
	}
	if opts.keyFlags.URI != "" {
		c.jobs = 1 // a smart card's session is not for concurrent use
	}
	c.caps = opts.capsFlags.open(opts.env)
	return runBatch(opts.env, &opts.batchFlags, paths, opts.JSON, c)
}

// shareAcrossBatch makes vopts's workers share one answer per certificate
// for the whole run, and check each certificate signature once (issue #13,
// performance).
func shareAcrossBatch(vopts *verify.Options) {
	vopts.Revocation = revocation.Memo(vopts.Revocation, 0)
	vopts.Batch = &verify.BatchCache{}
}

// verifyWork is the work of a batch that opens each message with vopts and
// writes no content.
func verifyWork(vopts verify.Options) func(batch.Input, io.Reader) batchOutcome {
	return func(_ batch.Input, r io.Reader) batchOutcome {
		res, err := verify.Open(context.Background(), io.Discard, r, vopts)
		return batchOutcome{res: res, err: err}
	}
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
	switch {
	case opts.Out != "":
		return nil, usagef([]string{"a batch writes no content; drop --out, and use --json or --junit <file> for the results"}, "--out can't be used with several messages")
	case opts.annotating():
		return nil, usagef([]string{"--annotate filters one message at a time: run it once per message"}, "--annotate can't be used with several messages")
	case opts.Verbose:
		return nil, usagef([]string{"a batch prints one line per message; --json shows every check"}, "-v can't be used with several messages")
	}
	paths := opts.Paths
	if len(paths) == 0 && opts.In != "" {
		paths = []string{opts.In}
	}
	return opts.batchFlags.check(paths)
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
	// code is the exit status a run on this message alone would have
	// had, after the expectation (a failure it expected is 0).
	code int
}

// judge turns an outcome into the record of the message, applying the
// manifest's expectation, if any. The mapping is the one a run on one
// message uses (issue #13 item 4): exitCode for the status, reasonCode
// for the reason, describe for the text; a fault of this machine (a file
// that can't be read, a spool that fails: exit 2 or 75) is no verdict on
// the message, "error", whatever a library wrapped it in.
func (run *batchRun) judge(in batch.Input, out batchOutcome) *batchRecord {
	rec := &batchRecord{in: in, out: out, verdict: verdictPass}
	if err := out.err; err != nil {
		rec.reason = reasonCode(err)
		rec.text, _ = describe(err)
		rec.code = exitCode(err)
		switch {
		case localFault(err) != nil:
			rec.verdict, rec.reason = verdictError, string(verify.ReasonLocalFault)
		case rec.code != exitFailed && rec.code != exitTempFail:
			rec.verdict = verdictError
		default:
			rec.verdict = verdictFail
		}
	}
	if run.manifest != nil {
		rec.expected = run.manifest.Lookup(in.Path, in.MboxIndex)
	}
	switch exp := rec.expected; {
	case rec.verdict == verdictError:
	case exp == nil:
		if rec.verdict == verdictFail && run.skip && errors.Is(out.err, verify.ErrNotSigned) {
			rec.verdict, rec.code = verdictSkip, exitOK
		}
	case exp.Pass:
	case rec.verdict == verdictPass:
		rec.verdict, rec.code = verdictFail, exitFailed
		rec.text = fmt.Sprintf("passed, but --expect wants fail:%s", exp.Reason)
	case rec.reason == exp.Reason:
		rec.verdict, rec.code = verdictPass, exitOK
		rec.text = "failed as expected: " + rec.text
	default:
		rec.code = exitFailed
		rec.text = fmt.Sprintf("failed with %s, but --expect wants fail:%s: %s", rec.reason, exp.Reason, rec.text)
	}
	return rec
}

// emit writes the result of one input: its line (text or JSON), its
// warnings, its JUnit testcase; a skipped path is only a warning.
func (run *batchRun) emit(in batch.Input, out batchOutcome) {
	defer run.progress.advance(in)
	if in.Skipped != "" {
		warn(run.e.Stderr, "%q skipped: %s", in.Path, in.Skipped)
		return
	}
	rec := run.judge(in, out)
	for _, w := range out.warnings() {
		warn(run.e.Stderr, "%s: %s", batchName(in), w)
	}
	if out.err == nil {
		learnInto(run.e, run.cmd.caps, out.res)
	}
	run.write(rec)
}

// write prints rec and counts it.
func (run *batchRun) write(rec *batchRecord) {
	run.counts.add(rec)
	var err error
	if run.json {
		err = run.cmd.json(run.e.Stdout, rec)
	} else {
		err = run.cmd.text(run.e.Stdout, rec)
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
// JUnit file and, with the progress bar gone, the summary line.
func (run *batchRun) finish() error {
	if run.manifest != nil {
		for _, exp := range run.manifest.Unused() {
			run.write(&batchRecord{
				in:       batch.Input{Path: exp.Path, MboxIndex: -1},
				verdict:  verdictFail,
				text:     fmt.Sprintf("named on line %d of --expect, but not among the messages checked", exp.Line),
				expected: exp,
				code:     exitFailed,
			})
		}
	}
	run.progress.stop()
	if run.junit != nil {
		if err := run.junit.commit(&run.counts); err != nil {
			return err
		}
	}
	if !run.quiet {
		fmt.Fprintf(run.e.Stderr, "smimectl: %s\n", run.counts.summary(run.cmd.passed, run.skip))
	}
	return nil
}

// batchCounts counts the verdicts of a run.
type batchCounts struct {
	passed, failed, skipped, errors int
	code                            int // the worst exit status of a message
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
	if exitRank(rec.code) > exitRank(c.code) {
		c.code = rec.code
	}
}

// summary is the last line on standard error: "3 passed, 1 failed", with
// skipped messages when --skip-unsigned is given and errors when there
// are; passed is the word for the messages that passed.
func (c *batchCounts) summary(passed string, skip bool) string {
	s := fmt.Sprintf("%d %s, %d failed", c.passed, passed, c.failed)
	if skip {
		s += fmt.Sprintf(", %d skipped", c.skipped)
	}
	if c.errors > 0 {
		s += fmt.Sprintf(", %d not checked (error)", c.errors)
	}
	return s
}

// exitRank orders exit statuses by how much a batch's status must show
// them: a fault of this machine or the setup (2, 3) before a temporary
// failure (75: trying again can help, but not with 2's cause left), before
// a failed message (1), before success.
func exitRank(code int) int {
	switch code {
	case exitOK:
		return 0
	case exitFailed:
		return 1
	case exitTempFail:
		return 2
	}
	return 3
}

// exitError is the run's exit status, the worst of its messages': 2 if a
// message could not be read (a fault of this machine, which a CI must
// see), else 75 if a required revocation answer was missing or a
// temporary fault stopped a message (trying again can help), else 1 if any
// message failed, else 0. The results are printed already.
func (c *batchCounts) exitError() error {
	if c.code == exitOK {
		return nil
	}
	return &silentError{c.code}
}
