package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/smimectl/smimectl/pkg/certsel"
	"github.com/smimectl/smimectl/pkg/revocation"
)

// certMatchOptions are the options of cert-match.
type certMatchOptions struct {
	certSourceFlags
	trustFlags
	revocationFlags      // --crl-cache, --crl-timeout, --offline, ... (issue #16 item 13)
	Verbose         bool // -v, --verbose: a line per network request
	Address         string
	Purpose         string // --purpose: sign or encrypt
	PassFile        string // --pass-file: password of .p12 sources and encrypted keys
	PassEnv         string // --pass-env
	Explain         bool   // --explain: a table of every candidate
	JSON            bool   // --json
	PEM             bool   // --pem: print the chosen certificate
	// SmartCardOnly (--smartcard-only): for sign, only certificates whose
	// private key is on a smart card (the guide's SmartCardOnly).
	SmartCardOnly bool
	tokenFlags    // --pkcs11-module, --pin-file, --pin-env for --certs pkcs11:…

	env *env
}

func newCertMatchCmd(e *env, runF func(*certMatchOptions) error) *cobra.Command {
	opts := &certMatchOptions{env: e}
	cmd := &cobra.Command{
		Use:   "cert-match <address> --purpose {sign | encrypt} --certs <source>... [flags]",
		Short: "Show which certificate would be used for an address, and why",
		Long: `Pick the certificate for a mail address as the guide's Chapter 6 "Certificate
Searching" and Appendix B describe, and say why every other candidate lost.

The rules apply in order: the address must be in the certificate's subject
e-mail, else its subjectAltName, else be a proxy address (alias) a directory
lists for the certificate's holder (not with --no-proxies); the key usage must
allow the purpose (and the extended key usage, if any, e-mail protection); the
certificate must be valid now (or at --at); it must chain to a root given with
--trust (not checked without --trust) and not be revoked (--crl, --revocation).
Among those left, a signing-only or encryption-only certificate wins over a
dual-use one, then the earlier source, then the latest notBefore, the longest
remaining validity and the lowest serial number.

--certs names a certificate file, a PKCS#7 bundle, a directory of them or a
PKCS#12 file (its password from --pass-file or --pass-env), and may be
repeated. The exit status is 0 with a match and 3 without one; --explain
prints every candidate with the rule that kept or rejected it.

--smartcard-only (the guide's SmartCardOnly) with --purpose sign accepts only a
certificate whose private key is on a smart card, as sign --smartcard-only
would need.
` + directoryHelp,
		Example: `  # Which certificate would encrypt to Alice, and why not the others?
  smimectl cert-match alice@example.com --purpose encrypt --certs lab/ --trust lab/root.crt --explain

  # The chosen signing certificate as PEM.
  smimectl cert-match alice@example.com --purpose sign --certs lab/alice-sign.p12 --pass-file lab/p12.pass --pem`,
		Args:              exactArgs(1),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Address = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runCertMatch(opts)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	enumFlag(fs, &opts.Purpose, "purpose", "", []string{"sign", "encrypt"}, "what the certificate is for")
	opts.certSourceFlags.addFlags(fs)
	fs.StringVar(&opts.PassFile, "pass-file", "", "read the password of .p12 sources and encrypted keys from the first line of `file`")
	fs.StringVar(&opts.PassEnv, "pass-env", "", "read the password of .p12 sources and encrypted keys from environment variable `name`")
	opts.tokenFlags.addPINFlags(fs)
	opts.trustFlags.addFlags(fs)
	opts.revocationFlags.addCheckFlags(fs)
	fs.BoolVar(&opts.SmartCardOnly, "smartcard-only", false, "with --purpose sign, accept only certificates whose private key is on a smart card (PKCS#11)")
	fs.BoolVar(&opts.Explain, "explain", false, "print every candidate with its verdict and the rule that decided it")
	fs.BoolVar(&opts.JSON, "json", false, "print the result and every candidate as JSON")
	fs.BoolVar(&opts.PEM, "pem", false, "print the chosen certificate as PEM")
	fs.BoolVarP(&opts.Verbose, "verbose", "v", false, "print one line per network request (CRL, OCSP) on standard error")
	return cmd
}

// runCertMatch selects once and prints the result in the form asked for.
func runCertMatch(opts *certMatchOptions) error {
	e := opts.env
	var purpose certsel.Purpose
	if err := purpose.UnmarshalText([]byte(opts.Purpose)); err != nil {
		return usagef([]string{"give --purpose sign or --purpose encrypt"}, "cert-match needs --purpose")
	}
	if len(opts.Certs) == 0 {
		return usagef([]string{"name a certificate file, directory or .p12 file with --certs"}, "cert-match needs --certs")
	}
	sopts, err := opts.selectOptions()
	if err != nil {
		return err
	}
	sel, err := certsel.Select(context.Background(), opts.Address, purpose, sopts)
	var nm *certsel.NoMatchError
	if err != nil && !errors.As(err, &nm) {
		return err
	}
	cands := candidatesOf(sel, nm)
	switch {
	case opts.JSON:
		if err := printMatchJSON(e.Stdout, opts.Address, opts.Purpose, cands, err); err != nil {
			return err
		}
		if nm != nil {
			return &silentError{code: exitCode(nm)}
		}
		return nil
	case opts.Explain:
		if err := explainTable(e.Stdout, cands); err != nil {
			return err
		}
	}
	if nm != nil {
		if opts.Explain {
			return &explainedError{nm}
		}
		return nm
	}
	if opts.PEM {
		return pem.Encode(e.Stdout, &pem.Block{Type: "CERTIFICATE", Bytes: sel.Certificate.Raw})
	}
	if !opts.Explain {
		_, err = fmt.Fprintf(e.Stdout, "%s %s serial %X from %s\n", opts.Address, holder(sel.Certificate), sel.Certificate.SerialNumber, sel.Origin)
	}
	return err
}

// selectOptions reads the trust files and builds the sources.
func (opts *certMatchOptions) selectOptions() (certsel.Options, error) {
	kf := keyFlags{PassFile: opts.PassFile, PassEnv: opts.PassEnv}
	if err := kf.check(); err != nil {
		return certsel.Options{}, err
	}
	sources, err := opts.certSourceFlags.sources(opts.env, kf.passGiven(opts.env), &opts.tokenFlags, opts.SmartCardOnly && opts.Purpose == "sign")
	if err != nil {
		return certsel.Options{}, err
	}
	opts.revocationFlags.verbose = opts.Verbose
	sopts, err := opts.trustFlags.selectOptions(opts.env, sources, opts.NoProxies, &opts.revocationFlags)
	// --smartcard-only is about private keys: with it, a signing certificate
	// qualifies only with its key on a smart card, as sign would need.
	sopts.SmartCardOnly = opts.SmartCardOnly
	sopts.RequireKey = opts.SmartCardOnly && opts.Purpose == "sign"
	return sopts, err
}

// selectOptions turns the trust flags into certsel.Options over sources.
// rf, when its flags were defined (cert-match and encrypt, not triple-wrap),
// says where revocation answers come from and how long fetching may take.
func (f *trustFlags) selectOptions(e *env, sources []certsel.Source, noProxies bool, rf *revocationFlags) (certsel.Options, error) {
	at, err := f.evalTime(e)
	if err != nil {
		return certsel.Options{}, err
	}
	rev := f.Revocation
	if rev == "" {
		rev = "soft" // the flag's default, for commands that do not define it (triple-wrap)
	}
	var mode revocation.Mode
	if err := mode.UnmarshalText([]byte(rev)); err != nil {
		return certsel.Options{}, usagef(nil, "--revocation: %w", err)
	}
	roots, err := loadTrust(e, f.Trust)
	if err != nil {
		return certsel.Options{}, err
	}
	inter, err := loadCertificates("--intermediates", f.Intermediates)
	if err != nil {
		return certsel.Options{}, err
	}
	crls, err := loadCRLs(f.CRLs)
	if err != nil {
		return certsel.Options{}, err
	}
	ropts := revocation.Options{Mode: mode, CRLs: crls, MaxAge: f.MaxAge, OptionName: revocationOptionName}
	if rf != nil && rf.fs != nil {
		if ropts, err = rf.options(e, mode, crls, f.MaxAge); err != nil {
			return certsel.Options{}, err
		}
	}
	return certsel.Options{
		Sources:       sources,
		Now:           func() time.Time { return at },
		Roots:         roots,
		SkipTrust:     len(roots) == 0, // without --trust, trust is not checked (SPEC: cert-match)
		Intermediates: inter,
		Revocation:    revocation.New(ropts),
		NoProxies:     noProxies,
	}, nil
}

func candidatesOf(sel *certsel.Selection, nm *certsel.NoMatchError) []certsel.Candidate {
	if sel != nil {
		return sel.Candidates
	}
	return nm.Candidates
}

// holder names a certificate's holder: "Alice <alice@example.com>".
func holder(c *x509.Certificate) string { return oneLine(holderName(c)) }

// holderName is holder before its control characters are escaped: names
// come from whoever made the certificate.
func holderName(c *x509.Certificate) string {
	name := c.Subject.CommonName
	if addrs := certsel.Addresses(c); len(addrs) > 0 {
		if name == "" {
			return "<" + addrs[0] + ">"
		}
		return name + " <" + addrs[0] + ">"
	}
	if name == "" {
		return certsel.Name(c.Subject)
	}
	return name
}

// explainTable writes one row per candidate: the table cert-match --explain prints.
func explainTable(w io.Writer, cands []certsel.Candidate) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tSOURCE\tSUBJECT\tSERIAL\tKEY USAGE\tVALIDITY\tVERDICT\tRULE\tDETAIL")
	for i, c := range cands {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%X\t%s\t%s..%s\t%s\t%s\t%s\n", i+1, c.Origin, holder(c.Cert), c.Cert.SerialNumber,
			certsel.Usage(c.Cert.KeyUsage), c.Cert.NotBefore.UTC().Format(time.DateOnly),
			c.Cert.NotAfter.UTC().Format(time.DateOnly), c.Verdict, c.Rule, c.Detail)
	}
	if len(cands) == 0 {
		fmt.Fprintln(tw, "-\t(no certificates found)")
	}
	return tw.Flush()
}

type candidateJSON struct {
	Source    string          `json:"source"`
	Subject   string          `json:"subject"`
	Serial    string          `json:"serial"`
	KeyUsage  certsel.Usage   `json:"key_usage"`
	NotBefore time.Time       `json:"not_before"`
	NotAfter  time.Time       `json:"not_after"`
	Match     string          `json:"match,omitempty"`
	Verdict   certsel.Verdict `json:"verdict"`
	Rule      certsel.Rule    `json:"rule"`
	Detail    string          `json:"detail"`
	PrivKey   bool            `json:"private_key"`
	SHA256    string          `json:"sha256"`
	// FingerprintSHA256 is SHA256 again, under the name every other
	// --json object gives a certificate's fingerprint.
	FingerprintSHA256 string `json:"fingerprint_sha256"`
}

// explainedError is a failure whose reasons were just printed by --explain: its
// sentence without the hint to run --explain (issue #16 item 15).
type explainedError struct{ err error }

func (e *explainedError) Error() string { return e.err.Error() }
func (e *explainedError) Unwrap() error { return e.err }
