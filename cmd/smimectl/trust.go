package main

import (
	"crypto/x509"
	"encoding/pem"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// The trust anchors a command checks chains against: --trust files and
// directories, and the word "system" for the operating system's store
// (issue #16 item 1).

// trustSystem is the --trust value that names the operating system's store. A
// file of that name is given as ./system.
const trustSystem = "system"

// trustUsage is the help text of --trust.
const trustUsage = "trust the root certificates in `file` or directory (repeatable); \"system\" is the operating system's store, " +
	"whose public web PKI roots rarely issue S/MIME certificates"

// errNoTrust is the setup error of a command that must build a chain and was
// given nothing to trust (issue #16 item 2): without anchors every signer would
// be "untrusted", which reads as a verdict on the message, not on the setup.
func errNoTrust() error {
	return withHint(setupErrorf("no trust anchors: give --trust FILE|DIR|system or set trust in the config file"),
		`"smimectl help config" says where the config file is and how to write it`)
}

// loadTrust reads the root certificates --trust names: files, directories and
// "system".
func loadTrust(e *env, paths []string) ([]*x509.Certificate, error) {
	var all []*x509.Certificate
	for _, p := range paths {
		if p != trustSystem {
			certs, err := loadCertificates("--trust", []string{p})
			if err != nil {
				return nil, err
			}
			all = append(all, certs...)
			continue
		}
		certs, err := systemRoots(e.Getenv, runtime.GOOS)
		if err != nil {
			return nil, err
		}
		all = append(all, certs...)
	}
	return all, nil
}

// System store locations, as crypto/x509 looks for them on Linux and the BSDs
// (root_linux.go, root_bsd.go): the first bundle file that can be read, and
// every file in every directory.
var (
	linuxCertFiles = []string{
		"/etc/ssl/certs/ca-certificates.crt",                // Debian/Ubuntu/Gentoo etc.
		"/etc/pki/tls/certs/ca-bundle.crt",                  // Fedora/RHEL 6
		"/etc/ssl/ca-bundle.pem",                            // OpenSUSE
		"/etc/pki/tls/cacert.pem",                           // OpenELEC
		"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS/RHEL 7
		"/etc/ssl/cert.pem",                                 // Alpine Linux
	}
	linuxCertDirs = []string{"/etc/ssl/certs", "/etc/pki/tls/certs"}
	bsdCertFiles  = []string{
		"/usr/local/etc/ssl/cert.pem",            // FreeBSD
		"/etc/ssl/cert.pem",                      // OpenBSD
		"/usr/local/share/certs/ca-root-nss.crt", // DragonFly
		"/etc/openssl/certs/ca-certificates.crt", // NetBSD
	}
	bsdCertDirs = []string{"/etc/ssl/certs", "/usr/local/share/certs", "/etc/openssl/certs"}
)

// systemRoots returns the operating system's root certificates the way
// crypto/x509's SystemCertPool finds them on Unix: SSL_CERT_FILE (else the
// first of the usual bundle files that exists), then every file in
// SSL_CERT_DIR (a colon-separated list; else the usual directories).
// crypto/x509 does not hand out the certificates of its pool, and the chain
// builder takes certificates, so the lookup is repeated here.
func systemRoots(getenv func(string) string, goos string) ([]*x509.Certificate, error) {
	var files, dirs []string
	switch goos {
	case "linux", "android":
		files, dirs = linuxCertFiles, linuxCertDirs
	case "freebsd", "openbsd", "netbsd", "dragonfly":
		files, dirs = bsdCertFiles, bsdCertDirs
	default:
		if getenv("SSL_CERT_FILE") == "" && getenv("SSL_CERT_DIR") == "" {
			return nil, withHint(setupErrorf("--trust system: smimectl can't read the %s certificate store", goos),
				"export the roots to a PEM file and give it with --trust, or set SSL_CERT_FILE or SSL_CERT_DIR")
		}
	}
	if f := getenv("SSL_CERT_FILE"); f != "" {
		files = []string{f}
	}
	if d := getenv("SSL_CERT_DIR"); d != "" {
		dirs = strings.Split(d, ":")
	}
	var certs []*x509.Certificate
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err == nil {
			certs = append(certs, pemCertificates(data)...)
			break
		}
	}
	for _, d := range dirs {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, ent := range entries {
			if sameDirSymlink(d, ent) {
				continue // a c_rehash link to a file read already
			}
			data, err := os.ReadFile(filepath.Join(d, ent.Name()))
			if err == nil {
				certs = append(certs, pemCertificates(data)...)
			}
		}
	}
	if len(certs) == 0 {
		where := strings.Join(append(append([]string(nil), files...), dirs...), ", ")
		return nil, withHint(setupErrorf("no trust anchors: --trust system found no certificates in %s", where),
			"install the system's CA certificates (ca-certificates), set SSL_CERT_FILE or SSL_CERT_DIR, or give --trust FILE|DIR")
	}
	return dedupCerts(certs), nil
}

// pemCertificates returns the certificates of the CERTIFICATE blocks in data
// that parse, skipping anything else, as x509.CertPool.AppendCertsFromPEM does.
func pemCertificates(data []byte) []*x509.Certificate {
	var certs []*x509.Certificate
	for len(data) > 0 {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" || len(b.Headers) != 0 {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err == nil {
			certs = append(certs, c)
		}
	}
	return certs
}

// sameDirSymlink reports whether ent is a symbolic link to a file in the same
// directory (crypto/x509's isSameDirSymlink).
func sameDirSymlink(dir string, ent fs.DirEntry) bool {
	if ent.Type()&fs.ModeSymlink == 0 {
		return false
	}
	target, err := os.Readlink(filepath.Join(dir, ent.Name()))
	return err == nil && !strings.Contains(target, "/")
}

// dedupCerts drops repeated certificates (a bundle and a directory often hold
// the same roots).
func dedupCerts(certs []*x509.Certificate) []*x509.Certificate {
	seen := make(map[string]bool, len(certs))
	out := certs[:0]
	for _, c := range certs {
		if !seen[string(c.Raw)] {
			seen[string(c.Raw)] = true
			out = append(out, c)
		}
	}
	return out
}
