package main

import (
	"crypto/x509"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/smimectl/smimectl/internal/keys"
	"github.com/smimectl/smimectl/pkg/certsel"
)

// certSourceFlags name where certificate selection looks (pkg/certsel): files,
// directories, PKCS#12 files and directories over LDAP (ldap://host:port/base-dn). The passphrase of
// PKCS#12 files and encrypted keys comes from the command's --pass-file/--pass-env;
// the directory's bind password from --ldap-pass-file/--ldap-pass-env, never
// from the command line.
type certSourceFlags struct {
	Certs        []string      // --certs: file, directory, .p12/.pfx, repeatable
	NoProxies    bool          // --no-proxies: do not match through directory aliases
	AttrOrder    string        // --attr-order: cert-first (Outlook Web Access) or smime-first (Outlook)
	Timeout      time.Duration // --lookup-timeout: bound on each directory lookup
	LDAPBindDN   string        // --ldap-bind-dn: simple bind as this DN instead of anonymously
	LDAPPassFile string        // --ldap-pass-file: file whose first line is the bind password
	LDAPPassEnv  string        // --ldap-pass-env: environment variable holding the bind password
	LDAPCA       []string      // --ldap-ca: roots that verify the directory's TLS certificate
	StartTLS     bool          // --ldap-starttls: upgrade ldap:// connections with StartTLS
}

// directoryHelp points the commands that take certSourceFlags at "smimectl help
// ldap", which says how ldap:// sources are searched (issue #16 item 10).
const directoryHelp = `
--certs ldap://host:port/base-dn (or ldaps://) looks the address up in a
directory: "smimectl help ldap" says how.`

// ldapCertsHelp describes the ldap:// sources of --certs, for "smimectl help ldap".
const ldapCertsHelp = `An ldap://host:port/base-dn or ldaps://host:port/base-dn source is searched
below base-dn for entries whose mail, otherMailbox or proxyAddresses (smtp:)
is the address (for an internationalised domain, in both its A-label and
U-label forms: xn--bcher-kva.example and bücher.example), reading
userCertificate;binary before userSMIMECertificate
(Outlook Web Access), or the reverse with --attr-order smime-first (Outlook).
--ldap-starttls upgrades ldap:// connections to TLS; over TLS the directory's
certificate must chain to a CA in --ldap-ca (else the system's roots) and name
the URL's host. The search is anonymous unless --ldap-bind-dn names a DN to
bind as, its password from --ldap-pass-file or --ldap-pass-env (never the
command line). Contacts come after users: a certificate from a user's entry
(person, inetOrgPerson, user) wins over one from a contact entry (objectClass
contact, Active Directory's mail contacts, someone's copy of another person's
certificate), whatever their key usages. A directory that does not answer
within --lookup-timeout fails with exit status 75.`

func (f *certSourceFlags) addFlags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&f.Certs, "certs", nil, "look for certificates in `source`: a file, a directory, a .p12 file, ldap:// or ldaps://host:port/base-dn, a smart card's pkcs11: URI (repeatable)")
	fs.BoolVar(&f.NoProxies, "no-proxies", false, "do not match an address through the proxy addresses (aliases) a directory lists")
	enumFlag(fs, &f.AttrOrder, "attr-order", "cert-first", []string{"cert-first", "smime-first"},
		"which directory attribute wins: userCertificate (Outlook Web Access) or userSMIMECertificate (Outlook)")
	fs.DurationVar(&f.Timeout, "lookup-timeout", certsel.DefaultLookupTimeout, "give up on a directory that has not answered within `duration`")
	fs.StringVar(&f.LDAPBindDN, "ldap-bind-dn", "", "bind to ldap:// sources as `DN` (simple bind) instead of anonymously")
	fs.StringVar(&f.LDAPPassFile, "ldap-pass-file", "", "read the --ldap-bind-dn password from the first line of `file`")
	fs.StringVar(&f.LDAPPassEnv, "ldap-pass-env", "", "read the --ldap-bind-dn password from environment variable `name`")
	fs.BoolVar(&f.StartTLS, "ldap-starttls", false, "upgrade ldap:// connections to TLS with StartTLS before binding or searching")
	fs.StringArrayVar(&f.LDAPCA, "ldap-ca", nil, "verify the TLS certificate of ldaps:// and --ldap-starttls directories with the CA certificates in `file` instead of the system's (repeatable)")
	markFileFlag(fs, "ldap-ca", certExts...)
	markFileFlag(fs, "certs", append(append([]string(nil), certExts...), p12Exts...)...)
}

