package main

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/smimectl/smimectl/pkg/verify"
)

// detachedFlags are verify's flags for a detached signature over a file
// (issue #15 item 2): verify --content data.bin sig.p7s.
type detachedFlags struct {
	Content string // --content: the file the signature signs
	Text    bool   // --text: canonicalise the content's line ends to CRLF first
}

func (f *detachedFlags) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&f.Content, "content", "", "verify the detached signature (the argument or --in: DER, PEM or an smime.p7s part) over the bytes of `file`")
	fs.BoolVar(&f.Text, "text", false, "with --content: hash the content with CRLF line ends, as a text/plain MIME body (default: byte for byte)")
}

// runVerifyDetached checks the signature named by --in or the one argument
// over --content. Nothing goes to standard output but --json's object: the
// content is the caller's own file.
func runVerifyDetached(opts *verifyOptions) error {
	e := opts.env
	sigPath := opts.In
	if len(opts.Paths) == 1 {
		sigPath = opts.Paths[0]
	}
	switch {
	case opts.In != "" && len(opts.Paths) > 0, len(opts.Paths) > 1:
		return usagef([]string{"smimectl verify --content data.bin sig.p7s"}, "--content checks one signature: name it once, as the argument or with --in")
	case opts.Out != "":
		return usagef(nil, "--out can't be used with --content: the content is the file given, nothing else is written")
	case opts.annotating() || opts.batchFlags.given:
		return usagef(nil, "--content verifies one detached signature; it can't be used with the batch or --annotate flags")
	}
	if isStdio(sigPath) && isStdio(opts.Content) {
		return usagef(nil, "the signature and --content can't both be standard input")
	}
	vopts, err := opts.verifyOptions()
	if err != nil {
		return err
	}
	sig, err := openInput(e, sigPath)
	if err != nil {
		return err
	}
	defer sig.Close()
	content, err := openInput(e, opts.Content)
	if err != nil {
		return err
	}
	defer content.Close()
	res, verr := verify.VerifyDetached(context.Background(), sig, content, vopts, verify.DetachedOptions{Text: opts.Text})
	if res != nil {
		printWarnings(e.Stderr, res.Warnings)
	}
	if opts.JSON && localFault(verr) == nil {
		if err := printJSON(e.Stdout, sigPath, res, verr, vopts); err != nil {
			return err
		}
	}
	if verr != nil {
		return verr
	}
	if opts.Verbose {
		fmt.Fprintf(e.Stderr, "smimectl: verified: %s\n", summary(res))
	}
	return nil
}
