package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/smimectl/smimectl/pkg/certsel"
	"github.com/smimectl/smimectl/pkg/verify"
)

// certVerifyOptions are the options of cert-verify (issue #11 item 7).
type certVerifyOptions struct {
	trustFlags
	revocationFlags
	Cert    string         // the certificate file; "-" is standard input
	Purpose verify.Purpose // --purpose: sign, encrypt or any
	JSON    bool           // --json: the result as JSON on standard output
	Verbose bool           // -v, --verbose: the certificate, its chain and every check

	env *env
}

var certPurposes = []string{"sign", "encrypt", "any"}

func newCertVerifyCmd(e *env, runF func(*certVerifyOptions) error) *cobra.Command {
	opts := &certVerifyOptions{env: e}
	cmd := &cobra.Command{
		Use:   "cert-verify <certificate> [--trust <file>]... [--purpose {sign | encrypt | any}] [flags]",
		Short: "Check a certificate's chain, validity, key usage and revocation",
		Long: `Check a certificate on its own, as the guide's Chapter 6 "Certificate Validation"
describes and as verify checks the certificate of a message's signer, with the
same code: a chain to a root given with --trust, every certificate of it valid
now (or at --at) and allowed to issue the next, extended key usage allowing
e-mail protection, key usage allowing --purpose, and no certificate of the
chain revoked. It answers the guide's Chapter 8 question "why is this
certificate not trusted?", as "openssl verify -purpose smimesign" does.

<certificate> is a file holding one certificate in PEM or DER, or "-" for
standard input. A file with several certificates (PEM blocks, or a PKCS#7
bundle such as a .p7b) is read as a certificate with its chain, in any order:
the one certificate that issued none of the others is checked, and the others
are used as intermediates, never as trusted roots. A file in which that is not
one certificate (two users' certificates, or certificates that issued one
another in a loop), or with a certificate that is not a CA of its chain, is
refused as ambiguous, with exit status 1: give the certificate to check on its
own, and its chain with --intermediates. The file
may hold at most 1000 certificates in 4 MiB. A signed message or signature
(.p7s) is not a certificate file: smimectl verify checks it.

--purpose sign needs a key usage that allows signing (digitalSignature or
nonRepudiation), encrypt one that allows encryption (keyEncipherment for RSA,
keyAgreement for EC); any, the default, does not look at the key usage but
still needs the chain, with e-mail protection in every extended key usage.

Revocation is checked as by verify: --crl files first, then (with --ocsp) the
OCSP responder, the cache, and the CRL distribution points, under
--crl-timeout and --crl-total-timeout. --revocation soft passes with a warning
when no answer can be had, hard fails with exit status 75 (try again later),
off skips the check. --fetch-intermediates downloads a missing issuer from the
certificate's caIssuers URL.

Nothing is printed when the certificate is valid; the exit status is 0. When it
is not, the reason goes to standard error and the exit status is 1 (75 when only
a revocation answer required by --revocation hard was missing). A file that
holds no certificate is a failure too (1); one that can't be opened is a setup
error (2). -v prints the certificate, the chain found and every check on
standard output, valid or not; --json prints the same as one JSON object, whose
checks are those of verify's signers.`,
		Example: `  # Is Alice's signing certificate trusted, and good for signing?
  smimectl cert-verify lab/alice-sign.crt --trust lab/root.crt --intermediates lab/intermediate.crt --purpose sign

  # Why not? The chain and every check, as of a given time, with the lab's CRLs.
  smimectl cert-verify -v lab/eve-revoked.crt --trust lab/root.crt --intermediates lab/chain.pem \
    --crl lab/intermediate.crl --at 2026-01-01

  # The certificate cert-match picks, checked for encryption, as JSON.
  smimectl cert-match bob@example.com --purpose encrypt --certs lab --pem |
    smimectl cert-verify - --trust lab/root.crt --intermediates lab/chain.pem --purpose encrypt --json | jq .checks`,
		Args: exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Cert = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runCertVerify(opts)
		},
	}
	// The certificate argument is a file: complete file names.
	cmd.ValidArgsFunction = func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return certExts, cobra.ShellCompDirectiveFilterFileExt
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	textEnumFlag(fs, &opts.Purpose, "purpose", verify.PurposeAny, certPurposes,
		"what the certificate must be allowed to do: sign, encrypt, or any (key usage not checked)")
	opts.trustFlags.addFlags(fs)
	opts.revocationFlags.addFlags(fs)
	fs.BoolVar(&opts.JSON, "json", false, "print the result and every check as one JSON object on standard output")
	fs.BoolVarP(&opts.Verbose, "verbose", "v", false, "print the certificate, its chain and every check on standard output")
	return cmd
}

