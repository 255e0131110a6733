package main

import (
	"bufio"
	"bytes"
	"io"

	"github.com/spf13/pflag"

	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/pkg/encrypt"
)

// eolFlag is --eol of verify and decrypt (issue #15 item 10): the line ends of the
// message written out. What is hashed is always the canonical (CRLF) form; this is
// only how the result is written. --annotate keeps the received bytes whatever it says.
type eolFlag struct {
	EOL string // lf, crlf or input
}

func (f *eolFlag) addFlags(fs *pflag.FlagSet) {
	enumFlag(fs, &f.EOL, "eol", "input", []string{"input", "lf", "crlf"},
		"line ends of the message written out: input (those of the message read), lf or crlf")
}

// apply reads the line ends of in if --eol is input, and returns the reader to read
// the message from, the writer to write the result to, and the function that ends
// the result (before it is committed). With input, a message with LF line ends is
// written with LF, anything else as the command writes it: CRLF for mail, and the
// content of a bare CMS file (which has no line ends to follow) byte for byte.
func (f *eolFlag) apply(in io.Reader, w io.Writer) (io.Reader, io.Writer, func() error) {
	br := bufio.NewReaderSize(in, 64<<10)
	switch {
	case f.EOL == "lf" || f.EOL == "input" && isMail(br) && mime.LFLineEnds(br):
		lw := mime.NewLFWriter(w)
		return br, lw, lw.Close
	case f.EOL == "crlf":
		// CRLF already, but for a bare LF an opaque signer or an encrypting
		// client put inside: canonical throughout.
		cw := mime.NewCanonicalWriter(w)
		return br, cw, cw.Close
	}
	return br, w, func() error { return nil }
}

// isMail reports whether br holds a mail message rather than a bare CMS file.
func isMail(br *bufio.Reader) bool {
	head, _ := br.Peek(4096)
	_, form, err := encrypt.OpenInput(bytes.NewReader(head), encrypt.FormAuto)
	return err == nil && form == encrypt.FormMIME
}
