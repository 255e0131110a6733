package lab

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"software.sslmate.com/src/go-pkcs12"
)

// readPEM reads the single-type PEM blocks of file.
func readPEM(t *testing.T, path, blockType string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ders [][]byte
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != blockType {
			t.Fatalf("%s: PEM block %q, want %q", filepath.Base(path), block.Type, blockType)
		}
		ders = append(ders, block.Bytes)
	}
	if len(bytes.TrimSpace(data)) != 0 || len(ders) == 0 {
		t.Fatalf("%s: not a clean PEM file", filepath.Base(path))
	}
	return ders
}

func TestWriteDir(t *testing.T) {
	l := testLab(t)
	dir := filepath.Join(t.TempDir(), "lab")
	if err := l.WriteDir(dir, "secret"); err != nil {
		t.Fatal(err)
	}

	want := []string{"README.md", "chain.pem", "intermediate.crl", "intermediate.crt", "intermediate.key",
		"p12.pass", "root.crl", "root.crt", "root.key"}
	for _, u := range l.Users {
		want = append(want, u.Name+".crt", u.Name+".key", u.Name+".p12")
	}
	slices.Sort(want)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, want) {
		t.Fatalf("files %v, want %v", got, want)
	}
	for _, name := range got {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		secret := strings.HasSuffix(name, ".key") || strings.HasSuffix(name, ".p12") || name == "p12.pass"
		if mode := fi.Mode().Perm(); secret && mode != 0o600 || !secret && mode != 0o644 {
			t.Errorf("%s: mode %v", name, mode)
		}
	}

	path := func(name string) string { return filepath.Join(dir, name) }
	checkCert := func(name string, want *x509.Certificate) {
		ders := readPEM(t, path(name), "CERTIFICATE")
		if len(ders) != 1 || !bytes.Equal(ders[0], want.Raw) {
			t.Errorf("%s does not hold the certificate", name)
		}
	}
	checkKey := func(name string, want crypto.Signer) {
		ders := readPEM(t, path(name), "PRIVATE KEY")
		k, err := x509.ParsePKCS8PrivateKey(ders[0])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !want.(interface{ Equal(crypto.PrivateKey) bool }).Equal(k) {
			t.Errorf("%s does not hold the key", name)
		}
	}
	for _, ca := range []*Authority{l.Root, l.Intermediate} {
		checkCert(ca.Name+".crt", ca.Cert)
		checkKey(ca.Name+".key", ca.Key)
		crl := readPEM(t, path(ca.Name+".crl"), "X509 CRL")
		if len(crl) != 1 || !bytes.Equal(crl[0], ca.CRL) {
			t.Errorf("%s.crl does not hold the CRL", ca.Name)
		}
		if _, err := x509.ParseRevocationList(crl[0]); err != nil {
			t.Errorf("%s.crl: %v", ca.Name, err)
		}
	}
	chain := readPEM(t, path("chain.pem"), "CERTIFICATE")
	if len(chain) != 2 || !bytes.Equal(chain[0], l.Intermediate.Cert.Raw) || !bytes.Equal(chain[1], l.Root.Cert.Raw) {
		t.Error("chain.pem is not intermediate, root")
	}
	for _, u := range l.Users {
		checkCert(u.Name+".crt", u.Cert)
		checkKey(u.Name+".key", u.Key)
		p12, err := os.ReadFile(path(u.Name + ".p12"))
		if err != nil {
			t.Fatal(err)
		}
		key, cert, cas, err := pkcs12.DecodeChain(p12, "secret")
		if err != nil {
			t.Fatalf("%s.p12: %v", u.Name, err)
		}
		if !u.Key.(interface{ Equal(crypto.PrivateKey) bool }).Equal(key) || !cert.Equal(u.Cert) ||
			len(cas) != 2 || !cas[0].Equal(l.Intermediate.Cert) || !cas[1].Equal(l.Root.Cert) {
			t.Errorf("%s.p12 does not hold key, certificate and chain", u.Name)
		}
		if _, _, _, err := pkcs12.DecodeChain(p12, "wrong"); err == nil {
			t.Errorf("%s.p12 opens with a wrong password", u.Name)
		}
	}
	if pass, err := os.ReadFile(path("p12.pass")); err != nil || string(pass) != "secret\n" {
		t.Errorf("p12.pass = %q, %v", pass, err)
	}
	readme, err := os.ReadFile(path("README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range l.Users {
		if !bytes.Contains(readme, []byte("| "+u.Name+".crt | "+u.Email+" |")) || !bytes.Contains(readme, []byte(u.Note)) {
			t.Errorf("README.md lacks the row for %s", u.Name)
		}
	}

	// A second run writes the same bytes, .p12 files aside.
	dir2 := filepath.Join(t.TempDir(), "lab")
	if err := l.WriteDir(dir2, "secret"); err != nil {
		t.Fatal(err)
	}
	for _, name := range got {
		a, _ := os.ReadFile(filepath.Join(dir, name))
		b, _ := os.ReadFile(filepath.Join(dir2, name))
		if same := bytes.Equal(a, b); same == strings.HasSuffix(name, ".p12") {
			t.Errorf("%s: identical across runs = %v", name, same)
		}
	}
}

func TestWriteDirRefuses(t *testing.T) {
	l := testLab(t)
	nonEmpty := t.TempDir()
	if err := os.WriteFile(filepath.Join(nonEmpty, "root.crt"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir, password string
	}{
		{"non-empty directory", nonEmpty, "pw"},
		{"path is a file", notDir, "pw"},
		{"empty password", filepath.Join(t.TempDir(), "new"), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := l.WriteDir(tc.dir, tc.password)
			if err == nil || !strings.HasPrefix(err.Error(), "lab: ") {
				t.Errorf("WriteDir = %v, want a lab: error", err)
			}
		})
	}
	if data, _ := os.ReadFile(filepath.Join(nonEmpty, "root.crt")); string(data) != "keep" {
		t.Error("WriteDir overwrote an existing file")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(tests[2].dir), "new")); err == nil {
		t.Error("WriteDir with an empty password created the directory")
	}
}
