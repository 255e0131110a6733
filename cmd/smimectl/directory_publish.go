package main

import (
	"context"
	"crypto/x509"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/smimectl/smimectl/pkg/directory"
)

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
	Verbose  bool     // -v: each certificate to publish (issue #16 item 7)
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
again); --replace replaces them (an attribute it has no new value for, such as
userCertificate when no certificate can encrypt, is left as it is).

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
	fs.BoolVarP(&opts.Verbose, "verbose", "v", false, "say which certificates were read, from --cert and --p12, on standard error")
	fs.StringVar(&opts.Backup, "backup", "", "write what the change replaces to LDIF `file` (default directory-backup-<time>.ldif)")
	markFileFlag(fs, "cert", certExts...)
	markFileFlag(fs, "p12", p12Exts...)
	markFileFlag(fs, "backup", "ldif")
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
	if opts.Verbose {
		for _, c := range certs {
			fmt.Fprintf(e.Stderr, "smimectl: certificate %s serial %X\n", holder(c), c.SerialNumber)
		}
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
		fmt.Fprintf(e.Stderr, "%spublishing anyway (--force): %s\n", warningPrefix, termSafe(w))
	}
	rep := &publishReport{opts: opts, change: ch, warnings: warnings}
	if ch == nil || !opts.Apply {
		return rep.print(e)
	}
	if !opts.Yes {
		ok, err := e.Confirm(fmt.Sprintf("Publish %d certificate(s) to %s? [y/N] ", len(certs), termSafe(ch.DN)))
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
	outs, err := applyWithBackup(e, c, []*directory.Change{ch}, b)
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
	fmt.Fprintf(w, "%s (%s):\n", displayName(r.change.Name), termSafe(r.change.DN))
	for _, m := range r.change.Mods {
		fmt.Fprintf(w, "  %s %s: %d value(s)\n", m.Op, m.Attr, len(m.Values))
	}
	if r.applied {
		_, err := fmt.Fprintf(w, "Published. Backup: %s (undo with ldapmodify -f %s)\n", r.backup, r.backup)
		return err
	}
	return nil
}
