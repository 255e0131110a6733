package main

import (
	"bytes"
	"os"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// Issue #15 item 5: the shapes mailing lists and forwarding clients give signed mail.
func init() {
	scriptCmds["listwrap"] = cmdListWrap
	scriptCmds["forward"] = cmdForward
	scriptCmds["nestparts"] = cmdNestParts
}

// splitMessage splits a message into its header (without the blank line) and body,
// and the header into the Content-* fields and the others.
func splitMessage(ts *testscript.TestScript, data []byte) (outer, content, body string) {
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	h, b, ok := strings.Cut(s, "\n\n")
	if !ok {
		ts.Fatalf("no blank line after the header")
	}
	var o, c []string
	var cur *[]string
	for _, line := range strings.Split(h, "\n") {
		if line != "" && (line[0] == ' ' || line[0] == '\t') && cur != nil {
			(*cur)[len(*cur)-1] += "\n" + line
			continue
		}
		cur = &o
		if strings.HasPrefix(strings.ToLower(line), "content-") || strings.HasPrefix(strings.ToLower(line), "mime-version") {
			cur = &c
		}
		*cur = append(*cur, line)
	}
	return strings.Join(o, "\n"), strings.Join(c, "\n"), b
}

// cmdListWrap does what a mailing list that appends a footer does (Mailman's
// "wrap" for multipart messages): "listwrap IN OUT FOOTER-TEXT" keeps the header
// but Content-*, and makes the body multipart/mixed: the original entity, then a
// text/plain footer. Line ends are CRLF.
func cmdListWrap(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: listwrap <in> <out> <footer>")
	}
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	outer, content, body := splitMessage(ts, data)
	var b bytes.Buffer
	b.WriteString(outer + "\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"===list===\"\n\n")
	b.WriteString("--===list===\n" + strings.Replace(content, "MIME-Version: 1.0\n", "", 1) + "\n\n" + strings.TrimSuffix(body, "\n") + "\n")
	b.WriteString("--===list===\nContent-Type: text/plain; charset=us-ascii\n\n" + args[2] + "\n--===list===--\n")
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), bytes.ReplaceAll(b.Bytes(), []byte("\n"), []byte("\r\n")), 0o644))
}

// listWrap is cmdListWrap for Go tests, with the footer "list footer".
func listWrap(msg []byte) []byte {
	h, b, _ := strings.Cut(string(msg), "\r\n\r\n")
	var outer, content []string
	for _, f := range strings.Split(strings.NewReplacer("\r\n ", "\x00 ", "\r\n\t", "\x00\t").Replace(h), "\r\n") {
		f = strings.ReplaceAll(f, "\x00", "\r\n")
		switch l := strings.ToLower(f); {
		case strings.HasPrefix(l, "mime-version:"):
		case strings.HasPrefix(l, "content-"):
			content = append(content, f)
		default:
			outer = append(outer, f)
		}
	}
	return []byte(strings.Join(outer, "\r\n") + "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"list\"\r\n\r\n" +
		"--list\r\n" + strings.Join(content, "\r\n") + "\r\n\r\n" + strings.TrimSuffix(b, "\r\n") + "\r\n" +
		"--list\r\nContent-Type: text/plain\r\n\r\nlist footer\r\n--list--\r\n")
}

// cmdForward forwards a message as an attachment, as mail clients do: "forward IN
// OUT FROM TEXT" writes a message from FROM whose body is multipart/mixed: TEXT,
// then IN as message/rfc822.
func cmdForward(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 {
		ts.Fatalf("usage: forward <in> <out> <from> <text>")
	}
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	msg := strings.ReplaceAll(string(data), "\r\n", "\n")
	var b bytes.Buffer
	b.WriteString("From: " + args[2] + "\nTo: dave@example.com\nSubject: Fwd: plans\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"fwd-b\"\n\n")
	b.WriteString("--fwd-b\nContent-Type: text/plain\n\n" + args[3] + "\n")
	b.WriteString("--fwd-b\nContent-Type: message/rfc822\n\n" + strings.TrimSuffix(msg, "\n") + "\n--fwd-b--\n")
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), bytes.ReplaceAll(b.Bytes(), []byte("\n"), []byte("\r\n")), 0o644))
}

// cmdNestParts writes a hostile message: "nestparts deep N IN OUT" nests the entity of
// IN in N levels of multipart/mixed; "nestparts wide N IN OUT" puts N text parts beside
// it. The signed entity is IN's (its Content-* fields and body), the header IN's others.
func cmdNestParts(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 || (args[0] != "deep" && args[0] != "wide") {
		ts.Fatalf("usage: nestparts {deep | wide} <n> <in> <out>")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	data, err := os.ReadFile(ts.MkAbs(args[2]))
	ts.Check(err)
	outer, content, body := splitMessage(ts, data)
	entity := strings.Replace(content, "MIME-Version: 1.0\n", "", 1) + "\n\n" + strings.TrimSuffix(body, "\n")
	var b strings.Builder
	b.WriteString(outer + "\nMIME-Version: 1.0\n")
	if args[0] == "deep" {
		for i := range n {
			b.WriteString("Content-Type: multipart/mixed; boundary=\"d" + strconv.Itoa(i) + "x\"\n\n--d" + strconv.Itoa(i) + "x\n")
		}
		b.WriteString(entity + "\n")
		for i := n - 1; i >= 0; i-- {
			b.WriteString("--d" + strconv.Itoa(i) + "x--\n")
		}
	} else {
		b.WriteString("Content-Type: multipart/mixed; boundary=\"w\"\n\n--w\n" + entity + "\n")
		for range n {
			b.WriteString("--w\nContent-Type: text/plain\n\nx\n")
		}
		b.WriteString("--w--\n")
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[3]), []byte(strings.ReplaceAll(b.String(), "\n", "\r\n")), 0o644))
}
