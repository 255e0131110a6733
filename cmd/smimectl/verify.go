package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smimectl/smimectl/pkg/verify"
)

// verifyOptions are the options of verify.
type verifyOptions struct {
	ioFlags
	verifyFlags
	keyFlags      // --key/--cert or --p12: to open encrypted layers
	AllowMD5 bool // --allow-md5
	// AllowUnsignedParts (--allow-unsigned-parts) accepts a signed part beside
	// unsigned ones (a mailing list's footer).
	AllowUnsignedParts bool
	JSON               bool // --json: print the result as JSON on standard output
	Verbose            bool // -v, --verbose: a summary line on standard error
	detachedFlags
	annotateFlags
	batchFlags
	capsFlags
	eolFlag
	Paths []string // the arguments: messages, directories, Maildirs, mbox files

	env *env
}

func newVerifyCmd(e *env, runF func(*verifyOptions) error) *cobra.Command {
	opts := &verifyOptions{env: e}
	cmd := &cobra.Command{
		Use:               "verify [--trust <file>]... [--at <time>] [flags] [<path>...]",
		Short:             "Check a signed message and write out its content",
		Long:              helpText(verifyLong),
		Example:           helpText(verifyExamples),
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeFiles(messageExts...),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			opts.batchFlags.setGiven(cmd.Flags())
			if runF != nil {
				return runF(opts)
			}
			return runVerify(opts)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	opts.ioFlags.addFlags(fs)
	opts.verifyFlags.addFlags(fs, "")
	fs.BoolVar(&opts.AllowMD5, "allow-md5", false, "accept signatures over MD5 digests, which are refused otherwise")
	fs.BoolVar(&opts.AllowUnsignedParts, "allow-unsigned-parts", false,
		"accept a message signed below its top level beside parts no signature covers (a mailing list's footer, a forwarder's text)")
	opts.keyFlags.addFlags(fs)
	addRequireFlag(fs, &opts.Require)
	fs.BoolVar(&opts.JSON, "json", false, "print the result as one JSON object on standard output instead of the content")
	fs.BoolVarP(&opts.Verbose, "verbose", "v", false, "print who signed, which checks passed and each network request on standard error")
	opts.informFlags.addFlags(fs, true)
	opts.detachedFlags.addFlags(fs)
	opts.annotateFlags.addFlags(fs, "the message as received")
	opts.batchFlags.addFlags(fs, true)
	opts.capsFlags.addFlags(fs)
	opts.eolFlag.addFlags(fs)
	return cmd
}

// runVerify loads the trust material, verifies the message once, and writes the
// content (or the JSON result) and any warnings.
func runVerify(opts *verifyOptions) error {
	if err := checkInArgs("verify", opts.In, opts.Paths); err != nil {
		return err
	}
	if opts.Content != "" {
		return runVerifyDetached(opts)
	}
	if opts.Text {
		return usagef(nil, "--text applies to --content only")
	}
	if opts.batchFlags.isBatch(opts.Paths) {
		return runVerifyBatch(opts)
	}
	if opts.annotating() {
		return runVerifyAnnotate(opts)
	}
	e := opts.env
	vopts, err := opts.verifyOptions()
	if err != nil {
		return err
	}
	job := openJob{e: e, io: opts.ioFlags, json: opts.JSON, eol: opts.eolFlag, perm: modePublic, vopts: vopts, caps: &opts.capsFlags,
		report: func(res *verify.Result) {
			if opts.Verbose && len(res.Layers) > 1 {
				reportLayers(e.Stderr, res)
			}
		}}
	res, err := job.run()
	if err != nil {
		return err
	}
	if opts.Verbose {
		fmt.Fprintf(e.Stderr, "smimectl: verified: %s\n", summary(res))
	}
	return nil
}

// decryptIdentity loads the key for encrypted layers, if the key flags name one.
func decryptIdentity(e *env, f *keyFlags) (*verify.Identity, error) {
	if !f.given() {
		if f.Cert != "" {
			return nil, usagef([]string{"give the certificate's key with --key"}, "--cert needs --key")
		}
		return nil, nil
	}
	id, err := f.loadIdentity(e, "")
	if err != nil {
		return nil, err
	}
	return &verify.Identity{Certificate: id.Certificate, Key: id.Signer}, nil
}

// verifyOptions turns the flags into verify.Options, reading the trust files
// and, for encrypted layers, the key.
func (opts *verifyOptions) verifyOptions() (verify.Options, error) {
	vopts, err := opts.verifyFlags.options(opts.env, opts.Verbose, opts.batchFlags.isBatch(opts.Paths))
	if err != nil {
		return verify.Options{}, err
	}
	id, err := decryptIdentity(opts.env, &opts.keyFlags)
	if err != nil {
		return verify.Options{}, err
	}
	vopts.Decrypt = id
	vopts.AllowMD5 = opts.AllowMD5
	vopts.AllowUnsignedParts = opts.AllowUnsignedParts
	return vopts, nil
}

// printJSON writes the result of verifying the input named in (a path, or ""
// or "-" for standard input) as one line of JSON (see newVerifyJSON). A
// message too broken to give a result still gets an object, with valid false
// and the error.
func printJSON(w io.Writer, in string, res *verify.Result, verr error, vopts verify.Options) error {
	return encodeJSON(w, newVerifyJSON(in, res, verr, vopts))
}

// signerLabel names a signer as "Name <address>": the common name of its
// certificate (or its subject) and its mail addresses.
func signerLabel(s *verify.Signer) string {
	who := s.Subject
	if s.Certificate != nil && s.Certificate.Subject.CommonName != "" {
		who = s.Certificate.Subject.CommonName
	}
	if len(s.Emails) > 0 && !(len(s.Emails) == 1 && s.Emails[0] == who) {
		who += " <" + strings.Join(s.Emails, ", ") + ">"
	}
	return who
}

// summary is one line saying who signed and what was checked, for -v and lab demo:
// "signed by Alice <alice@example.com> (multipart/signed, sha-256); chain: Alice <-
// Issuing CA <- Root CA; checks: signature, chain, revocation (warning), ...". A
// co-signer that is not the sender is "co-signed (not the sender) by Carol ...", its
// check "sender (note)". Names come from certificates, of failed signers too
// (reportLayers): the line goes through oneLine, so that none can add a line.
func summary(res *verify.Result) string {
	if len(res.Parts) > 0 {
		return partsSummary(res)
	}
	return signersSummary(res.Signers, res.Form)
}

// partsSummary is summary for a message signed below its top level (issue #15
// item 5): which part each signature covers, and which parts none does.
func partsSummary(res *verify.Result) string {
	var out, unsigned []string
	for _, p := range res.Parts {
		if !p.Signed {
			unsigned = append(unsigned, fmt.Sprintf("%s (%s)", p.Section, p.MediaType))
			continue
		}
		what := "part " + p.Section
		if p.Attached {
			what += fmt.Sprintf(" (an attached message from %s)", p.From)
		}
		out = append(out, fmt.Sprintf("%s covers part %s: %s", what, p.Covers, signersSummary(p.Signers, p.MediaType)))
	}
	if len(unsigned) > 0 {
		out = append(out, "not signed: "+strings.Join(unsigned, ", "))
	}
	return strings.Join(out, "; ")
}

func signersSummary(signers []*verify.Signer, form string) string {
	var parts []string
	for _, s := range signers {
		who := signerLabel(s)
		role := "signed by"
		for _, c := range s.Checks {
			if c.Name == "sender" && c.Status == verify.StatusNote {
				// Issue #11 item 2: valid, but another signer vouches for the sender.
				role = "co-signed (not the sender) by"
			}
		}
		line := fmt.Sprintf("%s %s (%s, %s)", role, who, form, s.DigestAlgorithm)
		if n := len(s.Chain); n > 0 {
			names := make([]string, n)
			for i, c := range s.Chain {
				names[i] = c.Subject.CommonName
			}
			line += "; chain: " + strings.Join(names, " <- ")
		}
		var checks []string
		for _, c := range s.Checks {
			name := c.Name.String()
			if c.Status != verify.StatusPass {
				name = fmt.Sprintf("%s (%s)", c.Name, c.Status)
			}
			if len(checks) == 0 || checks[len(checks)-1] != name {
				checks = append(checks, name)
			}
		}
		parts = append(parts, line+"; checks: "+strings.Join(checks, ", "))
	}
	return oneLine(strings.Join(parts, "; "))
}