// runCertVerify reads the certificate file, checks its leaf (verify.Leaf) once and
// reports the result in the form asked for.
func runCertVerify(opts *certVerifyOptions) error {
	e := opts.env
	if opts.JSON && opts.Verbose {
		return usagef([]string{"--json has every check; leave out -v"}, "--json and -v can't be used together")
	}
	purpose := opts.Purpose
	opts.revocationFlags.verbose = opts.Verbose // issue #16 item 6
	vopts, err := certificateCheckOptions(e, &opts.trustFlags, &opts.revocationFlags)
	if err != nil {
		return err
	}
	res, n, err := checkCertFile(e, opts.Cert, purpose, vopts)
	var pe *os.PathError
	if errors.As(err, &pe) && res == nil {
		return err // the file can't be read: no verdict to report
	}
	if res == nil {
		res = &verify.CertificateResult{At: vopts.Now().UTC(), Purpose: purpose, Checks: []verify.Check{}}
	}
	for _, w := range res.Warnings {
		warn(e.Stderr, "%s", w)
	}
	switch {
	case opts.JSON:
		if jerr := encodeJSON(e.Stdout, certVerifyJSON{jsonHead: newJSONHead(opts.Cert), CertificateResult: res,
			Reason: reasonCode(err), Error: errorText(err)}); jerr != nil {
			return jerr
		}
	case opts.Verbose:
		if werr := writeCertReport(e.Stdout, res, n); werr != nil {
			return werr
		}
	}
	return err
}

// checkCertFile reads the certificate file name, picks the certificate to check
// (verify.Leaf) and checks it with the others of the file as more intermediates.
// n is how many different certificates the file held.
func checkCertFile(e *env, name string, purpose verify.Purpose, vopts verify.Options) (res *verify.CertificateResult, n int, err error) {
	certs, err := readCertFile(e, name)
	if err != nil {
		return nil, 0, err
	}
	leaf, rest, err := verify.Leaf(certs)
	if err != nil {
		return nil, 0, err
	}
	vopts.Intermediates = slices.Concat(rest, vopts.Intermediates)
	res, err = verify.Certificate(context.Background(), leaf, purpose, vopts)
	return res, len(rest) + 1, err
}

// readCertFile reads the certificates of the file named by the argument, or of
// standard input for "-".
func readCertFile(e *env, name string) ([]*x509.Certificate, error) {
	if name == "-" {
		return verify.ReadCertificates(e.Stdin)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return verify.ReadCertificates(f)
}

// writeCertReport writes what -v prints: the certificate, the chain found and every
// check. n is how many different certificates the file held.
func writeCertReport(w io.Writer, res *verify.CertificateResult, n int) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if res.Cert != nil {
		c := res.Cert
		fmt.Fprintf(tw, "certificate:\t%s\n", holder(c))
		if n > 1 {
			fmt.Fprintf(tw, "\tthe one of the %d in the file that issued none of the others, which were used as intermediates\n", n)
		}
		fmt.Fprintf(tw, "subject:\t%s\n", oneLine(certsel.Name(c.Subject)))
		fmt.Fprintf(tw, "issuer:\t%s\n", oneLine(certsel.Name(c.Issuer)))
		fmt.Fprintf(tw, "serial:\t%X\n", c.SerialNumber)
		fmt.Fprintf(tw, "validity:\t%s to %s\n", c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
		fmt.Fprintf(tw, "key usage:\t%s\n", certsel.Usage(c.KeyUsage))
	}
	fmt.Fprintf(tw, "purpose:\t%s\n", res.Purpose)
	fmt.Fprintf(tw, "at:\t%s\n", res.At.Format(time.RFC3339))
	if len(res.ChainCerts) == 0 {
		fmt.Fprintf(tw, "chain:\tnone to a trusted root\n")
	} else {
		fmt.Fprintf(tw, "chain:\n")
		for i, c := range res.ChainCerts {
			role := "issued by the next"
			if i == len(res.ChainCerts)-1 {
				role = "trusted root (--trust)"
			}
			fmt.Fprintf(tw, "  %d\t%s\tserial %X\tuntil %s\t%s\n", i, holder(c), c.SerialNumber, c.NotAfter.UTC().Format(time.DateOnly), role)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "checks:\n")
	for _, c := range res.Checks {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.Status, c.Name, oneLine(c.Detail))
	}
	if len(res.Checks) == 0 {
		fmt.Fprintf(tw, "  none\n")
	}
	if res.Valid {
		fmt.Fprintf(tw, "result:\tvalid\n")
	} else {
		fmt.Fprintf(tw, "result:\tnot valid\n")
	}
	return tw.Flush()
}

// oneLine keeps a detail on its line and the terminal as it is: a name in
// a certificate, chosen by whoever made it, may hold line ends, but also
// ESC sequences (cursor up, erase line), C1 controls, Unicode line
// separators or bidi overrides, with which one line can show as another.
// Tabs become spaces; everything else is as escapeControls writes it.
func oneLine(s string) string { return escapeControls(s, false) }

// escapeControls writes CR and LF as \r and \n, and every other rune
// strconv.IsPrint refuses, and every byte that is not UTF-8, as Go would
// quote it (\x1b, \u2028, \x9b); a tab is kept if keepTabs, else a space.
func escapeControls(s string, keepTabs bool) string {
	if !strings.ContainsFunc(s, notPrintable) && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		switch {
		case r == '\t' && keepTabs:
			b.WriteByte('\t')
		case r == '\t':
			b.WriteByte(' ')
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[0])
		case notPrintable(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[:n])
		}
		s = s[n:]
	}
	return b.String()
}

// notPrintable reports whether r must not reach a terminal as it is.
func notPrintable(r rune) bool { return !strconv.IsPrint(r) }
