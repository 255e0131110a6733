package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/smimectl/smimectl/internal/keys"
	"github.com/smimectl/smimectl/pkg/revocation"
)

// Loading the local files commands act with: keys, certificates and CRLs. Parsing
// lives in internal/keys and pkg/revocation; this file only names the flag a bad file
// came from, so the error says which one to fix.

// loadIdentity loads the signing key and certificate the key flags name. who is the
// address the key is for ("" if unknown), used in the error when no key is given.
func (f *keyFlags) loadIdentity(e *env, who string) (*keys.Identity, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	switch {
	case f.URI != "":
		return f.tokenFlags.loadIdentity(e, f.Cert)
	case f.P12 != "":
		if f.PassFile == "" && f.PassEnv == "" {
			return nil, usagef([]string{"give the password of the PKCS#12 file with --pass-file or --pass-env"},
				"--p12 needs a password")
		}
		data, err := os.ReadFile(f.P12)
		if err != nil {
			return nil, err
		}
		pass, err := f.passphrase(e)()
		if err != nil {
			return nil, err
		}
		id, err := keys.ParsePKCS12(data, pass)
		if err != nil {
			return nil, passHint(setupErrorf("can't read --p12 file %q: %w", f.P12, err))
		}
		return id, nil
	case f.Key != "":
		id, err := keys.LoadIdentity(f.Key, f.Cert, keys.PassphraseFunc(f.passphrase(e)))
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				return nil, err
			}
			return nil, passHint(setupErrorf("can't use --key %q with --cert %q: %w", f.Key, f.Cert, err))
		}
		return id, nil
	}
	if who == "" {
		who = "this message"
	}
	return nil, withHint(&noCertError{err: fmt.Errorf("no certificate with a private key can sign for %s", who)},
		"give the signer's key with --key and --cert, --p12, or --pkcs11 for a smart card")
}

// loadCertificates reads the certificates in each file or directory named by flag.
func loadCertificates(flag string, paths []string) ([]*x509.Certificate, error) {
	var all []*x509.Certificate
	for _, p := range paths {
		certs, err := keys.LoadCertificates(p)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) && err.Error() == pe.Error() {
				return nil, err
			}
			return nil, setupErrorf("can't read %s %q: %w", flag, p, err)
		}
		all = append(all, certs...)
	}
	return all, nil
}

// loadCRLs reads the CRLs (PEM or DER) in each file named by --crl.
func loadCRLs(paths []string) ([]*x509.RevocationList, error) {
	var all []*x509.RevocationList
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		crls, err := revocation.ParseCRLs(data)
		if err != nil {
			return nil, setupErrorf("can't read --crl %q: %w", p, err)
		}
		all = append(all, crls...)
	}
	return all, nil
}

// passHint adds what to do about a wrong passphrase to err.
func passHint(err error) error {
	if errors.Is(err, keys.ErrIncorrectPassphrase) {
		return withHint(err, "check the passphrase given with --pass-file or --pass-env")
	}
	return err
}
