package main

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/smimectl/smimectl/internal/batch"
	"github.com/smimectl/smimectl/pkg/verify"
)

// batchName names an input in the text and JUnit output: its path, with
// "#N" for message N of an mbox; quoted if it holds a tab, a line end,
// another control character (C0, C1, DEL), a Unicode separator or format
// character (U+2028, a bidi override) or bytes that are not UTF-8, so that
// one message stays one line and shows as what it is.
func batchName(in batch.Input) string {
	p := in.Path
	if strings.ContainsFunc(p, notPrintable) || !utf8.ValidString(p) {
		p = strconv.Quote(p)
	}
	if in.MboxIndex >= 0 {
		p += "#" + strconv.Itoa(in.MboxIndex)
	}
	return p
}

// signerNames are the signers of res, as "Name <address>", joined by ", ".
func signerNames(res *verify.Result) string {
	if res == nil {
		return ""
	}
	var names []string
	for _, s := range res.Signers {
		names = append(names, signerLabel(s))
	}
	return strings.Join(names, ", ")
}

// writeBatchText writes rec as one line of four fields separated by tabs:
// the input, the verdict, the signers and the reason; an empty field is "-".
func writeBatchText(w io.Writer, rec *batchRecord) error {
	field := func(s string) string {
		if s = strings.TrimSpace(oneLine(s)); s == "" {
			return "-"
		}
		return s
	}
	_, err := fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", batchName(rec.in), rec.verdict, field(signerNames(rec.out.res)), field(rec.text))
	return err
}

// newBatchJSON are the fields a batch line adds to the object of one
// message (see jsonout.go): where the message is, and for commands that
// judge, the verdict.
func newBatchJSON(rec *batchRecord, judged bool) *batchJSON {
	b := &batchJSON{Out: rec.out.out}
	if rec.in.MboxIndex >= 0 {
		b.MboxIndex, b.MboxOffset = &rec.in.MboxIndex, &rec.in.MboxOffset
	}
	if judged {
		b.Verdict, b.Detail = string(rec.verdict), oneLine(rec.text)
		if rec.expected != nil {
			b.Expected = rec.expected.String()
		}
	}
	return b
}

// writeBatchJSON writes rec as one line of JSON: the object verify --json
// prints for one message (newVerifyJSON, the one helper), with the batch
// fields after "schema" and "input". An input that was not checked has an
// empty result, as verify --json prints for a message too broken to give
// one; "reason" is the record's, which an expectation met keeps.
func writeBatchJSON(w io.Writer, rec *batchRecord, vopts verify.Options) error {
	obj := newVerifyJSON(rec.in.Path, rec.out.res, rec.out.err, vopts)
	obj.batchJSON = newBatchJSON(rec, true)
	obj.Reason = rec.reason
	return encodeJSON(w, obj)
}

// JUnit XML, as Jenkins (the Surefire/Ant schema), GitLab and GitHub
// reporters read it: <testsuites> holding one <testsuite>, one <testcase>
// per message with a <failure>, <error> or <skipped> child when it did not
// pass. No time attributes: the file of a run is the same every time.
type junitCase struct {
	XMLName   xml.Name      `xml:"testcase"`
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// junitWriter writes the --junit file: the testcases go to an unnamed
// spool file as they come, so memory stays flat, and commit writes the
// counts and the testcases to the file by temporary file and rename, like
// --out.
type junitWriter struct {
	e       *env
	path    string
	command string // "verify", "decrypt": the suite's name, the class
	spool   *os.File
	buf     *bufio.Writer
	enc     *xml.Encoder
	err     error
}

func newJUnitWriter(e *env, path, command string) (*junitWriter, error) {
	spool, err := os.CreateTemp("", "smimectl-junit-*")
	if err != nil {
		return nil, err
	}
	// Unnamed from here on where the system allows: nothing to clean up.
	_ = os.Remove(spool.Name())
	jw := &junitWriter{e: e, path: path, command: command, spool: spool, buf: bufio.NewWriter(spool)}
	jw.enc = xml.NewEncoder(jw.buf)
	jw.enc.Indent("    ", "  ")
	return jw, nil
}

// add writes rec's testcase to the spool.
func (jw *junitWriter) add(rec *batchRecord) {
	tc := junitCase{Name: batchName(rec.in), Classname: "smimectl." + jw.command}
	problem := &junitProblem{Message: oneLine(rec.text), Type: rec.reason, Text: oneLine(rec.text)}
	switch rec.verdict {
	case verdictFail:
		tc.Failure = problem
	case verdictError:
		tc.Error = problem
	case verdictSkip:
		tc.Skipped = &junitSkipped{Message: oneLine(rec.text)}
	}
	if jw.err == nil {
		jw.err = jw.enc.Encode(tc)
	}
}

// commit writes the file: header with the counts, the spooled testcases,
// the closing tags.
func (jw *junitWriter) commit(c *batchCounts) error {
	if jw.err == nil {
		jw.err = jw.enc.Flush()
	}
	if jw.err == nil {
		jw.err = jw.buf.Flush()
	}
	if jw.err != nil {
		return fmt.Errorf("can't write the --junit report: %w", jw.err)
	}
	if _, err := jw.spool.Seek(0, io.SeekStart); err != nil {
		return err
	}
	w, commit, abort := openOutput(jw.e, jw.path)
	total := c.passed + c.failed + c.skipped + c.errors
	counts := fmt.Sprintf(`tests="%d" failures="%d" errors="%d" skipped="%d"`, total, c.failed, c.errors, c.skipped)
	_, err := fmt.Fprintf(w, "%s<testsuites name=\"smimectl %s\" %s>\n  <testsuite name=\"smimectl %s\" %s>\n", xml.Header, jw.command, counts, jw.command, counts)
	if err == nil {
		_, err = io.Copy(w, jw.spool)
	}
	if err == nil {
		_, err = io.WriteString(w, "\n  </testsuite>\n</testsuites>\n")
	}
	if err != nil {
		abort()
		return err
	}
	return commit()
}

// abort drops the spool; after commit it does nothing more.
func (jw *junitWriter) abort() { jw.spool.Close() }
