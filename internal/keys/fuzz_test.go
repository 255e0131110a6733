package keys

import (
	"bytes"
	"flag"
	"github.com/smimectl/smimectl/internal/cms"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fuzzPassphrase protects the encrypted seeds, so mutations of them reach
// the decryption code.
const fuzzPassphrase = "fuzz"

var updateFuzzCorpus = flag.Bool("update-fuzz-corpus", false, "regenerate the seed corpora in testdata/fuzz (needs openssl)")

func FuzzParsePrivateKey(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		calls := 0
		signer, err := ParsePrivateKey(data, func() ([]byte, error) {
			calls++
			return []byte(fuzzPassphrase), nil
		})
		if calls > 1 {
			t.Errorf("passphrase asked %d times", calls)
		}
		if err != nil {
			if signer != nil {
				t.Errorf("got a signer with error %v", err)
			}
			if !strings.HasPrefix(err.Error(), "keys: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			return
		}
		if signer.Public() == nil {
			t.Error("signer without a public key")
		}
	})
}

func FuzzParseCertificates(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		// cms.ToDER is idempotent: its output is DER, which it keeps as is.
		if der, err := cms.ToDER(data); err == nil {
			again, err := cms.ToDER(der)
			if err != nil || !bytes.Equal(again, der) {
				t.Errorf("cms.ToDER not idempotent: %v", err)
			}
		}
		certs, err := ParseCertificates(data)
		if err != nil {
			if certs != nil {
				t.Errorf("got certificates with error %v", err)
			}
			if !strings.HasPrefix(err.Error(), "keys: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			return
		}
		if len(certs) == 0 {
			t.Fatal("no certificates and no error")
		}
		// What was read survives a PEM round trip.
		var pemData []byte
		for _, c := range certs {
			if c == nil {
				t.Fatal("nil certificate")
			}
			pemData = append(pemData, certPEM(c)...)
		}
		again, err := ParseCertificates(pemData)
		if err != nil || len(again) != len(certs) {
			t.Fatalf("PEM round trip: %d certificates, %v", len(again), err)
		}
	})
}

func FuzzParsePKCS12(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		id, err := ParsePKCS12(data, []byte(fuzzPassphrase))
		if err != nil {
			if id != nil {
				t.Errorf("got an identity with error %v", err)
			}
			if !strings.HasPrefix(err.Error(), "keys: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			return
		}
		if err := MatchesKey(id.Certificate, id.Signer); err != nil {
			t.Errorf("identity's certificate: %v", err)
		}
	})
}

