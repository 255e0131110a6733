package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/smimectl/smimectl/internal/batch"
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
