package lab

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/smimectl/smimectl/internal/certinfo"
	"github.com/smimectl/smimectl/internal/mldsa"
	"os"
	"path/filepath"
	"strings"

	"software.sslmate.com/src/go-pkcs12"
)

// P12PasswordFile is the name of the file in which [Lab.WriteDir] records the
// password of the .p12 files.
const P12PasswordFile = "p12.pass"

// file is one file WriteDir writes.
type file struct {
	name string
	mode os.FileMode
	data []byte
}

// WriteDir writes the lab into dir, creating dir (mode 0755) if needed. It
// refuses to write into a directory that already holds anything, so it never
// overwrites a file.
//
// It writes root.crt, intermediate.crt and chain.pem (intermediate, then root)
// as PEM certificates; root.crl and intermediate.crl as PEM "X509 CRL"; and
// for each authority and user NAME.key, an unencrypted PEM PKCS#8 key (mode
// 0600). Each user also gets NAME.crt and NAME.p12, a PKCS#12 file holding
// the key, the certificate and the chain, encrypted with p12Password
// (PBES2/AES-256-CBC, PBKDF2-HMAC-SHA-256, go-pkcs12's Modern encoder; with
// Options.LegacyPKCS12, 3DES keys, RC2-40 certificates and a SHA-1 MAC). The
// password goes into p12.pass (mode 0600), and README.md describes every
// identity. All files except the .p12 ones are byte-identical for the same
// [Options]; the .p12 files use fresh random salts and IVs each time.
//
// p12Password must not be empty. If writing fails half-way, the files
// written so far are left in dir.
func (l *Lab) WriteDir(dir string, p12Password string) error {
	if p12Password == "" {
		return errors.New("lab: empty PKCS#12 password")
	}
	files, err := l.files(p12Password)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("lab: creating output directory: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("lab: reading output directory: %w", err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("lab: output directory %q is not empty", dir)
	}
	for _, f := range files {
		if err := writeNew(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return err
		}
	}
	return nil
}

// writeNew creates path, failing if it exists, and writes data to it.
func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("lab: creating file: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("lab: writing %q: %w", filepath.Base(path), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("lab: writing %q: %w", filepath.Base(path), err)
	}
	return nil
}

// files renders every file of the lab in memory.
func (l *Lab) files(p12Password string) ([]file, error) {
	var files []file
	// authorities appends each CA's certificate, key and CRL, then the
	// chain file.
	authorities := func(chainFile string, chain []*x509.Certificate, cas ...*Authority) error {
		for _, ca := range cas {
			key, err := keyPEM(ca.Key)
			if err != nil {
				return fmt.Errorf("lab: encoding %s key: %w", ca.Name, err)
			}
			files = append(files,
				file{ca.Name + ".crt", 0o644, certPEM(ca.Cert)},
				file{ca.Name + ".key", 0o600, key},
				file{ca.Name + ".crl", 0o644, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: ca.CRL})},
			)
		}
		files = append(files, file{chainFile, 0o644, certPEM(chain...)})
		return nil
	}
	if err := authorities("chain.pem", l.Chain(), l.Root, l.Intermediate); err != nil {
		return nil, err
	}
	if l.PQRoot != nil {
		if err := authorities("pq-chain.pem", l.PQChain(), l.PQRoot, l.PQIntermediate); err != nil {
			return nil, err
		}
	}
	for _, u := range l.Users {
		key, err := userKeyPEM(u)
		if err != nil {
			return nil, fmt.Errorf("lab: encoding %s key: %w", u.Name, err)
		}
		files = append(files,
			file{u.Name + ".crt", 0o644, certPEM(u.Cert)},
			file{u.Name + ".key", 0o600, key},
		)
		if !hasPKCS12(u) {
			continue
		}
		enc := pkcs12.Modern
		if l.Options.LegacyPKCS12 {
			enc = pkcs12.LegacyRC2
		}
		p12, err := enc.Encode(u.Key, u.Cert, l.ChainFor(u), p12Password)
		if err != nil {
			return nil, fmt.Errorf("lab: encoding %s PKCS#12: %w", u.Name, err)
		}
		files = append(files, file{u.Name + ".p12", 0o600, p12})
	}
	files = append(files,
		file{P12PasswordFile, 0o600, []byte(p12Password + "\n")},
		file{"README.md", 0o644, l.readme()},
	)
	return files, nil
}

// certPEM encodes certs as consecutive PEM CERTIFICATE blocks.
func certPEM(certs ...*x509.Certificate) []byte {
	var buf bytes.Buffer
	for _, c := range certs {
		// Writing to a bytes.Buffer cannot fail.
		_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return buf.Bytes()
}

// keyPEM encodes key as an unencrypted PEM PKCS#8 "PRIVATE KEY"; an
// ML-DSA key in the seed form of RFC 9881.
func keyPEM(key crypto.Signer) ([]byte, error) {
	if k, ok := key.(*mldsa.PrivateKey); ok {
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: mldsa.MarshalPKCS8PrivateKey(k)}), nil
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// userKeyPEM encodes u's private key: KeyPKCS8 if set, else Key.
func userKeyPEM(u *User) ([]byte, error) {
	if u.KeyPKCS8 != nil {
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: u.KeyPKCS8}), nil
	}
	if u.Key == nil {
		return nil, errors.New("no private key")
	}
	return keyPEM(u.Key)
}

