package certsel

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/smimectl/smimectl/internal/keys"
)

// Files is a [Source] over a certificate file (PEM, DER or a PKCS#7
// bundle) or a directory of them (*.pem, *.crt, *.cer, *.der, *.p7b, *.p7c,
// in name order). CA certificates are not candidates; they serve as
// intermediates.
//
// In a directory, a certificate file STEM.crt (or .pem, .cer, .der) with a
// private key file STEM.key beside it is a key pair, as `smimectl lab` and
// most CAs' tools write them: the key becomes the candidate's private key if
// it matches the certificate. Encrypted keys need Passphrase.
type Files struct {
	// Path is the file or directory.
	Path string
	// Passphrase returns the passphrase of encrypted STEM.key files. If
	// nil, encrypted keys are skipped (their certificates stay candidates
	// without a key).
	Passphrase func() ([]byte, error)
}

func (f Files) String() string { return f.Path }

// Find returns every end-entity certificate under f.Path.
func (f Files) Find(ctx context.Context, address string) ([]Found, error) {
	info, err := os.Stat(f.Path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		certs, err := keys.LoadCertificates(f.Path)
		if err != nil {
			return nil, err
		}
		return split(certs, f.Path), nil
	}
	entries, err := os.ReadDir(f.Path)
	if err != nil {
		return nil, err
	}
	var out []Found
	var cas []*x509.Certificate
	for _, e := range entries {
		name := e.Name()
		ext := strings.ToLower(filepath.Ext(name))
		if e.IsDir() || !certExts[ext] {
			continue
		}
		path := filepath.Join(f.Path, name)
		certs, err := keys.LoadCertificates(path)
		if err != nil {
			return nil, err
		}
		found := split(certs, path)
		if len(found) == 1 {
			key, err := f.pairedKey(strings.TrimSuffix(path, filepath.Ext(path))+".key", found[0].Cert)
			if err != nil {
				return nil, err
			}
			found[0].Key = key
		}
		for _, c := range certs {
			if c.IsCA && !slices.ContainsFunc(cas, c.Equal) {
				cas = append(cas, c)
			}
		}
		out = append(out, found...)
	}
	// Every CA certificate in the directory may be an intermediate.
	for i := range out {
		out[i].Chain = cas
	}
	return out, nil
}

var certExts = map[string]bool{".pem": true, ".crt": true, ".cer": true, ".der": true, ".p7b": true, ".p7c": true}

// pairedKey reads the key file beside a certificate, if any, and returns it
// when it belongs to cert.
func (f Files) pairedKey(path string, cert *x509.Certificate) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var pass keys.PassphraseFunc
	if f.Passphrase != nil {
		pass = keys.PassphraseFunc(f.Passphrase)
	}
	key, err := keys.ParsePrivateKey(data, pass)
	if errors.Is(err, keys.ErrPassphraseRequired) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %q: %w", path, err)
	}
	if keys.MatchesKey(cert, key) != nil {
		return nil, nil
	}
	return key, nil
}

// split separates end-entity certificates (candidates) from CA
// certificates (their chain).
func split(certs []*x509.Certificate, origin string) []Found {
	var ees, cas []*x509.Certificate
	for _, c := range certs {
		if c.IsCA {
			cas = append(cas, c)
		} else {
			ees = append(ees, c)
		}
	}
	out := make([]Found, 0, len(ees))
	for _, c := range ees {
		out = append(out, Found{Cert: c, Chain: cas, Origin: origin})
	}
	return out
}

// PKCS12 is a [Source] over a PKCS#12 file: one certificate with its
// private key and chain.
type PKCS12 struct {
	// Path is the .p12 or .pfx file.
	Path string
	// Password returns the file's password. If nil, the empty password is tried.
	Password func() ([]byte, error)
}

func (p PKCS12) String() string { return p.Path }

// Find returns the file's certificate with its key.
func (p PKCS12) Find(ctx context.Context, address string) ([]Found, error) {
	data, err := os.ReadFile(p.Path)
	if err != nil {
		return nil, err
	}
	var pass []byte
	if p.Password != nil {
		if pass, err = p.Password(); err != nil {
			return nil, err
		}
	}
	id, err := keys.ParsePKCS12(data, pass)
	if err != nil {
		return nil, fmt.Errorf("reading %q: %w", p.Path, err)
	}
	return []Found{{Cert: id.Certificate, Chain: id.Chain, Key: id.Signer, Origin: p.Path}}, nil
}

// Memory is a [Source] over candidates already in memory, such as
// certificates a caller loaded itself.
type Memory struct {
	// Name names the source for reports.
	Name string
	// Found are the candidates, returned for every address.
	Found []Found
}

func (m Memory) String() string { return m.Name }

// Find returns m.Found.
func (m Memory) Find(context.Context, string) ([]Found, error) { return m.Found, nil }
