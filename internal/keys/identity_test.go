package keys

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"software.sslmate.com/src/go-pkcs12"
)

func TestMatchesKey(t *testing.T) {
	key, other := testKey(t, "rsa"), testKey(t, "p256")
	cert := testCert(t, "alice", key, nil, nil)
	if err := MatchesKey(cert, key); err != nil {
		t.Errorf("matching key: %v", err)
	}
	tests := []struct {
		name string
		err  error
	}{
		{"other key type", MatchesKey(cert, other)},
		{"nil certificate", MatchesKey(nil, key)},
		{"nil signer", MatchesKey(cert, nil)},
		{"other key same type", MatchesKey(cert, testKey(t, "rsa"))},
	}
	for _, tc := range tests {
		name, err := tc.name, tc.err
		if err == nil || err.Error() != "keys: the certificate does not belong to the private key" {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

func TestParsePKCS12(t *testing.T) {
	needOpenSSL(t)
	const pass = "p12 secret"
	caKey := testKey(t, "rsa")
	ca := testCert(t, "ca", caKey, nil, nil)
	for _, kind := range []string{"rsa", "p256"} {
		key := testKey(t, kind)
		cert := testCert(t, "alice", key, ca, caKey)
		dir := t.TempDir()
		writeFile(t, dir, "key.pem", pkcs8PEM(t, key))
		writeFile(t, dir, "cert.pem", certPEM(cert))
		writeFile(t, dir, "ca.pem", certPEM(ca))
		goP12, err := pkcs12.Modern.Encode(key, cert, []*x509.Certificate{ca}, pass)
		if err != nil {
			t.Fatal(err)
		}
		// The CA first and the key's certificate second: ParsePKCS12 must
		// pick by key, not by position.
		caFirst, err := pkcs12.LegacyRC2.Encode(key, ca, []*x509.Certificate{cert}, pass)
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			data []byte
		}{
			{"openssl-modern", openssl(t, dir, "modern.p12", "pkcs12", "-export", "-inkey", "key.pem", "-in", "cert.pem", "-certfile", "ca.pem", "-passout", "pass:"+pass, "-out", "modern.p12")},
			{"openssl-legacy", openssl(t, dir, "legacy.p12", "pkcs12", "-export", "-legacy", "-inkey", "key.pem", "-in", "cert.pem", "-certfile", "ca.pem", "-passout", "pass:"+pass, "-out", "legacy.p12")},
			{"go-modern", goP12},
			{"go-rc2-ca-first", caFirst},
		}
		for _, tc := range tests {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				id, err := ParsePKCS12(tc.data, []byte(pass))
				if err != nil {
					t.Fatalf("ParsePKCS12: %v", err)
				}
				if !id.Certificate.Equal(cert) {
					t.Errorf("got certificate %q, want alice", id.Certificate.Subject.CommonName)
				}
				sameCerts(t, id.Chain, ca)
				if !key.Public().(publicKey).Equal(id.Signer.Public()) {
					t.Error("got a different key")
				}
				if _, err := ParsePKCS12(tc.data, []byte("wrong")); !errors.Is(err, ErrIncorrectPassphrase) {
					t.Errorf("wrong password: got %v, want ErrIncorrectPassphrase", err)
				}
			})
		}
	}
	t.Run("garbage", func(t *testing.T) {
		id, err := ParsePKCS12([]byte("not a pkcs12 file"), []byte(pass))
		if err == nil || id != nil || !strings.HasPrefix(err.Error(), "keys: malformed PKCS#12") {
			t.Errorf("got %v, %v", id, err)
		}
	})
}

