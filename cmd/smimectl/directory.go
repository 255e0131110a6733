package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/smimectl/smimectl/internal/certinfo"
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

const directoryIntro = `

The directory is --ldap ldap://host:port (or ldaps://, or ldap:// with
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

// warnReferrals says on standard error that referrals were not followed.
func warnReferrals(e *env, sum *directory.Summary) {
	if sum != nil && len(sum.Referrals) > 0 {
		fmt.Fprintf(e.Stderr, "%sthe search met %d referral(s), not followed: %s\n", warningPrefix, len(sum.Referrals), strings.Join(sum.Referrals, ", "))
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
	sopts, err := opts.scanOptions(e)
	if err != nil {
		return err
	}
	c, err := opts.dial(e)
	if err != nil {
		return err
	}
	defer c.Close()
	out := newListJSON()
	if !opts.JSON {
		fmt.Fprintf(e.Stdout, "Users with %s values:\n", baseAttr(sopts.Attr))
	}
	sum, err := directory.Scan(context.Background(), c, sopts, func(u *directory.User) error {
		if opts.JSON {
			out.Users = append(out.Users, userToJSON(u))
			return nil
		}
		return writeUser(e.Stdout, u, opts.Verbose, "")
	})
	warnReferrals(e, sum)
	if err != nil {
		return err
	}
	if opts.JSON {
		out.fill(sum)
		return encodeJSON(e.Stdout, out)
	}
	_, err = fmt.Fprintln(e.Stdout, summaryLine(sum))
	return err
}

// summaryLine is ListSMIMECerts's summary.
func summaryLine(sum *directory.Summary) string {
	return fmt.Sprintf("Processed %d users. Found %d %s attributes with values.", sum.Users, sum.WithValues, baseAttr(sum.Attr))
}

func baseAttr(a string) string { return strings.TrimSuffix(a, ";binary") }

// writeUser writes a user's line and, verbose, its values; prefix starts
// the user's line (clean's verdict).
func writeUser(w io.Writer, u *directory.User, verbose bool, suffix string) error {
	fmt.Fprintf(w, "  %s (%s): %d value(s)%s\n", displayName(u.Name), u.DN, len(u.Values), suffix)
	if verbose {
		for i, v := range u.Values {
			writeValue(w, i+1, v, "")
		}
	}
	return nil
}

func displayName(n string) string {
	if n == "" {
		return "(no name)"
	}
	return n
}

// writeValue writes one value and its certificates, one line each.
func writeValue(w io.Writer, n int, v directory.Value, mark string) {
	fmt.Fprintf(w, "    value %d%s: %d bytes, sha256 %s\n", n, mark, len(v.Raw), v.SHA256()[:16])
	if v.Err != nil {
		fmt.Fprintf(w, "      unreadable: %s\n", libraryDetail(v.Err))
		return
	}
	for _, c := range v.Certs {
		fmt.Fprintf(w, "      %s (subject: %s) serial %X, valid %s..%s, %s\n", certinfo.Name(c.Issuer), certinfo.Name(c.Subject), c.SerialNumber,
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

// directoryCleanOptions are the options of directory clean.
type directoryCleanOptions struct {
	directoryFlags
	Only    string // --only: untrusted, expired, all
	Apply   bool   // --apply: change the directory
	Yes     bool   // --yes: do not ask
	Backup  string // --backup: the LDIF file
	Verbose bool
	env     *env
}

func newDirectoryCleanCmd(e *env, runF func(*directoryCleanOptions) error) *cobra.Command {
	opts := &directoryCleanOptions{env: e}
	cmd := &cobra.Command{
		Use:   "clean --ldap <url> --only {untrusted | expired | all} [--trust <file>]... [--apply [--yes]] [flags]",
		Short: "Remove certificates from users' userSMIMECertificate, with a backup",
		Long: `Remove values from the users' userSMIMECertificate (or userCertificate), as the
guide's ListSMIMECerts /remove does, but safely: --only untrusted removes the
values whose certificates were not issued under the organisation's CA (--trust;
a value that is not a readable certificate counts as untrusted), --only
expired those whose certificates have all expired, --only all every value.

