package main

import (
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/smimectl/smimectl/pkg/sign"
)

// certsOnlyOptions are the options of certs-only.
type certsOnlyOptions struct {
	Certs []string // --cert
	Out   string   // --out
	DER   bool     // --der: the bare .p7c, no MIME header
	// Verbose (-v): a line per certificate on standard error (issue #16 item 7)
	Verbose bool
	env     *env
}

func newCertsOnlyCmd(e *env, runF func(*certsOnlyOptions) error) *cobra.Command {
	opts := &certsOnlyOptions{env: e}
	cmd := &cobra.Command{
		Use:   "certs-only --cert <file>... [--out <file>] [--der]",
		Short: "Write a certs-only message to send your certificates to a correspondent",
		Long: `Write an application/pkcs7-mime; smime-type=certs-only message (RFC 8551
section 3.6) holding the certificates of the --cert files, in the order given:
the way to send a correspondent your certificates (and their chain) so that
they can encrypt to you. With --der the output is the bare PKCS#7 (a .p7c
file), the form of the directory's userSMIMECertificate values.

Every command that takes --certs, --trust or --recipient-cert reads such a
message, or a .p7c file, as a list of certificates.`,
		Example: `  smimectl certs-only --cert alice-sign.crt --cert alice-encrypt.crt --cert chain.pem --out alice.p7c.eml
  smimectl cert-match alice@example.com --purpose encrypt --certs alice.p7c.eml`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(*cobra.Command, []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runCertsOnly(opts)
		},
	}
	fs := cmd.Flags()
	fs.StringArrayVar(&opts.Certs, "cert", nil, "put the certificates of `file` in the message (repeatable)")
	fs.StringVarP(&opts.Out, "out", "o", "", "write to `file` instead of standard output")
	fs.BoolVar(&opts.DER, "der", false, "write the bare DER PKCS#7 (.p7c) instead of a MIME message")
	fs.BoolVarP(&opts.Verbose, "verbose", "v", false, "say which certificates the message holds, and which were left out as copies, on standard error")
	markFileFlag(fs, "cert", certExts...)
	return cmd
}

func runCertsOnly(opts *certsOnlyOptions) error {
	if len(opts.Certs) == 0 {
		return usagef([]string{"name your certificate files with --cert"}, "certs-only needs --cert")
	}
	certs, err := loadCertificates("--cert", opts.Certs)
	if err != nil {
		return err
	}
	var uniq []*x509.Certificate
	for _, c := range certs {
		dup := false
		for _, u := range uniq {
			dup = dup || u.Equal(c)
		}
		if !dup {
			uniq = append(uniq, c)
		}
		if opts.Verbose {
			what := "adding"
			if dup {
				what = "leaving out a second copy of"
			}
			fmt.Fprintf(opts.env.Stderr, "smimectl: %s %s serial %X\n", what, holder(c), c.SerialNumber)
		}
	}
	der, err := sign.CertsOnly(uniq)
	if err != nil {
		return err
	}
	w, commit, abort := openOutput(opts.env, opts.Out)
	defer abort()
	if opts.DER {
		_, err = w.Write(der)
	} else {
		err = writeCertsOnlyMIME(w, der)
	}
	if err != nil {
		return err
	}
	return commit()
}

// writeCertsOnlyMIME writes der as RFC 8551 section 3.6 says: a
// certs-only entity named smime.p7c, base64 in lines of 76.
func writeCertsOnlyMIME(w io.Writer, der []byte) error {
	b64 := base64.StdEncoding.EncodeToString(der)
	var body []byte
	for len(b64) > 76 {
		body = append(append(body, b64[:76]...), '\r', '\n')
		b64 = b64[76:]
	}
	body = append(append(body, b64...), '\r', '\n')
	_, err := fmt.Fprintf(w, "MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=certs-only; name=smime.p7c\r\n"+
		"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=smime.p7c\r\n\r\n%s", body)
	return err
}