// sources turns --certs into certsel sources; pass is the passphrase source of
// PKCS#12 files and encrypted keys (nil if none was given).
//
// A pkcs11: source is a smart card or token: it is opened (and logged in with
// tok's PIN source when needKeys, or when a PIN source is named) and stays
// open until the command ends.
func (f *certSourceFlags) sources(e *env, pass passphraseFunc, tok *tokenFlags, needKeys bool) ([]certsel.Source, error) {
	if f.LDAPPassFile != "" && f.LDAPPassEnv != "" {
		return nil, usagef(nil, "--ldap-pass-file and --ldap-pass-env can't be used together")
	}
	hasPass := f.LDAPPassFile != "" || f.LDAPPassEnv != ""
	if f.LDAPBindDN != "" && !hasPass {
		return nil, usagef([]string{"give the password with --ldap-pass-file or --ldap-pass-env"}, "--ldap-bind-dn needs a password")
	}
	if hasPass && f.LDAPBindDN == "" {
		return nil, usagef([]string{"name the DN to bind as with --ldap-bind-dn"}, "a directory password needs --ldap-bind-dn")
	}
	var roots *x509.CertPool
	if len(f.LDAPCA) > 0 {
		cas, err := loadCertificates("--ldap-ca", f.LDAPCA)
		if err != nil {
			return nil, err
		}
		roots = x509.NewCertPool()
		for _, c := range cas {
			roots.AddCert(c)
		}
	}
	var out []certsel.Source
	for _, c := range f.Certs {
		if keys.IsPKCS11URI(c) {
			src, err := tok.openToken(e, c, needKeys)
			if err != nil {
				return nil, err
			}
			out = append(out, src)
			continue
		}
		if lc := strings.ToLower(c); strings.HasPrefix(lc, "ldap://") || strings.HasPrefix(lc, "ldaps://") {
			out = append(out, certsel.LDAP{URL: c, SMIMEFirst: f.AttrOrder == "smime-first", Timeout: f.Timeout,
				BindDN: f.LDAPBindDN, Password: f.ldapPassword(e), RootCAs: roots,
				StartTLS: f.StartTLS && strings.HasPrefix(lc, "ldap://")})
			continue
		}
		switch strings.ToLower(filepath.Ext(c)) {
		case ".p12", ".pfx":
			// Issue #16 item 15: say what is missing, as sign --p12 does,
			// rather than "incorrect passphrase" for a password never given.
			if pass == nil {
				return nil, usagef([]string{"give the password of the PKCS#12 file with --pass-file or --pass-env"},
					"--certs %q needs a password", c)
			}
			out = append(out, certsel.PKCS12{Path: c, Password: pass})
		default:
			out = append(out, certsel.Files{Path: c, Passphrase: pass})
		}
	}
	return out, nil
}

// ldapPassword reads the bind password from --ldap-pass-file or
// --ldap-pass-env when the directory is asked. It never appears in an error.
func (f *certSourceFlags) ldapPassword(e *env) func() ([]byte, error) {
	if f.LDAPBindDN == "" {
		return nil
	}
	return func() ([]byte, error) {
		if f.LDAPPassFile != "" {
			return readFirstLine(f.LDAPPassFile)
		}
		v := e.Getenv(f.LDAPPassEnv)
		if v == "" {
			return nil, usagef(nil, "environment variable %s named by --ldap-pass-env is empty or unset", f.LDAPPassEnv)
		}
		return []byte(v), nil
	}
}

// passGiven is the key flags' passphrase source if --pass-file or --pass-env was
// given, else nil.
func (f *keyFlags) passGiven(e *env) passphraseFunc {
	if f.PassFile == "" && f.PassEnv == "" {
		return nil
	}
	return f.passphrase(e)
}