// TestWriteFuzzCorpus regenerates testdata/fuzz with
//
//	go test ./internal/keys -run TestWriteFuzzCorpus -update-fuzz-corpus
//
// Keys are fresh each time, so the files change; their kinds do not.
func TestWriteFuzzCorpus(t *testing.T) {
	if !*updateFuzzCorpus {
		t.Skip("run with -update-fuzz-corpus to regenerate the seed corpora")
	}
	needOpenSSL(t)
	caKey := testKey(t, "p256")
	ca := testCert(t, "ca", caKey, nil, nil)
	rsaKey, ecKey := testKey(t, "rsa"), testKey(t, "p384")
	alice := testCert(t, "alice", ecKey, ca, caKey)
	dir := t.TempDir()
	writeFile(t, dir, "rsa.pem", pkcs8PEM(t, rsaKey))
	writeFile(t, dir, "ec.pem", pkcs8PEM(t, ecKey))
	writeFile(t, dir, "alice.pem", certPEM(alice))
	writeFile(t, dir, "chain.pem", certPEM(alice, ca))
	pw := "pass:" + fuzzPassphrase
	p7b := openssl(t, dir, "chain.p7b", "crl2pkcs7", "-nocrl", "-certfile", "chain.pem", "-outform", "DER", "-out", "chain.p7b")

	corpus := map[string]map[string][]byte{
		"FuzzParsePrivateKey": {
			"rsa-pkcs8-pem":    pkcs8PEM(t, rsaKey),
			"rsa-pkcs1-pem":    openssl(t, dir, "rsa1.pem", "rsa", "-in", "rsa.pem", "-traditional", "-out", "rsa1.pem"),
			"ec-sec1-der":      openssl(t, dir, "ec1.der", "ec", "-in", "ec.pem", "-outform", "DER", "-out", "ec1.der"),
			"ec-pkcs8-enc":     openssl(t, dir, "ec8.pem", "pkcs8", "-topk8", "-v2", "aes-128-cbc", "-iter", "1", "-in", "ec.pem", "-passout", pw, "-out", "ec8.pem"),
			"ec-pkcs8-enc-der": openssl(t, dir, "ec8.der", "pkcs8", "-topk8", "-v2", "des3", "-v2prf", "hmacWithSHA1", "-iter", "1", "-in", "ec.pem", "-passout", pw, "-outform", "DER", "-out", "ec8.der"),
			"ec-legacy-enc":    openssl(t, dir, "ecl.pem", "ec", "-aes128", "-in", "ec.pem", "-passout", pw, "-out", "ecl.pem"),
			"cert-and-key":     append(certPEM(alice), pkcs8PEM(t, ecKey)...),
		},
		"FuzzParseCertificates": {
			"pem":         certPEM(alice),
			"der":         alice.Raw,
			"p7b-der":     p7b,
			"p7b-ber":     toIndefinite(t, p7b),
			"p7b-pem":     openssl(t, dir, "chain.p7b.pem", "crl2pkcs7", "-nocrl", "-certfile", "chain.pem", "-out", "chain.p7b.pem"),
			"p7b-empty":   openssl(t, dir, "empty.p7b", "crl2pkcs7", "-nocrl", "-outform", "DER", "-out", "empty.p7b"),
			"pem-and-key": append(certPEM(ca), pkcs8PEM(t, ecKey)...),
		},
		"FuzzParsePKCS12": {
			"modern": openssl(t, dir, "m.p12", "pkcs12", "-export", "-iter", "1", "-inkey", "ec.pem", "-in", "alice.pem", "-certfile", "chain.pem", "-passout", pw, "-out", "m.p12"),
			"legacy": openssl(t, dir, "l.p12", "pkcs12", "-export", "-legacy", "-iter", "1", "-inkey", "ec.pem", "-in", "alice.pem", "-passout", pw, "-out", "l.p12"),
		},
	}
	for target, seeds := range corpus {
		out := filepath.Join("testdata", "fuzz", target)
		if err := os.RemoveAll(out); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range seeds {
			file := "go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\n"
			if err := os.WriteFile(filepath.Join(out, name), []byte(file), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestFuzzSeeds keeps the committed corpora from going stale: each target
// has seeds and every seed not named "bad-..." or "...-empty" parses.
func TestFuzzSeeds(t *testing.T) {
	parsers := map[string]func([]byte) error{
		"FuzzParsePrivateKey": func(b []byte) error {
			_, err := ParsePrivateKey(b, func() ([]byte, error) { return []byte(fuzzPassphrase), nil })
			return err
		},
		"FuzzParseCertificates": func(b []byte) error { _, err := ParseCertificates(b); return err },
		"FuzzParsePKCS12":       func(b []byte) error { _, err := ParsePKCS12(b, []byte(fuzzPassphrase)); return err },
	}
	for target, parse := range parsers {
		files, err := filepath.Glob(filepath.Join("testdata", "fuzz", target, "*"))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			t.Errorf("%s: no seeds in testdata/fuzz", target)
		}
		for _, name := range files {
			base := filepath.Base(name)
			if strings.HasPrefix(base, "bad-") || strings.HasSuffix(base, "-empty") || len(base) == 64 {
				continue // failing seeds and inputs the fuzzer found
			}
			data := readSeed(t, name)
			if err := parse(data); err != nil {
				t.Errorf("%s/%s: %v", target, base, err)
			}
		}
	}
}

// readSeed reads a one-[]byte "go test fuzz v1" file.
func readSeed(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(strings.TrimSpace(string(raw)), "\n", 2)
	if len(lines) != 2 || lines[0] != "go test fuzz v1" ||
		!strings.HasPrefix(lines[1], "[]byte(") || !strings.HasSuffix(lines[1], ")") {
		t.Fatalf("%s: not a one-[]byte go test fuzz v1 file", name)
	}
	s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return []byte(s)
}
