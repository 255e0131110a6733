package main

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/smimectl/smimectl/internal/batch"
	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/verify"
)

// junitSchema is every element the --junit report may hold, with the
// attributes each may carry and the elements it may contain: the subset of
// the Surefire/Ant schema (Jenkins' junit plugin, GitLab and GitHub test
// reporters read the same) that the report uses. Checked by hand against
// https://maven.apache.org/surefire/maven-surefire-plugin/xsd/surefire-test-report.xsd:
// testsuite needs name and tests; testcase needs name; failure and error
// take message and type and text; skipped takes message.
var junitSchema = map[string]struct {
	attrs    []string
	required []string
	children []string
	text     bool
}{
	"testsuites": {attrs: []string{"name", "tests", "failures", "errors", "skipped"}, required: []string{"tests", "failures", "errors"}, children: []string{"testsuite"}},
	"testsuite":  {attrs: []string{"name", "tests", "failures", "errors", "skipped"}, required: []string{"name", "tests", "failures", "errors", "skipped"}, children: []string{"testcase"}},
	"testcase":   {attrs: []string{"name", "classname"}, required: []string{"name", "classname"}, children: []string{"failure", "error", "skipped"}},
	"failure":    {attrs: []string{"message", "type"}, required: []string{"message", "type"}, text: true},
	"error":      {attrs: []string{"message", "type"}, required: []string{"message", "type"}, text: true},
	"skipped":    {attrs: []string{"message"}, required: []string{"message"}},
}

// Issue #13 item 3: the --junit report holds only the elements and
// attributes CI systems read, in the places they read them, its counts
// agree with its testcases, and hostile file names (markup, control
// characters) keep it well-formed.
func TestJUnitStructure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.xml")
	jw, err := newJUnitWriter(&env{Stdout: io.Discard, Stderr: io.Discard}, path, "verify")
	if err != nil {
		t.Fatal(err)
	}
	defer jw.abort()
	recs := []*batchRecord{
		{in: batch.Input{Path: "ok.eml", MboxIndex: -1}, verdict: verdictPass},
		{in: batch.Input{Path: `a<b>&"c".eml`, MboxIndex: -1}, verdict: verdictFail, reason: "content-modified", text: "changed <b>&</b>"},
		{in: batch.Input{Path: "box", MboxIndex: 2}, verdict: verdictError, reason: "local-fault", text: "can't read\x00\x1b[31m"},
		{in: batch.Input{Path: "line\nbreak.eml", MboxIndex: -1}, verdict: verdictSkip, reason: "not-signed", text: "not signed"},
		{in: batch.Input{Path: "expected.eml", MboxIndex: -1}, verdict: verdictPass, reason: "untrusted", text: "failed as expected: untrusted"},
	}
	var c batchCounts
	for _, r := range recs {
		c.add(r)
		jw.add(r)
	}
	if err := jw.commit(&c); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	type elem struct {
		name  string
		attrs map[string]string
		kids  map[string]int
	}
	var stack []*elem
	var names []string
	var failures, errs, skipped, cases int
	dec := xml.NewDecoder(strings.NewReader(string(data)))
	dec.Strict = true
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, data)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			name := tok.Name.Local
			spec, ok := junitSchema[name]
			if !ok || tok.Name.Space != "" {
				t.Fatalf("element <%s> is not in the schema", name)
			}
			if len(stack) == 0 && name != "testsuites" {
				t.Fatalf("root is <%s>, want <testsuites>", name)
			}
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				if !slices.Contains(junitSchema[parent.name].children, name) {
					t.Fatalf("<%s> inside <%s>", name, parent.name)
				}
				parent.kids[name]++
			}
			e := &elem{name: name, attrs: map[string]string{}, kids: map[string]int{}}
			for _, a := range tok.Attr {
				if !slices.Contains(spec.attrs, a.Name.Local) || a.Name.Space != "" {
					t.Errorf("<%s> has attribute %q, not in the schema", name, a.Name.Local)
				}
				e.attrs[a.Name.Local] = a.Value
			}
			for _, r := range spec.required {
				if _, ok := e.attrs[r]; !ok {
					t.Errorf("<%s> lacks required attribute %q", name, r)
				}
			}
			switch name {
			case "testcase":
				cases++
				names = append(names, e.attrs["name"])
			case "failure":
				failures++
			case "error":
				errs++
			case "skipped":
				skipped++
			}
			stack = append(stack, e)
		case xml.EndElement:
			e := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if e.name == "testcase" && e.kids["failure"]+e.kids["error"]+e.kids["skipped"] > 1 {
				t.Errorf("testcase %q has more than one outcome", e.attrs["name"])
			}
			if e.name == "testsuites" || e.name == "testsuite" {
				for attr, want := range map[string]int{"tests": cases, "failures": failures, "errors": errs, "skipped": skipped} {
					if got := e.attrs[attr]; got != strconv.Itoa(want) {
						t.Errorf("<%s %s=%q>, want %d", e.name, attr, got, want)
					}
				}
			}
		case xml.CharData:
			if len(stack) > 0 && !junitSchema[stack[len(stack)-1].name].text && strings.TrimSpace(string(tok)) != "" {
				t.Errorf("text %q inside <%s>", tok, stack[len(stack)-1].name)
			}
		}
	}
	want := []string{"ok.eml", `a<b>&"c".eml`, "box#2", `"line\nbreak.eml"`, "expected.eml"}
	if !slices.Equal(names, want) {
		t.Errorf("testcase names %q, want %q", names, want)
	}
	if failures != 1 || errs != 1 || skipped != 1 || cases != 5 {
		t.Errorf("got %d cases, %d failures, %d errors, %d skipped; want 5, 1, 1, 1", cases, failures, errs, skipped)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the directory holds %d files, want only report.xml", len(entries))
	}
}

