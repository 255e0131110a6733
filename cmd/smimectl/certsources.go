package main

import (
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/smimectl/smimectl/pkg/certsel"
)

// certSourceFlags name where certificate selection looks (pkg/certsel): files,
// directories, PKCS#12 files and directories over LDAP (ldap://host:port/base-dn). The passphrase of
// PKCS#12 files and encrypted keys comes from the command's --pass-file/--pass-env.
type certSourceFlags struct {
	Certs     []string      // --certs: file, directory, .p12/.pfx, repeatable
	NoProxies bool          // --no-proxies: do not match through directory aliases
	AttrOrder string        // --attr-order: cert-first (Outlook Web Access) or smime-first (Outlook)
	Timeout   time.Duration // --lookup-timeout: bound on each directory lookup
}

func (f *certSourceFlags) addFlags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&f.Certs, "certs", nil, "look for certificates in `source`: a file, a directory, a .p12 file or ldap://host:port/base-dn (repeatable)")
	fs.BoolVar(&f.NoProxies, "no-proxies", false, "do not match an address through the proxy addresses (aliases) a directory lists")
	enumFlag(fs, &f.AttrOrder, "attr-order", "cert-first", []string{"cert-first", "smime-first"},
		"which directory attribute wins: userCertificate (Outlook Web Access) or userSMIMECertificate (Outlook)")
	fs.DurationVar(&f.Timeout, "lookup-timeout", certsel.DefaultLookupTimeout, "give up on a directory that has not answered within `duration`")
	markFileFlag(fs, "certs", append(append([]string(nil), certExts...), p12Exts...)...)
}

// sources turns --certs into certsel sources; pass is the passphrase source of
// PKCS#12 files and encrypted keys (nil if none was given).
func (f *certSourceFlags) sources(pass passphraseFunc) []certsel.Source {
	var out []certsel.Source
	for _, c := range f.Certs {
		if strings.HasPrefix(strings.ToLower(c), "ldap://") {
			out = append(out, certsel.LDAP{URL: c, SMIMEFirst: f.AttrOrder == "smime-first", Timeout: f.Timeout})
			continue
		}
		switch strings.ToLower(filepath.Ext(c)) {
		case ".p12", ".pfx":
			out = append(out, certsel.PKCS12{Path: c, Password: pass})
		default:
			out = append(out, certsel.Files{Path: c, Passphrase: pass})
		}
	}
	return out
}

// passGiven is the key flags' passphrase source if --pass-file or --pass-env was
// given, else nil.
func (f *keyFlags) passGiven(e *env) passphraseFunc {
	if f.PassFile == "" && f.PassEnv == "" {
		return nil
	}
	return f.passphrase(e)
}
