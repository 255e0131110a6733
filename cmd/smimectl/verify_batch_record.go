package main

// The result of each message of a batch, the order they are written in, and
// the summary and exit status of the run.

import (
	"errors"
	"fmt"

	"github.com/smimectl/smimectl/internal/batch"
	"github.com/smimectl/smimectl/pkg/verify"
)

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
