package main

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/smimectl/smimectl/internal/batch"
	"github.com/smimectl/smimectl/pkg/verify"
)

// batchName names an input in the text and JUnit output: its path, with
// "#N" for message N of an mbox; quoted if it holds a tab, a line end or
// another control character, so that one message stays one line.
func batchName(in batch.Input) string {
	p := in.Path
	if strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
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

// batchJSONHead are the fields a batch adds in front of each message's
// JSON object.
type batchJSONHead struct {
	Schema     int     `json:"schema"`
	Input      string  `json:"input"`
	MboxIndex  *int    `json:"mbox_index,omitempty"`
	MboxOffset *int64  `json:"mbox_offset,omitempty"`
	Verdict    verdict `json:"verdict"`
	Reason     string  `json:"reason,omitempty"`
	Expected   string  `json:"expected,omitempty"`
	Detail     string  `json:"detail,omitempty"`
}

// batchResultJSON is a message's result in a batch line: the error as
// standard error says it replaces the library's text.
type batchResultJSON struct {
	*verify.Result
	Error string `json:"error,omitempty"`
}

// writeBatchJSON writes rec as one line of JSON: the batch fields, then the
// verification result as verify --json prints it for one message. An input
// that was not checked has only "valid": false and "error" after them.
func writeBatchJSON(w io.Writer, rec *batchRecord, at time.Time) error {
	head := batchJSONHead{Schema: jsonSchemaVersion, Input: rec.in.Path, Verdict: rec.verdict, Reason: rec.reason, Detail: oneLine(rec.text)}
	if rec.in.MboxIndex >= 0 {
		head.MboxIndex, head.MboxOffset = &rec.in.MboxIndex, &rec.in.MboxOffset
	}
	if rec.expected != nil {
		head.Expected = rec.expected.String()
	}
	// The result as verify --json prints it for one message, its error as
	// standard error words it; "schema", "input" and "reason" are in head.
	var body any
	switch {
	case rec.out.res != nil:
		wordLayerErrors(rec.out.res)
		body = batchResultJSON{rec.out.res, errorText(rec.out.err)}
	default:
		// Not read, or too broken to give a result: an empty one, as
		// verify --json prints for such a message.
		body = batchResultJSON{&verify.Result{At: at.UTC(), Signers: []*verify.Signer{}}, errorText(rec.out.err)}
	}
	h, err := marshalJSON(head)
	if err != nil {
		return err
	}
	b, err := marshalJSON(body)
	if err != nil {
		return err
	}
	line := append(h[:len(h)-1], ',')
	line = append(line, b[1:]...)
	_, err = w.Write(append(line, '\n'))
	return err
}

// marshalJSON is json.Marshal without HTML escaping, as printJSON writes.
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := encodeJSON(&b, v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
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
	e     *env
	path  string
	spool *os.File
	buf   *bufio.Writer
	enc   *xml.Encoder
	err   error
}

func newJUnitWriter(e *env, path string) (*junitWriter, error) {
	spool, err := os.CreateTemp("", "smimectl-junit-*")
	if err != nil {
		return nil, err
	}
	// Unnamed from here on where the system allows: nothing to clean up.
	_ = os.Remove(spool.Name())
	jw := &junitWriter{e: e, path: path, spool: spool, buf: bufio.NewWriter(spool)}
	jw.enc = xml.NewEncoder(jw.buf)
	jw.enc.Indent("    ", "  ")
	return jw, nil
}

// add writes rec's testcase to the spool.
func (jw *junitWriter) add(rec *batchRecord) {
	tc := junitCase{Name: batchName(rec.in), Classname: "smimectl.verify"}
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
	_, err := fmt.Fprintf(w, "%s<testsuites name=\"smimectl verify\" %s>\n  <testsuite name=\"smimectl verify\" %s>\n", xml.Header, counts, counts)
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
