package testpeer

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testPKI is a root, an intermediate and end-entity identities made with
// openssl, as a peer would see a real one. Files are PEM.
type testPKI struct {
	dir                 string
	root, inter         string // certificates
	chain               string // root and intermediate, for openssl -CAfile
	aliceKey, alice     string // valid S/MIME signer under inter
	expiredKey, expired string // expired in 2021, under inter
	otherRoot           string // an unrelated root
	pass                string // for PKCS#12 files
	aliceP12            string // alice's key, friendly name "alice"
	msg                 string // a MIME entity in CRLF form
}

var (
	pkiOnce sync.Once
	pkiVal  *testPKI
	pkiErr  error
	pkiDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if pkiDir != "" {
		os.RemoveAll(pkiDir)
	}
	os.Exit(code)
}

// sharedPKI builds the test PKI once per test binary; it needs openssl.
func sharedPKI(t *testing.T) *testPKI {
	t.Helper()
	Require(t, "openssl")
	pkiOnce.Do(func() {
		pkiDir, pkiErr = os.MkdirTemp("", "testpeer-pki-")
		if pkiErr == nil {
			pkiVal, pkiErr = makePKI(pkiDir)
		}
	})
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return pkiVal
}

func openssl(dir string, args ...string) error {
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

func makePKI(dir string) (*testPKI, error) {
	p := &testPKI{dir: dir, pass: "test-pass"}
	f := func(name string) string { return filepath.Join(dir, name) }
	exts := map[string]string{
		"ca.ext":    "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n",
		"inter.ext": "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
		"leaf.ext": "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n" +
			"extendedKeyUsage=emailProtection\nsubjectAltName=email:alice@example.com\n" +
			"subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
	}
	for name, text := range exts {
		if err := os.WriteFile(f(name), []byte(text), 0o600); err != nil {
			return nil, err
		}
	}
	steps := [][]string{
		{"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "root.key", "-out", "root.crt",
			"-subj", "/O=testpeer/CN=Test Root", "-days", "3650", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"},
		{"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key", "-out", "other.crt",
			"-subj", "/O=testpeer/CN=Other Root", "-days", "3650"},
		{"req", "-newkey", "rsa:2048", "-nodes", "-keyout", "inter.key", "-out", "inter.csr",
			"-subj", "/O=testpeer/CN=Test Intermediate"},
		{"x509", "-req", "-in", "inter.csr", "-CA", "root.crt", "-CAkey", "root.key", "-set_serial", "2",
			"-days", "3650", "-extfile", "inter.ext", "-out", "inter.crt"},
		{"req", "-newkey", "rsa:2048", "-nodes", "-keyout", "alice.key", "-out", "alice.csr",
			"-subj", "/O=testpeer/CN=Alice/emailAddress=alice@example.com"},
		{"x509", "-req", "-in", "alice.csr", "-CA", "inter.crt", "-CAkey", "inter.key", "-set_serial", "3",
			"-days", "365", "-extfile", "leaf.ext", "-out", "alice.crt"},
	}
	for _, s := range steps {
		if err := openssl(dir, s...); err != nil {
			return nil, err
		}
	}
	p.root, p.inter, p.otherRoot = f("root.crt"), f("inter.crt"), f("other.crt")
	p.aliceKey, p.alice = f("alice.key"), f("alice.crt")
	p.chain = f("chain.pem")
	if err := concat(p.chain, p.root, p.inter); err != nil {
		return nil, err
	}
	p.expiredKey, p.expired = f("expired.key"), f("expired.crt")
	if err := makeExpired(f("inter.key"), p.inter, p.expiredKey, p.expired); err != nil {
		return nil, err
	}
	p.aliceP12 = f("alice.p12")
	if err := PKCS12(p.aliceKey, p.alice, p.pass, "alice", p.aliceP12); err != nil {
		return nil, err
	}
	p.msg = f("msg.txt")
	msg := "Content-Type: text/plain; charset=utf-8\r\n\r\nHello from testpeer.\r\n\r\n-- \r\nAlice\r\n"
	if err := os.WriteFile(p.msg, []byte(msg), 0o600); err != nil {
		return nil, err
	}
	return p, nil
}

func concat(out string, files ...string) error {
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		all = append(all, b...)
	}
	return os.WriteFile(out, all, 0o600)
}

func readPEM(file string) ([]byte, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("no PEM in %s", file)
	}
	return block.Bytes, nil
}

// makeExpired issues an S/MIME certificate that expired in 2021 (openssl
// 3.0's x509 -req cannot backdate one).
func makeExpired(caKeyFile, caCertFile, keyOut, certOut string) error {
	der, err := readPEM(caKeyFile)
	if err != nil {
		return err
	}
	caKey, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return err
	}
	if der, err = readPEM(caCertFile); err != nil {
		return err
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:   big.NewInt(4),
		Subject:        pkix.Name{Organization: []string{"testpeer"}, CommonName: "Expired Alice"},
		EmailAddresses: []string{"expired@example.com"},
		NotBefore:      time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:       time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:       x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(keyOut, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(certOut, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert}), 0o600)
}
