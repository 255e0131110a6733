package main

import (
	"fmt"
	"github.com/smimectl/smimectl/internal/batch"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/smimectl/smimectl/pkg/encrypt"
	"github.com/smimectl/smimectl/pkg/verify"
)

// inspectOptions are the options of inspect.
type inspectOptions struct {
	In   string // --in: the message; "" or "-" is standard input
	JSON bool   // --json: one JSON object instead of text
	// Verbose (-v): each certificate's addresses and fingerprint too (issue #16 item 7)
	Verbose bool
	Paths   []string // the arguments: messages, directories, Maildirs, mbox files
	batchFlags
	informFlags

	env *env
}

func newInspectCmd(e *env, runF func(*inspectOptions) error) *cobra.Command {
	opts := &inspectOptions{env: e}
	cmd := &cobra.Command{
		Use:               "inspect [--json] [--in <file> | <path>...]",
		Short:             "Show the layers of an S/MIME message without checking them",
		Long:              helpText(inspectLong),
		Example:           helpText(inspectExamples),
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeFiles(messageExts...),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			opts.batchFlags.setGiven(cmd.Flags())
			if runF != nil {
				return runF(opts)
			}
			return runInspect(opts)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.Var(&onceString{p: &opts.In}, "in", "read the message from `file` instead of standard input")
	markFileFlag(fs, "in", messageExts...)
	fs.BoolVar(&opts.JSON, "json", false, "print the layers as one JSON object")
	fs.BoolVarP(&opts.Verbose, "verbose", "v", false, "also print each certificate's mail addresses and SHA-256 fingerprint (--json has them always)")
	opts.batchFlags.addFlags(fs, false)
	opts.informFlags.addFlags(fs, false)
	return cmd
}

// runInspect reads the message once and prints its layers; on error the
// layers read so far are printed before the error.
func runInspect(opts *inspectOptions) error {
	e := opts.env
	if err := checkInArgs("inspect", opts.In, opts.Paths); err != nil {
		return err
	}
	if opts.batchFlags.isBatch(opts.Paths) {
		return runInspectBatch(opts)
	}
	form, err := opts.informFlags.form()
	if err != nil {
		return err
	}
	in, err := openInput(e, opts.In)
	if err != nil {
		return err
	}
	defer in.Close()
	ins, err := verify.Inspect(in, verify.InspectOptions{Form: form, OptionName: otherCommandName})
	if err != nil && len(ins.Layers) == 0 {
		return err
	}
	// Every write is checked: a result that did not reach standard output
	// (a full disk, /dev/full) is a failure, not a silent exit 0.
	out := &errWriter{w: e.Stdout}
	if opts.JSON {
		encodeJSON(out, newInspectJSON(opts.In, ins, err))
	} else {
		printLayers(out, ins, opts.Verbose)
	}
	if out.err != nil {
		return fmt.Errorf("writing the result: %w", out.err)
	}
	return err
}

// newInspectJSON is the object of inspect --json for input in, whose
// layers are ins (nil if none could be read) and error err.
func newInspectJSON(in string, ins *verify.Inspection, err error) *inspectJSON {
	if ins == nil {
		ins = &verify.Inspection{}
	}
	if ins.Layers == nil {
		ins.Layers = []*verify.Layer{} // not S/MIME: no layers, not null
	}
	return &inspectJSON{jsonHead: newJSONHead(in), Inspection: ins, Reason: reasonCode(err), Error: errorText(err)}
}

// runInspectBatch shows the layers of every message under opts.Paths
// (issue #13 item 1): for each, a line with its name and its layer tree
// below it, indented, or one JSON line; nothing is judged, so the summary
// counts the messages inspected and those that could not be read as
// S/MIME (malformed, nested too deep), which fail as inspect fails for one.
func runInspectBatch(opts *inspectOptions) error {
	paths := opts.Paths
	if len(paths) == 0 && opts.In != "" {
		paths = []string{opts.In}
	}
	paths, err := opts.batchFlags.check(paths)
	if err != nil {
		return err
	}
	c := &batchCommand{
		name:   "inspect",
		passed: "inspected",
		work: func(_ batch.Input, r io.Reader) batchOutcome {
			ins, err := verify.Inspect(r, verify.InspectOptions{OptionName: otherCommandName})
			return batchOutcome{ins: ins, err: err}
		},
		text: func(w io.Writer, rec *batchRecord) error { return writeInspectText(w, rec, opts.Verbose) },
		json: func(w io.Writer, rec *batchRecord) error {
			obj := newInspectJSON(rec.in.Path, rec.out.ins, rec.out.err)
			obj.batchJSON = newBatchJSON(rec, false)
			return encodeJSON(w, obj)
		},
	}
	return runBatch(opts.env, &opts.batchFlags, paths, opts.JSON, c)
}

// writeInspectText writes one message of inspect PATH...: its name, then
// its layer tree (as inspect prints it for one message) and any error,
// indented by two spaces.
func writeInspectText(w io.Writer, rec *batchRecord, verbose bool) error {
	var b strings.Builder
	if ins := rec.out.ins; ins != nil {
		printLayers(&b, ins, verbose)
	}
	if rec.out.err != nil {
		fmt.Fprintf(&b, "error: %s\n", oneLine(rec.text))
	}
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "%s\n", batchName(rec.in))
	for line := range strings.Lines(b.String()) {
		io.WriteString(ew, "  "+line)
	}
	return ew.err
}

// errWriter writes to w until a write fails, then keeps the first error and
// writes nothing more, so a printer of many lines checks once at the end.
type errWriter struct {
	w   io.Writer
	err error
}