Without --apply nothing changes: the command lists what it would remove. With
--apply it asks for confirmation on a terminal (not with --yes; without a
terminal --yes is required), then writes an LDIF backup of every value it is
about to remove (--backup, default directory-backup-<time>.ldif; a file that
exists is never replaced), synced to disk, before the first change. Each user's
values are removed in one LDAP modify that names each value, so the attribute
itself stays and a value added meanwhile stays too; if a value changed
meanwhile, the server refuses that user's whole modify. A user that fails is
reported and the others go on; the exit status is then non-zero. At the end
the backup is rewritten to hold exactly the values removed (a run stopped
midway leaves the first backup, of every planned removal: restore it with
ldapmodify -c, which skips the values that are still there). Restore with

  ldapmodify -H <url> -D <admin DN> -W -f <backup>` + directoryIntro,
		Example: `  # What would go? (dry run)
  smimectl directory clean --ldap ldap://dc.example.com --only untrusted --trust corp-root.crt --verbose

  # Remove them, with a backup, without asking.
  smimectl directory clean --ldap ldap://dc.example.com --only untrusted --trust corp-root.crt \
      --ldap-bind-dn cn=admin,dc=example,dc=com --ldap-pass-file admin.pw --apply --yes --backup removed.ldif`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(*cobra.Command, []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runDirectoryClean(opts)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	opts.directoryFlags.addFlags(fs)
	enumFlag(fs, &opts.Only, "only", "", []string{"untrusted", "expired", "all"}, "which values to remove")
	fs.BoolVar(&opts.Apply, "apply", false, "change the directory (without it, nothing changes)")
	fs.BoolVarP(&opts.Yes, "yes", "y", false, "with --apply, do not ask for confirmation")
	fs.StringVar(&opts.Backup, "backup", "", "write the removed values to LDIF `file` (default directory-backup-<time>.ldif)")
	fs.BoolVarP(&opts.Verbose, "verbose", "v", false, "show each value's certificates")
	markFileFlag(fs, "backup", ".ldif")
	return cmd
}

func runDirectoryClean(opts *directoryCleanOptions) error {
	e := opts.env
	if err := opts.check("clean"); err != nil {
		return err
	}
	if opts.Only == "" {
		return usagef([]string{"give --only untrusted, --only expired or --only all"}, "directory clean needs --only")
	}
	only, _ := directory.ParseOnly(opts.Only)
	if only == directory.OnlyUntrusted && len(opts.Trust) == 0 {
		return usagef([]string{"give the organisation's CA certificate with --trust"}, "--only untrusted needs --trust: without it no value can be told trusted")
	}
	if opts.Apply && !opts.Yes && e.Confirm == nil {
		return usagef([]string{"check the dry run's list, then add --yes"}, "--apply asks for confirmation on a terminal, and there is none")
	}
	sopts, err := opts.scanOptions(e)
	if err != nil {
		return err
	}
	c, err := opts.dial(e)
	if err != nil {
		return err
	}
	defer c.Close()
	var changes []*directory.Change
	sum, err := directory.Scan(context.Background(), c, sopts, func(u *directory.User) error {
		ch, err := directory.PlanClean(u, only)
		if ch != nil {
			changes = append(changes, ch)
		}
		return err
	})
	warnReferrals(e, sum)
	if err != nil {
		return err
	}
	rep := &cleanReport{opts: opts, sum: sum, changes: changes}
	if !opts.Apply || len(changes) == 0 {
		return rep.print(e)
	}
	if !opts.Yes {
		ok, err := e.Confirm(fmt.Sprintf("Remove %d value(s) from %d user(s) in %s? [y/N] ", rep.values(), len(changes), sum.Base))
		if err != nil {
			return err
		}
		if !ok {
			return usagef(nil, "not confirmed; nothing was changed")
		}
	}
	b := &directory.BackupFile{Path: opts.backupPath(e), Time: e.Now(),
		Header: []string{fmt.Sprintf("smimectl directory clean --only %s: the values removed from %s of the users below %s", opts.Only, baseAttr(sum.Attr), sum.Base),
			"restore them with: ldapmodify -H <url> -D <admin DN> -W -f <this file>"}}
	rep.backup = b.Path
	rep.outcomes, err = directory.Apply(context.Background(), c, changes, b)
	if rep.outcomes == nil {
		return err
	}
	if perr := rep.print(e); perr != nil {
		return perr
	}
	if err != nil {
		return err
	}
	return rep.failure()
}

// backupPath is --backup, else a new name in the current directory.
func (opts *directoryCleanOptions) backupPath(e *env) string {
	if opts.Backup != "" {
		return opts.Backup
	}
	return defaultBackup(e)
}

func defaultBackup(e *env) string {
	return "directory-backup-" + e.Now().UTC().Format("20060102T150405Z") + ".ldif"
}

// cleanReport is what clean did or would do.
type cleanReport struct {
	opts     *directoryCleanOptions
	sum      *directory.Summary
	changes  []*directory.Change
	outcomes []directory.Outcome // nil for a dry run
	backup   string
}

func (r *cleanReport) values() int {
	n := 0
	for _, ch := range r.changes {
		n += len(ch.Removed)
	}
	return n
}

// print writes the report, text or JSON, and each failed user's error on
// standard error.
func (r *cleanReport) print(e *env) error {
	var hints []string
	for _, o := range r.outcomes {
		if o.Err != nil {
			msg, hs := describe(o.Err)
			fmt.Fprintf(e.Stderr, "%suser %s (%s): %s\n", errorPrefix, displayName(o.Change.Name), o.Change.DN, msg)
			for _, h := range hs {
				if !slices.Contains(hints, h) {
					hints = append(hints, h)
				}
			}
		}
	}
	for _, h := range hints {
		fmt.Fprintf(e.Stderr, "%s%s\n", hintPrefix, h)
	}
	if r.opts.JSON {
		return encodeJSON(e.Stdout, r.toJSON())
	}
	w := e.Stdout
	if r.outcomes == nil && len(r.changes) > 0 {
		fmt.Fprintln(w, "Dry run: nothing was changed; run again with --apply to remove these values.")
	}
	for i, ch := range r.changes {
		verb := "would remove"
		if r.outcomes != nil {
			switch o := r.outcomes[i]; {
			case o.Err == nil:
				verb = "removed"
			case o.Unknown:
				verb = "may have removed (no answer)"
			default:
				verb = "failed to remove"
			}
		}
		fmt.Fprintf(w, "  %s (%s): %s %d of %d value(s) (%s)\n", displayName(ch.Name), ch.DN, verb, len(ch.Removed), len(ch.Removed)+ch.Kept, r.opts.Only)
		if r.opts.Verbose {
			for j, v := range ch.Removed {
				writeValue(w, j+1, v, "")
			}
		}
	}
	fmt.Fprintln(w, summaryLine(r.sum))
	if r.outcomes == nil {
		_, err := fmt.Fprintf(w, "%d value(s) of %d user(s) to remove.\n", r.values(), len(r.changes))
		return err
	}
	removed, failed := r.tally()
	fmt.Fprintf(w, "Removed %d value(s) from %d user(s); %d user(s) failed.\n", removed, len(r.changes)-failed, failed)
	_, err := fmt.Fprintf(w, "Backup: %s (restore with ldapmodify -f %s)\n", r.backup, r.backup)
	return err
}

func (r *cleanReport) tally() (removed, failed int) {
	for _, o := range r.outcomes {
		if o.Err != nil {
			failed++
		} else {
			removed += len(o.Change.Removed)
		}
	}
	return removed, failed
}

// failure is the run's error when a user failed: the first failure decides
// the exit status (a refusal 2, no answer 75).
func (r *cleanReport) failure() error {
	_, failed := r.tally()
	if failed == 0 {
		return nil
	}
	for _, o := range r.outcomes {
		if o.Err != nil {
			return &partialError{failed: failed, total: len(r.outcomes), backup: r.backup, err: o.Err}
		}
	}
	return nil
}

// partialError: some users' changes failed, the others were made. Its
// exit status is the first failure's.
type partialError struct {
	failed, total int
	backup        string
	err           error
}

func (e *partialError) Error() string {
	return fmt.Sprintf("%d of %d users could not be changed (see above); the others were, and the backup %q holds what was removed", e.failed, e.total, e.backup)
}
func (e *partialError) Unwrap() error { return e.err }

// directoryPublishOptions are the options of directory publish.
type directoryPublishOptions struct {
	directoryFlags
	Certs    []string // --cert
	P12s     []string // --p12
	PassFile string   // --pass-file
	PassEnv  string   // --pass-env
	DN       string   // --dn
	Replace  bool     // --replace
	Force    bool     // --force
	Apply    bool     // --apply
	Yes      bool     // --yes
	Backup   string   // --backup
	env      *env
}

func newDirectoryPublishCmd(e *env, runF func(*directoryPublishOptions) error) *cobra.Command {
	opts := &directoryPublishOptions{env: e}
	cmd := &cobra.Command{
		Use:   "publish --ldap <url> {--cert <file> | --p12 <file>}... [--dn <DN>] [--replace] [--apply [--yes]] [flags]",
		Short: "Publish a user's certificates to their directory entry (Publish to GAL)",
		Long: `Write a user's signing and encryption certificates to their directory entry,
