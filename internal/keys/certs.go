package keys

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/smimectl/smimectl/internal/kem"
)

// certExtensions are the file name extensions LoadCertificates reads from a
// directory, compared without regard to case.
var certExtensions = map[string]bool{
	".pem": true, ".crt": true, ".cer": true, ".der": true, ".p7b": true, ".p7c": true,
}

// ParseCertificates reads every certificate in data, which holds either PEM
// or DER.
//
// In PEM, "CERTIFICATE" (and the legacy "X509 CERTIFICATE") blocks hold one
// certificate each and "PKCS7" or "CMS" blocks hold a PKCS#7 certs-only
// bundle; other blocks, such as private keys and CRLs, are skipped. Without
// PEM, data is a single DER certificate or a DER (or BER) PKCS#7 certs-only
// bundle as in .p7b/.p7c files and the userSMIMECertificate attribute. A
// MIME entity of type application/pkcs7-mime; smime-type=certs-only (RFC 8551
// section 3.6, what "smimectl certs-only" writes) holds such a bundle too.
//
// A malformed certificate or bundle is an error, as is finding no certificate
// at all.
//
// A file is one or the other: DER that parses as a whole is DER even if
// its bytes hold PEM text (a name may), and PEM may have text around its
// blocks but no binary data, nor a block that does not decode. Otherwise
// the certificates read here would not be those another reader (openssl,
// a mail client) takes from the same file.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	if len(data) > 0 && data[0] == 0x30 {
		if certs, err := parseDERCertificates(data); err == nil && len(certs) > 0 {
			return certs, nil
		}
	}
	if body, ok, err := certsOnlyBody(data); ok {
		if err != nil {
			return nil, err
		}
		certs, err := parseDERCertificates(body)
		if err != nil {
			return nil, fmt.Errorf("keys: certs-only message: %w", err)
		}
		return certs, nil
	}
	if looksLikePEM(data) {
		return parsePEMCertificates(data)
	}
	certs, err := parseDERCertificates(data)
	if err != nil {
		return nil, err
	}
	if len(certs) == 0 {
		return nil, errors.New("keys: no certificate found")
	}
	return certs, nil
}

// looksLikePEM reports whether data holds a PEM block boundary.
func looksLikePEM(data []byte) bool {
	return bytes.Contains(data, []byte("-----BEGIN "))
}

// pemBegin is where pem.Decode looks for a block: at the start of a line.
var pemBegin = []byte("\n-----BEGIN ")

// nextPEMBlock returns the offset of the next block's BEGIN line in data,
// -1 if there is none.
func nextPEMBlock(data []byte) int {
	if bytes.HasPrefix(data, pemBegin[1:]) {
		return 0
	}
	if i := bytes.Index(data, pemBegin); i >= 0 {
		return i + 1
	}
	return -1
}

// isText reports whether b, found outside PEM blocks, is text: no control
// characters but tab and line ends. A DER certificate is never text (its
// version and serial number fields begin with bytes 1 to 3).
func isText(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f {
			return false
		}
	}
	return true
}

func parsePEMCertificates(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for n := 1; ; n++ {
		i := nextPEMBlock(data)
		if i < 0 {
			if !isText(data) {
				return nil, fmt.Errorf("keys: binary data after PEM block %d: a certificate file is PEM or DER, not both", n-1)
			}
			break
		}
		if !isText(data[:i]) {
			return nil, fmt.Errorf("keys: binary data before PEM block %d: a certificate file is PEM or DER, not both", n)
		}
		// pem.Decode skips a block it can't decode and returns the next
		// one: a block is read here only if it is the one at i.
		var block *pem.Block
		block, rest := pem.Decode(data[i:])
		if block == nil || nextPEMBlock(data[i+1:len(data)-len(rest)]) >= 0 {
			return nil, fmt.Errorf("keys: PEM block %d is malformed (its base64, headers or END line)", n)
		}
		data = rest
		switch block.Type {
		case "CERTIFICATE", "X509 CERTIFICATE":
			cert, err := kem.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("keys: PEM block %d: %w", n, err)
			}
			certs = append(certs, cert)
		case "PKCS7", "CMS":
			bundle, err := parsePKCS7Certificates(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("keys: PEM block %d: %w", n, err)
			}
			certs = append(certs, bundle...)
		}
	}
	if len(certs) == 0 {
		return nil, errors.New("keys: no certificate found in PEM data")
	}
	return certs, nil
}

// parseDERCertificates tells a certificate from a ContentInfo by its first
// element: a Certificate starts with the TBSCertificate SEQUENCE, a
// ContentInfo with the contentType OBJECT IDENTIFIER.
func parseDERCertificates(data []byte) ([]*x509.Certificate, error) {
	if len(data) == 0 {
		return nil, errors.New("keys: no certificate found: empty input")
	}
	if isContentInfo(data) {
		return parsePKCS7Certificates(data)
	}
	cert, err := kem.ParseCertificate(data)
	if err != nil {
		return nil, fmt.Errorf("keys: no certificate found: %w", err)
	}
	return []*x509.Certificate{cert}, nil
}

// LoadCertificates reads the certificates in the file at path, or, if path is
// a directory, in each of its *.pem, *.crt, *.cer, *.der, *.p7b and *.p7c
// files in name order (not descending into subdirectories). See
// [ParseCertificates] for the formats. Errors name the file they are about.
func LoadCertificates(path string) ([]*x509.Certificate, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, &fileError{name: path, err: err}
	}
	if !info.IsDir() {
		return loadCertificateFile(path)
	}
	entries, err := os.ReadDir(path) // sorted by name
	if err != nil {
		return nil, &fileError{name: path, err: err}
	}
	var certs []*x509.Certificate
	for _, e := range entries {
		if e.IsDir() || !certExtensions[strings.ToLower(filepath.Ext(e.Name()))] {
			continue
		}
		c, err := loadCertificateFile(filepath.Join(path, e.Name()))
		if err != nil {
			return nil, err
		}
		certs = append(certs, c...)
	}
	if len(certs) == 0 {
		return nil, &fileError{name: path, err: errors.New("keys: no certificate files in directory")}
	}
	return certs, nil
}

func loadCertificateFile(name string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, &fileError{name: name, err: err}
	}
	certs, err := ParseCertificates(data)
	if err != nil {
		return nil, &fileError{name: name, err: err}
	}
	return certs, nil
}

// fileError names the file an error is about: `keys: reading "x.pem": ...`.
// It keeps the cause for errors.Is and errors.As.
type fileError struct {
	name string
	err  error
}

func (e *fileError) Error() string {
	msg := e.err.Error()
	var pe *fs.PathError
	if errors.As(e.err, &pe) {
		msg = pe.Err.Error() // the path is already in the message
	}
	return fmt.Sprintf("keys: reading %q: %s", e.name, strings.TrimPrefix(msg, "keys: "))
}

func (e *fileError) Unwrap() error { return e.err }
