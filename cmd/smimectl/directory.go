package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/smimectl/smimectl/pkg/directory"
)

// directoryFlags are the flags every directory subcommand shares: where the
// directory is, how to bind, what to read.
type directoryFlags struct {
	URL       string        // --ldap: ldap://host:port or ldaps://host:port
	Base      string        // --base: base DN; default from the URL's path, then the root DSE
	BindDN    string        // --ldap-bind-dn
	PassFile  string        // --ldap-pass-file
	PassEnv   string        // --ldap-pass-env
	CA        []string      // --ldap-ca
	StartTLS  bool          // --ldap-starttls
	Timeout   time.Duration // --timeout: each operation
	Attribute string        // --attribute: userSMIMECertificate or userCertificate
	Filter    string        // --filter: narrows the users
	PageSize  int           // --page-size
	Trust     []string      // --trust: the organisation's CA certificates
	Inter     []string      // --intermediates: its issuing CAs, for values without a chain
	JSON      bool          // --json
}

// directoryIntro points the directory commands at "smimectl help ldap".
const directoryIntro = `

The directory is --ldap ldap://host:port (or ldaps://): "smimectl help ldap"
says how it is reached, searched and bound to.`

// ldapDirectoryHelp describes --ldap of the directory commands, for "smimectl
// help ldap".
const ldapDirectoryHelp = `The directory is --ldap ldap://host:port (or ldaps://, or ldap:// with
--ldap-starttls; over TLS the server's certificate must chain to --ldap-ca,
else the system's roots). The search starts at --base, else at the URL's path,
else at the server's default naming context (its root DSE's
defaultNamingContext, or its one namingContexts value), as ListSMIMECerts
does. The bind is anonymous unless --ldap-bind-dn names a DN, its password from
--ldap-pass-file or --ldap-pass-env (never the command line). Users are the
entries of object class person below the base, narrowed by --filter (an LDAP
filter), read with a paged search of --page-size entries a page, so a large
directory is read a page at a time. Referrals are never followed: a search
that meets them says so on standard error.

A directory that does not answer within --timeout exits 75; a bind or an
operation the server refuses for lack of rights exits 2.`

func (f *directoryFlags) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&f.URL, "ldap", "", "the directory: ldap://host:port or ldaps://host:port (a path is the base DN)")
	fs.StringVar(&f.Base, "base", "", "search below `DN` (default: the URL's path, else the server's default naming context)")
	fs.StringVar(&f.BindDN, "ldap-bind-dn", "", "bind as `DN` (simple bind) instead of anonymously")
	fs.StringVar(&f.PassFile, "ldap-pass-file", "", "read the --ldap-bind-dn password from the first line of `file`")
	fs.StringVar(&f.PassEnv, "ldap-pass-env", "", "read the --ldap-bind-dn password from environment variable `name`")
	fs.StringArrayVar(&f.CA, "ldap-ca", nil, "verify the directory's TLS certificate with the CA certificates in `file` (repeatable)")
	fs.BoolVar(&f.StartTLS, "ldap-starttls", false, "upgrade the ldap:// connection to TLS with StartTLS before binding")
	fs.DurationVar(&f.Timeout, "timeout", directory.DefaultTimeout, "give up on a directory operation that has not answered within `duration`")
	enumFlag(fs, &f.Attribute, "attribute", "userSMIMECertificate", []string{"userSMIMECertificate", "userCertificate"},
		"the attribute whose values are read")
	fs.StringVar(&f.Filter, "filter", "", "only the users that match this LDAP `filter` too, e.g. '(ou=Sales)'")
	fs.IntVar(&f.PageSize, "page-size", directory.DefaultPageSize, "read `n` entries per page of the search")
	fs.StringArrayVar(&f.Trust, "trust", nil, "the organisation's CA certificates in `file`: values issued under them are trusted (repeatable)")
	fs.StringArrayVar(&f.Inter, "intermediates", nil, "the organisation's issuing CA certificates in `file`, for values that do not carry their chain (repeatable)")
	fs.BoolVar(&f.JSON, "json", false, "print the result as JSON")
	markFileFlag(fs, "intermediates", certExts...)
	markFileFlag(fs, "ldap-ca", certExts...)
	markFileFlag(fs, "trust", certExts...)
}

// attr is the attribute's name as LDAP reads it.
func (f *directoryFlags) attr() string {
	if f.Attribute == "userCertificate" {
		return directory.AttrCert
	}
	return directory.AttrSMIME
}

// check rejects flag combinations that can't work.
func (f *directoryFlags) check(cmd string) error {
	if f.URL == "" {
		return usagef([]string{"name the directory with --ldap ldap://host:port"}, "directory %s needs --ldap", cmd)
	}
	if f.PassFile != "" && f.PassEnv != "" {
		return usagef(nil, "--ldap-pass-file and --ldap-pass-env can't be used together")
	}
	hasPass := f.PassFile != "" || f.PassEnv != ""
	if f.BindDN != "" && !hasPass {
		return usagef([]string{"give the password with --ldap-pass-file or --ldap-pass-env"}, "--ldap-bind-dn needs a password")
	}
	if hasPass && f.BindDN == "" {
		return usagef([]string{"name the DN to bind as with --ldap-bind-dn"}, "a directory password needs --ldap-bind-dn")
	}
	if f.PageSize < 1 || f.PageSize > 100000 {
		return usagef(nil, "--page-size must be between 1 and 100000")
	}
	if _, err := directory.CheckFilter(f.Filter); err != nil {
		return usagef([]string{"give an LDAP filter such as '(ou=Sales)' or '(mail=*@example.com)'"}, "--filter: %s", libraryDetail(err))
	}
	return nil
}