as Outlook's "Publish to GAL" button does (the guide's Chapter 6): all of them,
with their chain, as one PKCS#7 certs-only value of userSMIMECertificate (the
form Outlook writes), and each certificate that can encrypt as a DER value of
userCertificate;binary. The certificates come from --cert files and --p12 files
(their password from --pass-file or --pass-env); CA certificates among them are
the chain.

The entry is the one whose mail or proxyAddresses (smtp:) is the certificates'
address, or --dn. A certificate that carries none of the entry's addresses, or
is expired or not yet valid, is refused; --force publishes it with a warning.
The new values are added to those there (a value already there is not added
again); --replace replaces them.

Without --apply nothing changes: the command shows what it would write. With
--apply it asks for confirmation on a terminal (not with --yes), then writes
an LDIF backup (--backup) that undoes the change before making it, in one LDAP
modify. cert-match and encrypt then find the published certificates with
--certs ldap://….` + directoryIntro,
		Example: `  smimectl directory publish --ldap ldap://dc.example.com --p12 alice-sign.p12 --p12 alice-encrypt.p12 --pass-file p12.pass
  smimectl directory publish --ldap ldap://dc.example.com --cert alice-sign.crt --cert alice-encrypt.crt --cert chain.pem \
      --ldap-bind-dn cn=admin,dc=example,dc=com --ldap-pass-file admin.pw --apply --yes`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(*cobra.Command, []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runDirectoryPublish(opts)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	opts.directoryFlags.addFlags(fs)
	fs.StringArrayVar(&opts.Certs, "cert", nil, "publish the certificates in `file` (repeatable; CA certificates are the chain)")
	fs.StringArrayVar(&opts.P12s, "p12", nil, "publish the certificates in PKCS#12 `file` (repeatable)")
	fs.StringVar(&opts.PassFile, "pass-file", "", "read the password of --p12 files from the first line of `file`")
	fs.StringVar(&opts.PassEnv, "pass-env", "", "read the password of --p12 files from environment variable `name`")
	fs.StringVar(&opts.DN, "dn", "", "publish to the entry `DN` instead of the one found by the certificates' address")
	fs.BoolVar(&opts.Replace, "replace", false, "replace the attributes' values instead of adding to them")
	fs.BoolVar(&opts.Force, "force", false, "publish a certificate that does not carry the entry's address or is expired, with a warning")
	fs.BoolVar(&opts.Apply, "apply", false, "change the directory (without it, nothing changes)")
	fs.BoolVarP(&opts.Yes, "yes", "y", false, "with --apply, do not ask for confirmation")
	fs.StringVar(&opts.Backup, "backup", "", "write what the change replaces to LDIF `file` (default directory-backup-<time>.ldif)")
	markFileFlag(fs, "cert", certExts...)
	markFileFlag(fs, "p12", p12Exts...)
	markFileFlag(fs, "backup", ".ldif")
	return cmd
}

