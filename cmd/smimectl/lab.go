package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/smimectl/smimectl/internal/lab"
)

// defaultP12Password protects the lab's .p12 files unless --p12-password-file
// names another; lab init records it in DIR/p12.pass either way.
const defaultP12Password = "smimectl-lab"

func newLabCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lab <command>",
		Short: "Make the guide's test PKI for fixtures and demos",
		Long: `Make the test lab of the guide's Chapter 7 as files: a root certification
authority, an intermediate (issuing) authority, and users with signing-only,
encryption-only and dual-use certificates, an ECDSA user, an expired and a revoked
certificate, and a CRL from each authority.

Everything is derived from a seed, so the same seed gives the same keys and
certificates on every machine: tests and documentation can make their PKI on the
fly instead of committing it. The keys are public knowledge: never use them for
real mail.`,
		Example: `  smimectl lab init lab
  smimectl lab demo`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usagef([]string{`run "smimectl lab --help" for its commands`}, "lab needs a command: init or demo")
		},
	}
	cmd.AddCommand(newLabInitCmd(e, nil), newLabDemoCmd(e, nil))
	return cmd
}

// labInitOptions are the options of lab init.
type labInitOptions struct {
	Dir             string // the directory to write
	Seed            string // --seed
	Domain          string // --domain
	CRLURL          string // --crl-url
	OCSPURL         string // --ocsp-url
	CAIssuersURL    string // --ca-issuers-url
	P12PasswordFile string // --p12-password-file
	PQ              bool   // --pq
	P12Legacy       bool   // --p12-legacy: 3DES/RC2-40 and SHA-1 MAC, for gpgsm 2.2 and older Windows
	Verbose         bool   // -v: list every file written (issue #16 item 7)
	Stderr          io.Writer
}

func newLabInitCmd(e *env, runF func(*labInitOptions) error) *cobra.Command {
	opts := &labInitOptions{Stderr: e.Stderr}
	cmd := &cobra.Command{
		Use:   "init <dir> [--seed <seed>] [--domain <domain>] [flags]",
		Short: "Write the test PKI into a new directory",
		Long: `Write the test lab into dir, which must be new or empty: root.crt,
intermediate.crt and chain.pem (intermediate, then root); root.crl and
intermediate.crl; and for every user NAME.key (PEM PKCS#8, unencrypted), NAME.crt
and NAME.p12 (key, certificate and chain). The .p12 password is in p12.pass, and
README.md says what each identity is for.

The users are alice-sign (signing only) and alice-encrypt (encryption only) for
alice@DOMAIN, bob (dual use), carol (ECDSA P-256), dave-expired and eve-revoked.
All files but the .p12 ones are the same bytes for the same --seed, --domain,
--crl-url, --ocsp-url and --ca-issuers-url.

--ocsp-url puts an OCSP responder in the users' certificates (Authority
Information Access); --ca-issuers-url makes each certificate point at its
issuer's certificate under that base URL (intermediate.crt, root.crt, DER), for
verify --fetch-intermediates. Without them the certificates name neither.

--pq adds the post-quantum and modern identities: pq-root.crt (ML-DSA-87) and
pq-intermediate.crt (ML-DSA-65) with pq-chain.pem, frank-mldsa (an ML-DSA-65
signing certificate under them: verify with --trust pq-root.crt) and grace-ed25519
(Ed25519, under the classic intermediate). ML-DSA keys are PKCS#8 in the seed form
of RFC 9881 and have no .p12: sign with --key and --cert. The PQ authorities
publish no CRL.

The .p12 files use PBES2 with AES-256-CBC; --p12-legacy writes them with the
legacy encryption (3DES keys, 40-bit RC2 certificates, an HMAC-SHA-1 MAC, as
openssl pkcs12 -export -legacy does) that gpgsm 2.2 and older Windows import.`,
		Example: `  # A lab, then a signed and verified message.
  smimectl lab init lab
  smimectl clear-sign --p12 lab/alice-sign.p12 --pass-file lab/p12.pass < msg.eml > signed.eml
  smimectl verify --trust lab/root.crt < signed.eml

  # Another lab for another domain.
  smimectl lab init --seed 7 --domain example.org lab7

  # With ML-DSA and Ed25519 signers.
  smimectl lab init --pq lab
  smimectl sign --key lab/frank-mldsa.key --cert lab/frank-mldsa.crt < msg.eml > signed.eml
  smimectl verify --trust lab/pq-root.crt < signed.eml`,
		Args:              exactArgs(1),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Dir = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runLabInit(opts)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&opts.Seed, "seed", lab.DefaultSeed, "derive every key and serial number from `seed`")
	fs.StringVar(&opts.Domain, "domain", lab.DefaultDomain, "mail `domain` of the users' addresses")
	fs.StringVar(&opts.CRLURL, "crl-url", lab.DefaultCRLBaseURL, "base `URL` of the CRL distribution points")
	fs.StringVar(&opts.OCSPURL, "ocsp-url", "", "put `URL` in the users' certificates as their OCSP responder")
	fs.StringVar(&opts.CAIssuersURL, "ca-issuers-url", "", "base `URL` of the issuers' certificates named in each certificate (caIssuers)")
	fs.BoolVar(&opts.PQ, "pq", false, "add an ML-DSA CA chain and signer, and an Ed25519 signer")
	fs.StringVar(&opts.P12PasswordFile, "p12-password-file", "", "protect the .p12 files with the first line of `file` (default \""+defaultP12Password+"\")")
	fs.BoolVarP(&opts.Verbose, "verbose", "v", false, "list every file written on standard error")
	fs.BoolVar(&opts.P12Legacy, "p12-legacy", false, "write the .p12 files with the legacy encryption gpgsm 2.2 and older Windows import (3DES keys, RC2-40 certificates, SHA-1 MAC) instead of AES")
	return cmd
}

// runLabInit builds the lab and writes it out.
func runLabInit(opts *labInitOptions) error {
	pass := defaultP12Password
	if opts.P12PasswordFile != "" {
		b, err := os.ReadFile(opts.P12PasswordFile)
		if err != nil {
			return err
		}
		line, _, _ := bytes.Cut(b, []byte("\n"))
		pass = string(bytes.TrimSuffix(line, []byte("\r")))
		if pass == "" {
			return usagef(nil, "the password in --p12-password-file %q is empty", opts.P12PasswordFile)
		}
	}
	l, err := lab.New(lab.Options{Seed: opts.Seed, Domain: opts.Domain, CRLBaseURL: opts.CRLURL,
		OCSPURL: opts.OCSPURL, CAIssuersBaseURL: opts.CAIssuersURL, PQ: opts.PQ, LegacyPKCS12: opts.P12Legacy})
	if err != nil {
		return usagef(nil, "%w", err)
	}
	if err := l.WriteDir(opts.Dir, pass); err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return err
		}
		return setupErrorf("%w", err)
	}
	if opts.Verbose {
		entries, err := os.ReadDir(opts.Dir)
		if err != nil {
			return err
		}
		for _, ent := range entries {
			fmt.Fprintf(opts.Stderr, "smimectl: wrote %s\n", filepath.Join(opts.Dir, ent.Name()))
		}
	}
	// One line of what was done (issue #16 item 15), on standard error: no data.
	fmt.Fprintf(opts.Stderr, "smimectl: wrote a test lab to %q, described in %s; the .p12 password is in %s\n",
		opts.Dir, filepath.Join(opts.Dir, "README.md"), filepath.Join(opts.Dir, lab.P12PasswordFile))
	return nil
}