// dial connects and binds.
func (f *directoryFlags) dial(e *env) (*directory.LDAPConn, error) {
	var roots *x509.CertPool
	if len(f.CA) > 0 {
		cas, err := loadCertificates("--ldap-ca", f.CA)
		if err != nil {
			return nil, err
		}
		roots = x509.NewCertPool()
		for _, c := range cas {
			roots.AddCert(c)
		}
	}
	sf := certSourceFlags{LDAPBindDN: f.BindDN, LDAPPassFile: f.PassFile, LDAPPassEnv: f.PassEnv}
	c, err := directory.Dial(context.Background(), directory.Config{URL: f.URL, StartTLS: f.StartTLS, RootCAs: roots,
		BindDN: f.BindDN, Password: sf.ldapPassword(e), Timeout: f.Timeout})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// base is --base, else the URL's path ("" lets the library ask the root DSE).
func (f *directoryFlags) base() string {
	if f.Base != "" {
		return f.Base
	}
	return directory.BaseFromURL(f.URL)
}

// scanOptions builds the scan's options; the trust roots are loaded here.
func (f *directoryFlags) scanOptions(e *env) (directory.ScanOptions, error) {
	var roots []*x509.Certificate
	if len(f.Trust) > 0 {
		var err error
		if roots, err = loadCertificates("--trust", f.Trust); err != nil {
			return directory.ScanOptions{}, err
		}
	}
	inter, err := loadCertificates("--intermediates", f.Inter)
	if err != nil {
		return directory.ScanOptions{}, err
	}
	return directory.ScanOptions{Base: f.base(), Filter: f.Filter, Attr: f.attr(), PageSize: f.PageSize,
		Judge: directory.Judge{Roots: roots, Intermediates: inter, Now: e.Now()}}, nil
}

// scan loads the scan's options (the trust roots, before any connection),
// connects, binds and runs the search with visit, warning of referrals and
// entries outside the base. On success the caller closes the connection.
func (f *directoryFlags) scan(e *env, visit func(*directory.User) error) (*directory.Summary, *directory.LDAPConn, error) {
	sopts, err := f.scanOptions(e)
	if err != nil {
		return nil, nil, err
	}
	c, err := f.dial(e)
	if err != nil {
		return nil, nil, err
	}
	sum, err := directory.Scan(context.Background(), c, sopts, visit)
	warnReferrals(e, sum)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return sum, c, nil
}

// termSafe is s for a terminal: control characters (escape sequences that
// could move the cursor, recolour or hide text) and bidirectional overrides
// that a hostile directory or certificate put in a name become visible
// \xNN or \uNNNN escapes; invalid UTF-8 becomes U+FFFD.
func termSafe(s string) string {
	bad := func(r rune) bool {
		return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == utf8.RuneError
	}
	if !strings.ContainsFunc(s, bad) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			b.WriteRune(r)
		case r < 0x100 && bad(r):
			fmt.Fprintf(&b, "\\x%02x", r)
		case bad(r):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// warnReferrals says on standard error that referrals were not followed,
// and that entries outside the base were ignored.
func warnReferrals(e *env, sum *directory.Summary) {
	if sum != nil && sum.Outside > 0 {
		fmt.Fprintf(e.Stderr, "%sthe server returned %d entries outside the base %s; ignored\n", warningPrefix, sum.Outside, termSafe(sum.Base))
	}
	if sum != nil && len(sum.Referrals) > 0 {
		fmt.Fprintf(e.Stderr, "%sthe search met %d referral(s), not followed: %s\n", warningPrefix, len(sum.Referrals), termSafe(strings.Join(sum.Referrals, ", ")))
	}
}

func newDirectoryCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "directory <command>",
		Short: "List, clean and publish users' certificates in an LDAP directory",
		Long: `Maintain the certificates users publish in the directory, as the guide's
Appendix C script ListSMIMECerts and Chapter 6's "Publish to GAL" do, without
their risks: nothing changes without --apply, every change is first written to
an LDIF backup that ldapmodify restores, values are removed one by one (never
the attribute), and each user's change is one atomic LDAP modify, so no user is
left half-changed.` + directoryIntro,
		Example: `  smimectl directory list --ldap ldap://dc.example.com --verbose --trust corp-root.crt
  smimectl directory clean --ldap ldap://dc.example.com --only untrusted --trust corp-root.crt
  smimectl directory publish --ldap ldap://dc.example.com --p12 alice.p12 --pass-file p12.pass`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return usagef([]string{"the directory commands are list, clean and publish"}, "unknown command %q for smimectl directory", args[0])
		},
	}
	cmd.AddCommand(newDirectoryListCmd(e, nil), newDirectoryCleanCmd(e, nil), newDirectoryPublishCmd(e, nil))
	return cmd
}

// errNotConfirmed is a confirmation answered with anything but yes.
var errNotConfirmed = errors.New("not confirmed")

// ttyConfirm returns env.Confirm: it asks on the controlling terminal when
// standard input is one, and returns nil when there is no terminal to ask.
func ttyConfirm() func(prompt string) (bool, error) {
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return nil
	}
	return func(prompt string) (bool, error) {
		tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
		if err != nil {
			return false, errNotConfirmed
		}
		defer tty.Close()
		fmt.Fprint(tty, prompt)
		var line [16]byte
		n, _ := tty.Read(line[:])
		ans := strings.ToLower(strings.TrimSpace(string(line[:n])))
		return ans == "y" || ans == "yes", nil
	}
}
