package main

import (
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/smimectl/smimectl/pkg/certsel"
)

// certSourceFlags name where certificate selection looks (pkg/certsel): files,
// directories, PKCS#12 files and, later, directories over LDAP. The passphrase of
// PKCS#12 files and encrypted keys comes from the command's --pass-file/--pass-env.
type certSourceFlags struct {
	Certs     []string // --certs: file, directory, .p12/.pfx, repeatable
	NoProxies bool     // --no-proxies: do not match through directory aliases
}

func (f *certSourceFlags) addFlags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&f.Certs, "certs", nil, "look for certificates in `source`: a file, a directory or a .p12 file (repeatable)")
	fs.BoolVar(&f.NoProxies, "no-proxies", false, "do not match an address through the proxy addresses (aliases) a directory lists")
	markFileFlag(fs, "certs", append(append([]string(nil), certExts...), p12Exts...)...)
}

// sources turns --certs into certsel sources; pass is the passphrase source of
// PKCS#12 files and encrypted keys (nil if none was given).
func (f *certSourceFlags) sources(pass passphraseFunc) []certsel.Source {
	var out []certsel.Source
	for _, c := range f.Certs {
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