// hasPKCS12 reports whether WriteDir writes NAME.p12 for u: go-pkcs12
// encodes keys with crypto/x509, which knows RSA, ECDSA and Ed25519 but
// neither ML-DSA nor ML-KEM.
func hasPKCS12(u *User) bool {
	switch u.Key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		return true
	}
	return false
}

// readme renders README.md: what each file is and what each identity is for.
func (l *Lab) readme() []byte {
	var b strings.Builder
	o := l.Options
	fmt.Fprintf(&b, "# smimectl test lab\n\n")
	fmt.Fprintf(&b, "The test lab of the Exchange Server 2003 Message Security Guide, Chapter 7, made by\n")
	fmt.Fprintf(&b, "`smimectl lab`. Seed %q, epoch %s, domain %s.\n\n", o.Seed, o.Epoch.Format("2006-01-02T15:04:05Z"), o.Domain)
	fmt.Fprintf(&b, "WARNING: every key here is derived from the seed. Anyone who knows the seed has\n")
	fmt.Fprintf(&b, "the keys. Use them for tests and demonstrations only.\n\n")

	fmt.Fprintf(&b, "| file | address | key type | key usage | validity | note |\n")
	fmt.Fprintf(&b, "|---|---|---|---|---|---|\n")
	row := func(name, addr string, cert *x509.Certificate, note string) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s .. %s | %s |\n",
			name, addr, keyType(cert), keyUsage(cert.KeyUsage),
			cert.NotBefore.UTC().Format("2006-01-02"), cert.NotAfter.UTC().Format("2006-01-02"), note)
	}
	row("root.crt", "", l.Root.Cert, "root CA, self-signed: the trust anchor (`--trust root.crt`)")
	row("intermediate.crt", "", l.Intermediate.Cert, "issuing CA (path length 0), certified by the root")
	if l.PQRoot != nil {
		row(l.PQRoot.Name+".crt", "", l.PQRoot.Cert, "post-quantum root CA, self-signed: the trust anchor of the ML-DSA chain (`--trust pq-root.crt`)")
		row(l.PQIntermediate.Name+".crt", "", l.PQIntermediate.Cert, "post-quantum issuing CA (path length 0), certified by the PQ root")
	}
	for _, u := range l.Users {
		row(u.Name+".crt", u.Email, u.Cert, u.Note)
	}

	thisUpdate := o.Epoch.Add(crlOffset)
	fmt.Fprintf(&b, "\nEach NAME.crt has NAME.key (PEM PKCS#8, unencrypted) and, for users, NAME.p12\n")
	enc := "PBES2 AES-256-CBC"
	if l.Options.LegacyPKCS12 {
		enc = "legacy: 3DES key, RC2-40 certificates, SHA-1 MAC, for gpgsm 2.2 and older Windows"
	}
	fmt.Fprintf(&b, "(key, certificate and chain; %s; password in `%s`).\n", enc, P12PasswordFile)
	fmt.Fprintf(&b, "`chain.pem` holds the intermediate, then the root.\n\n")
	if l.PQRoot != nil {
		fmt.Fprintf(&b, "`pq-chain.pem` holds the PQ intermediate, then the PQ root. The PQ authorities sign\n")
		fmt.Fprintf(&b, "certificates and their empty CRLs (`pq-root.crl`, `pq-intermediate.crl`, dated like the\n")
		fmt.Fprintf(&b, "others) with ML-DSA (RFC 9881). ML-DSA keys are PKCS#8 in the seed form of RFC 9881\n")
		fmt.Fprintf(&b, "and have no .p12 (PKCS#12 tools do not know ML-DSA yet): sign with\n")
		fmt.Fprintf(&b, "`--key NAME.key --cert NAME.crt`.\n\n")
	}
	fmt.Fprintf(&b, "CRLs, both number 1, thisUpdate %s, nextUpdate %s:\n\n",
		thisUpdate.Format("2006-01-02"), thisUpdate.AddDate(10, 0, 0).Format("2006-01-02"))
	fmt.Fprintf(&b, "- `root.crl`, empty, published at %s\n", l.crlURL("root"))
	fmt.Fprintf(&b, "- `intermediate.crl`, listing eve-revoked (keyCompromise, %s),\n  published at %s\n\n",
		o.Epoch.Add(revocationOffset).Format("2006-01-02"), l.crlURL("intermediate"))
	fmt.Fprintf(&b, "The ten-year nextUpdate is far longer than a real CA would use, so that fixtures\n")
	fmt.Fprintf(&b, "made from these CRLs stay usable.\n\n")
	fmt.Fprintf(&b, "The same seed and options reproduce every file byte for byte except the .p12\n")
	fmt.Fprintf(&b, "files, which get fresh random salts and IVs on each run.\n")
	return []byte(b.String())
}

// crlURL returns the CRL distribution point of the authority named name.
func (l *Lab) crlURL(name string) string {
	return crlURL(l.Options, name)
}

// keyType names a certificate's key algorithm and size.
func keyType(cert *x509.Certificate) string {
	switch k := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	case nil:
		if k, ok, _ := mldsa.CertificatePublicKey(cert); ok && k != nil {
			return k.Parameters().String()
		}
	}
	if n := pqKeyName(cert); n != "" {
		return n
	}
	return fmt.Sprintf("%T", cert.PublicKey)
}

// keyUsage lists the names of the bits set in ku, for the README table.
func keyUsage(ku x509.KeyUsage) string {
	return strings.ReplaceAll(certinfo.UsageString(ku), ",", ", ")
}