func TestLoadIdentity(t *testing.T) {
	needOpenSSL(t)
	caKey := testKey(t, "p384")
	ca := testCert(t, "ca", caKey, nil, nil)
	key := testKey(t, "rsa")
	cert := testCert(t, "alice", key, ca, caKey)
	dir := t.TempDir()
	keyPath := writeFile(t, dir, "key.pem", pkcs8PEM(t, key))
	chainPath := writeFile(t, dir, "chain.pem", certPEM(ca, cert))
	combined := writeFile(t, dir, "combined.pem", append(pkcs8PEM(t, key), certPEM(cert, ca)...))
	otherPath := writeFile(t, dir, "other.pem", certPEM(ca))
	openssl(t, dir, "enc.pem", "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", "key.pem", "-out", "enc.pem", "-passout", "pass:pw")
	encPath := filepath.Join(dir, "enc.pem")
	pw := func() ([]byte, error) { return []byte("pw"), nil }

	t.Run("chain-file", func(t *testing.T) {
		id, err := LoadIdentity(keyPath, chainPath, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !id.Certificate.Equal(cert) {
			t.Errorf("got certificate %q, want alice", id.Certificate.Subject.CommonName)
		}
		sameCerts(t, id.Chain, ca)
	})
	t.Run("combined-file", func(t *testing.T) {
		id, err := LoadIdentity(combined, combined, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !id.Certificate.Equal(cert) {
			t.Errorf("got certificate %q, want alice", id.Certificate.Subject.CommonName)
		}
		sameCerts(t, id.Chain, ca)
	})
	t.Run("encrypted-key", func(t *testing.T) {
		id, err := LoadIdentity(encPath, chainPath, pw)
		if err != nil {
			t.Fatal(err)
		}
		if !id.Certificate.Equal(cert) {
			t.Errorf("got certificate %q, want alice", id.Certificate.Subject.CommonName)
		}
	})
	t.Run("encrypted-key-wrong-passphrase", func(t *testing.T) {
		_, err := LoadIdentity(encPath, chainPath, func() ([]byte, error) { return []byte("no"), nil })
		if !errors.Is(err, ErrIncorrectPassphrase) {
			t.Fatalf("got %v, want ErrIncorrectPassphrase", err)
		}
		want := `keys: reading "` + encPath + `": incorrect passphrase`
		if err.Error() != want {
			t.Errorf("got %q, want %q", err, want)
		}
	})
	t.Run("mismatch", func(t *testing.T) {
		_, err := LoadIdentity(keyPath, otherPath, nil)
		want := `keys: reading "` + otherPath + `": the certificate does not belong to the private key`
		if err == nil || err.Error() != want {
			t.Errorf("got %v, want %q", err, want)
		}
	})
	t.Run("missing-key", func(t *testing.T) {
		_, err := LoadIdentity(filepath.Join(dir, "nope.pem"), chainPath, nil)
		if err == nil || !strings.Contains(err.Error(), "nope.pem") {
			t.Errorf("got %v", err)
		}
	})
}

func TestCheckPKCS12Iterations(t *testing.T) {
	type pbeParams struct {
		Salt       []byte
		Iterations int
	}
	type wrapped struct {
		Version int
		Content []byte // DER inside an OCTET STRING, as in authSafe
	}
	mk := func(iter int) []byte {
		inner, err := asn1.Marshal(pbeParams{Salt: []byte("salt"), Iterations: iter})
		if err != nil {
			t.Fatal(err)
		}
		outer, err := asn1.Marshal(wrapped{Version: 3, Content: inner})
		if err != nil {
			t.Fatal(err)
		}
		return outer
	}
	tests := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"2048", mk(2048), true},
		{"max", mk(maxPBKDF2Iterations), true},
		{"max+1", mk(maxPBKDF2Iterations + 1), false},
		{"2^40", mk(1 << 40), false},
		{"negative", mk(-1), false},
	}
	for _, tc := range tests {
		err := checkPKCS12Iterations(tc.data)
		if (err == nil) != tc.ok {
			t.Errorf("%s: got %v, want ok=%v", tc.name, err, tc.ok)
		}
		if !tc.ok {
			if _, err := ParsePKCS12(tc.data, nil); err == nil || !strings.Contains(err.Error(), "iteration count") {
				t.Errorf("%s: ParsePKCS12 got %v", tc.name, err)
			}
		}
	}
}