func runDirectoryPublish(opts *directoryPublishOptions) error {
	e := opts.env
	if err := opts.check("publish"); err != nil {
		return err
	}
	if len(opts.Certs) == 0 && len(opts.P12s) == 0 {
		return usagef([]string{"name the certificates with --cert or --p12"}, "directory publish needs --cert or --p12")
	}
	if opts.Apply && !opts.Yes && e.Confirm == nil {
		return usagef([]string{"check the dry run, then add --yes"}, "--apply asks for confirmation on a terminal, and there is none")
	}
	certs, err := opts.loadCerts(e)
	if err != nil {
		return err
	}
	c, err := opts.dial(e)
	if err != nil {
		return err
	}
	defer c.Close()
	ch, warnings, err := directory.PlanPublish(context.Background(), c, directory.PublishOptions{
		Certs: certs, DN: opts.DN, Base: opts.base(), Replace: opts.Replace, Force: opts.Force, Now: e.Now()})
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintf(e.Stderr, "%spublishing anyway (--force): %s\n", warningPrefix, w)
	}
	rep := &publishReport{opts: opts, change: ch, warnings: warnings}
	if ch == nil || !opts.Apply {
		return rep.print(e)
	}
	if !opts.Yes {
		ok, err := e.Confirm(fmt.Sprintf("Publish %d certificate(s) to %s? [y/N] ", len(certs), ch.DN))
		if err != nil {
			return err
		}
		if !ok {
			return usagef(nil, "not confirmed; nothing was changed")
		}
	}
	b := &directory.BackupFile{Path: opts.Backup, Time: e.Now(),
		Header: []string{"smimectl directory publish: what the publication replaced or added in " + ch.DN,
			"undo it with: ldapmodify -H <url> -D <admin DN> -W -f <this file>"}}
	if b.Path == "" {
		b.Path = defaultBackup(e)
	}
	rep.backup = b.Path
	outs, err := directory.Apply(context.Background(), c, []*directory.Change{ch}, b)
	if err != nil {
		return err
	}
	rep.applied = true
	if outs[0].Err != nil {
		return outs[0].Err
	}
	return rep.print(e)
}

