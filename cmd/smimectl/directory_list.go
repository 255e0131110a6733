package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/smimectl/smimectl/pkg/certsel"
	"github.com/smimectl/smimectl/pkg/directory"
)

// directoryListOptions are the options of directory list.
type directoryListOptions struct {
	directoryFlags
	Verbose bool
	env     *env
}

func newDirectoryListCmd(e *env, runF func(*directoryListOptions) error) *cobra.Command {
	opts := &directoryListOptions{env: e}
	cmd := &cobra.Command{
		Use:   "list --ldap <url> [--base <DN>] [--verbose [--trust <file>]...] [flags]",
		Short: "List the users whose userSMIMECertificate holds certificates",
		Long: `List each user (display name and DN) whose userSMIMECertificate (or, with
--attribute userCertificate, userCertificate) has values, as the guide's
ListSMIMECerts does, and end with its summary: "Processed N users. Found M
userSMIMECertificate attributes with values."

With --verbose, each value's certificates follow: issuer, subject, serial
number, validity, and whether the certificate was issued under the
organisation's CA (--trust; "trust not checked" without it) and has expired.
A value that is not a readable certificate or PKCS#7 bundle is listed as
unreadable, with the reason.` + directoryIntro,
		Example: `  smimectl directory list --ldap ldap://dc.example.com
  smimectl directory list --ldap ldap://dc.example.com/dc=example,dc=com --verbose --trust corp-root.crt
  smimectl directory list --ldap ldaps://dc.example.com --ldap-bind-dn cn=reader,dc=example,dc=com --ldap-pass-file pw --json`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(*cobra.Command, []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runDirectoryList(opts)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	opts.directoryFlags.addFlags(fs)
	fs.BoolVarP(&opts.Verbose, "verbose", "v", false, "show each value's certificates: issuer, subject, serial, validity, trust")
	return cmd
}

func runDirectoryList(opts *directoryListOptions) error {
	e := opts.env
	if err := opts.check("list"); err != nil {
		return err
	}
	out := newListJSON()
	// The heading comes with the first user or the summary: a search that
	// fails prints nothing on standard output.
	printed := false
	header := func() {
		if !printed {
			fmt.Fprintf(e.Stdout, "Users with %s values:\n", baseAttr(opts.attr()))
			printed = true
		}
	}
	sum, c, err := opts.scan(e, func(u *directory.User) error {
		if opts.JSON {
			out.Users = append(out.Users, userToJSON(u))
			return nil
		}
		header()
		writeUser(e.Stdout, u, opts.Verbose)
		return nil
	})
	if err != nil {
		return err
	}
	c.Close()
	if opts.JSON {
		out.fill(sum)
		return encodeJSON(e.Stdout, out)
	}
	header()
	_, err = fmt.Fprintln(e.Stdout, summaryLine(sum))
	return err
}

// summaryLine is ListSMIMECerts's summary.
func summaryLine(sum *directory.Summary) string {
	return fmt.Sprintf("Processed %d users. Found %d %s attributes with values.", sum.Users, sum.WithValues, baseAttr(sum.Attr))
}

func baseAttr(a string) string { return strings.TrimSuffix(a, ";binary") }

// writeUser writes a user's line and, verbose, its values.
func writeUser(w io.Writer, u *directory.User, verbose bool) {
	fmt.Fprintf(w, "  %s (%s): %d value(s)\n", displayName(u.Name), termSafe(u.DN), len(u.Values))
	if verbose {
		for i, v := range u.Values {
			writeValue(w, i+1, v)
		}
	}
}

func displayName(n string) string {
	if n == "" {
		return "(no name)"
	}
	return termSafe(n)
}

// writeValue writes one value and its certificates, one line each.
func writeValue(w io.Writer, n int, v directory.Value) {
	fmt.Fprintf(w, "    value %d: %d bytes, sha256 %s\n", n, len(v.Raw), v.SHA256()[:16])
	if v.Err != nil {
		fmt.Fprintf(w, "      unreadable: %s\n", termSafe(libraryDetail(v.Err)))
		return
	}
	for _, c := range v.Certs {
		fmt.Fprintf(w, "      %s (subject: %s) serial %X, valid %s..%s, %s\n", termSafe(certsel.Name(c.Issuer)), termSafe(certsel.Name(c.Subject)), c.SerialNumber,
			c.NotBefore.UTC().Format(time.DateOnly), c.NotAfter.UTC().Format(time.DateOnly), certState(v, c))
	}
}

// certState says what a value's certificate is: a CA certificate of the
// chain, or an end-entity one trusted or not, expired or not.
func certState(v directory.Value, c directory.Cert) string {
	if !c.EndEntity {
		return "CA certificate"
	}
	s := "trust not checked"
	if v.TrustChecked {
		s = "untrusted"
		if c.Trusted {
			s = "trusted"
		}
	}
	if c.Expired {
		s += ", expired"
	}
	return s
}