// Issue #13 item 4: a batch judges each message by the mapping a run on it
// alone uses (exitCode, reasonCode): a fault of this machine is "error"
// with reason local-fault and its own status (2, or 75 for a full disk),
// even inside what a library called a malformed message; a missing
// revocation answer is a failure with 75; an mbox message too large to
// hold is too-complex, a failure (1), not a fault of this machine.
func TestBatchJudge(t *testing.T) {
	full := &mime.SpoolError{Op: "write", Dir: "/tmp", Err: &fs.PathError{Op: "write", Path: "/tmp", Err: syscall.ENOSPC}}
	missing := &mime.SpoolError{Op: "create", Dir: "/gone", Err: &fs.PathError{Op: "open", Path: "/gone", Err: syscall.ENOENT}}
	tests := []struct {
		name    string
		in      batch.Input
		err     error
		skip    bool
		verdict verdict
		reason  string
		code    int
	}{
		{"passed", batch.Input{}, nil, false, verdictPass, "", exitOK},
		{"TMPDIR full", batch.Input{}, full, false, verdictError, "local-fault", exitTempFail},
		{"TMPDIR missing", batch.Input{}, missing, false, verdictError, "local-fault", exitUsage},
		{"spool fault inside a malformed message", batch.Input{}, &verify.MalformedError{Err: full}, false, verdictError, "local-fault", exitTempFail},
		{"unreadable file", batch.Input{Err: &fs.PathError{Op: "open", Path: "x.eml", Err: syscall.EACCES}}, &fs.PathError{Op: "open", Path: "x.eml", Err: syscall.EACCES}, false, verdictError, "local-fault", exitUsage},
		{"no revocation answer", batch.Input{}, &revocation.UnavailableError{Err: errors.New("offline")}, false, verdictFail, "revocation-unavailable", exitTempFail},
		{"mbox message too large", batch.Input{MboxIndex: 3}, fmt.Errorf("%w: more than 67108864 bytes", batch.ErrMessageTooLarge), false, verdictFail, "too-complex", exitFailed},
		{"not signed", batch.Input{}, fmt.Errorf("%w: text/plain", verify.ErrNotSigned), false, verdictFail, "not-signed", exitFailed},
		{"not signed, skipped", batch.Input{}, fmt.Errorf("%w: text/plain", verify.ErrNotSigned), true, verdictSkip, "not-signed", exitOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			run := &batchRun{skip: tc.skip}
			rec := run.judge(tc.in, batchOutcome{err: tc.err})
			if rec.verdict != tc.verdict || rec.reason != tc.reason || rec.code != tc.code {
				t.Errorf("got %s, %q, exit %d; want %s, %q, exit %d", rec.verdict, rec.reason, rec.code, tc.verdict, tc.reason, tc.code)
			}
			if strings.Contains(rec.text, "batch: ") || strings.Contains(rec.text, "verify: ") {
				t.Errorf("text %q has a package prefix", rec.text)
			}
		})
	}
	// The run's status is the worst a message would have had alone.
	for _, tc := range []struct {
		codes []int
		want  int
	}{
		{[]int{exitOK, exitFailed}, exitFailed},
		{[]int{exitFailed, exitTempFail, exitOK}, exitTempFail},
		{[]int{exitTempFail, exitUsage, exitFailed}, exitUsage},
		{[]int{exitOK}, exitOK},
	} {
		var c batchCounts
		for _, code := range tc.codes {
			c.add(&batchRecord{code: code})
		}
		if got := exitCode(c.exitError()); got != tc.want {
			t.Errorf("messages %v: exit %d, want %d", tc.codes, got, tc.want)
		}
	}
}