// loadCerts reads --cert and --p12 files, each certificate once.
func (opts *directoryPublishOptions) loadCerts(e *env) ([]*x509.Certificate, error) {
	certs, err := loadCertificates("--cert", opts.Certs)
	if err != nil {
		return nil, err
	}
	for _, p := range opts.P12s {
		kf := keyFlags{P12: p, PassFile: opts.PassFile, PassEnv: opts.PassEnv}
		id, err := kf.loadIdentity(e, "")
		if err != nil {
			return nil, err
		}
		certs = append(append(certs, id.Certificate), id.Chain...)
	}
	var out []*x509.Certificate
	for _, c := range certs {
		dup := false
		for _, o := range out {
			dup = dup || o.Equal(c)
		}
		if !dup {
			out = append(out, c)
		}
	}
	return out, nil
}

// publishReport is what publish did or would do.
type publishReport struct {
	opts     *directoryPublishOptions
	change   *directory.Change
	warnings []string
	applied  bool
	backup   string
}

func (r *publishReport) print(e *env) error {
	if r.opts.JSON {
		return encodeJSON(e.Stdout, r.toJSON())
	}
	w := e.Stdout
	if r.change == nil {
		_, err := fmt.Fprintln(w, "Nothing to do: the entry holds these certificates already.")
		return err
	}
	if !r.applied {
		fmt.Fprintln(w, "Dry run: nothing was changed; run again with --apply to write these values.")
	}
	fmt.Fprintf(w, "%s (%s):\n", displayName(r.change.Name), r.change.DN)
	for _, m := range r.change.Mods {
		fmt.Fprintf(w, "  %s %s: %d value(s)\n", m.Op, m.Attr, len(m.Values))
	}
	if r.applied {
		_, err := fmt.Fprintf(w, "Published. Backup: %s (undo with ldapmodify -f %s)\n", r.backup, r.backup)
		return err
	}
	return nil
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

// Wording of directory failures (report.go's describers), for the error cases
// of the guide's ListSMIMECerts (Appendix C "Troubleshooting").

func describePartialError(e *partialError) (string, []string) {
	return e.Error(), []string{"each failed user's error is above; those users were left as they were, so run again once the cause is fixed"}
}

func describeDirectoryUnavailable(e *directory.UnavailableError) (string, []string) {
	return "the directory is unavailable: " + libraryDetail(e.Err) + " (" + e.Op + ")",
		[]string{"check --ldap, the network and the server; try again later, or raise --timeout"}
}

func describeDirectoryPermission(e *directory.PermissionError) (string, []string) {
	what := "no permission to " + e.Op
	if e.DN != "" {
		what += " " + e.DN
	}
	if e.Op == "bind as" {
		return "the directory refused the bind as " + e.DN + ": " + libraryDetail(e.Err),
			[]string{"check --ldap-bind-dn and the password in --ldap-pass-file or --ldap-pass-env"}
	}
	return "the directory refused: " + what,
		[]string{"bind with --ldap-bind-dn as an account allowed to read and write the users' certificate attributes"}
}

func describeNoNamingContext(err error) (string, []string, bool) {
	if !errors.Is(err, directory.ErrNoNamingContext) {
		return "", nil, false
	}
	return "the directory names no default naming context to search: " + libraryDetail(err),
		[]string{"give the base DN to search with --base, e.g. --base dc=example,dc=com"}, true
}

func describeNoEquality(err error) (string, []string, bool) {
	if !errors.Is(err, directory.ErrNoEquality) {
		return "", nil, false
	}
	return "the directory can't delete single values of the attribute: its schema has no equality matching rule for it",
		[]string{"give the attribute an equality rule in the server's schema (EQUALITY octetStringMatch, as Active Directory has); smimectl never deletes the whole attribute instead"}, true
}

func describeRefusedError(e *directory.RefusedError) (string, []string) {
	return "refusing to publish: " + strings.Join(e.Reasons, "; "),
		[]string{"publish the user's own, current certificates, or add --force if you are sure"}
}

func describeTooLarge(err error) (string, []string, bool) {
	if !errors.Is(err, directory.ErrResponseTooLarge) {
		return "", nil, false
	}
	return libraryDetail(err), []string{"a page of a search may not exceed 64 MiB; lower --page-size, or check that the server is the directory you meant"}, true
}