func (ew *errWriter) Write(p []byte) (int, error) {
	if ew.err != nil {
		return 0, ew.err
	}
	n, err := ew.w.Write(p)
	ew.err = err
	return n, err
}

// printLayers writes the layer tree as indented text. Every value comes
// from the message (names in its unauthenticated certificate set, header
// fields): each line goes through oneLine, so that no value adds a line or
// drives the terminal.
//
// verbose adds each certificate's addresses and SHA-256 fingerprint.
func printLayers(w io.Writer, ins *verify.Inspection, verbose bool) {
	line := func(format string, args ...any) { fmt.Fprintf(w, "%s\n", oneLine(fmt.Sprintf(format, args...))) }
	for _, l := range ins.Layers {
		ind := strings.Repeat("  ", l.Depth-1)
		p := func(format string, args ...any) { line(ind+"  "+format, args...) }
		head := fmt.Sprintf("%slayer %d: %s (%s", ind, l.Depth, l.Kind, l.MediaType)
		if l.SMIMEType != "" {
			head += fmt.Sprintf("; smime-type=%s", l.SMIMEType)
		}
		line("%s, %s)", head, strings.ToUpper(l.Encoding))
		p("content type: %s", l.ContentType)
		if len(l.DigestAlgorithms) > 0 {
			p("digest algorithms: %s", joinNames(l.DigestAlgorithms, ", "))
		}
		for _, s := range l.Signers {
			printSigner(p, s)
		}
		for _, c := range l.Certificates {
			p("certificate: %s", c.Subject)
			p("  issuer: %s, serial %s", c.Issuer, c.Serial)
			p("  valid %s to %s", c.NotBefore.Format(time.RFC3339), c.NotAfter.Format(time.RFC3339))
			if c.KeyUsage != "" {
				p("  key usage: %s", c.KeyUsage)
			}
			if verbose {
				if len(c.Emails) > 0 {
					p("  addresses: %s", strings.Join(c.Emails, ", "))
				}
				p("  SHA-256 fingerprint: %s", c.FingerprintSHA256)
			}
		}
		if l.ContentCipher != "" {
			p("content cipher: %s", l.ContentCipher)
		}
		for _, r := range l.Recipients {
			who := "subject key identifier " + r.SubjectKeyID
			if r.SubjectKeyID == "" {
				who = fmt.Sprintf("issuer %s, serial %s", r.Issuer, r.Serial)
			}
			us := ""
			if r.Us {
				us = " (us)"
			}
			p("recipient: %s, %s, %s%s", r.Kind, who, r.KeyManagement, us)
		}
		if l.Note != "" {
			p("note: %s", l.Note)
		}
	}
	if ins.Content != "" {
		line("%scontent: %s", strings.Repeat("  ", len(ins.Layers)), ins.Content)
	}
	if ph := ins.ProtectedHeaders; ph != nil {
		ind := strings.Repeat("  ", len(ins.Layers)+1)
		line("%sprotected headers (hp=%s):", ind[2:], ph.HP)
		printProtected(w, ind, ph)
	}
}

// printProtected writes the protected header fields, the sender's HP-Outer
// records and every difference from the outer header, one per line.
func printProtected(w io.Writer, ind string, ph *verify.ProtectedHeaders) {
	for _, f := range ph.Fields {
		fmt.Fprintf(w, "%s%s: %s\n", ind, oneLine(f.Name), oneLine(f.Value))
	}
	for _, f := range ph.Outer {
		fmt.Fprintf(w, "%sHP-Outer: %s: %s\n", ind, oneLine(f.Name), oneLine(f.Value))
	}
	for _, d := range ph.Differences {
		fmt.Fprintf(w, "%s%s\n", ind, oneLine(differenceLine(d)))
	}
}

// differenceLine says how an outer field differs from the protected one:
// "Subject: obscured outside as "[...]" (protected "Plans")".
func differenceLine(d encrypt.HeaderDifference) string {
	switch d.Kind {
	case encrypt.DiffObscured:
		return fmt.Sprintf("%s: obscured outside as %q (protected %q)", d.Field, d.Sent, d.Protected)
	case encrypt.DiffRemoved:
		return fmt.Sprintf("%s: left out of the outer header (protected %q)", d.Field, d.Protected)
	case encrypt.DiffAdded:
		return fmt.Sprintf("%s: added outside, not protected: %q", d.Field, d.Outer)
	case encrypt.DiffMissing:
		return fmt.Sprintf("%s: missing outside (protected %q)", d.Field, d.Protected)
	}
	if d.Sent != "" {
		return fmt.Sprintf("%s: changed in transit: sent as %q, received %q (protected %q)", d.Field, d.Sent, d.Outer, d.Protected)
	}
	return fmt.Sprintf("%s: changed outside: protected %q, outer %q", d.Field, d.Protected, d.Outer)
}

func printSigner(p func(string, ...any), s *verify.Signer) {
	who := "subject key identifier " + s.SubjectKeyID
	if s.SubjectKeyID == "" {
		who = fmt.Sprintf("issuer %s, serial %s", s.Issuer, s.Serial)
	}
	p("signer %d: %s", s.Index+1, who)
	if s.Subject != "" {
		p("  subject: %s", s.Subject)
	}
	p("  algorithms: %s with %s", s.SignatureAlgorithm, s.DigestAlgorithm)
	if s.SigningTime != nil {
		p("  signing time: %s", s.SigningTime.Format(time.RFC3339))
	}
	if len(s.SignedAttributes) > 0 {
		p("  signed attributes: %s", strings.Join(s.SignedAttributes, ", "))
	}
}
