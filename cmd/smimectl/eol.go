package main

import (
	"bufio"
	"io"

	"github.com/spf13/pflag"

	"github.com/smimectl/smimectl/internal/mime"
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
// the result (before it is committed).
func (f *eolFlag) apply(in io.Reader, w io.Writer) (io.Reader, io.Writer, func() error) {
	br := bufio.NewReaderSize(in, 64<<10)
	lf := f.EOL == "lf" || f.EOL == "input" && mime.LFLineEnds(br)
	if lf {
		lw := mime.NewLFWriter(w)
		return br, lw, lw.Close
	}
	// Output is CRLF already but for a bare LF an opaque signer or an
	// encrypting client put inside: canonical throughout.
	cw := mime.NewCanonicalWriter(w)
	return br, cw, cw.Close
}
