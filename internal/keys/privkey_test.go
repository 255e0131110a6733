package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
)

type keyInput struct {
	name string
	data []byte
}

type publicKey interface{ Equal(crypto.PublicKey) bool }

func noPassphrase(t *testing.T) PassphraseFunc {
	return func() ([]byte, error) {
		t.Error("passphrase asked for an unencrypted key")
		return nil, errors.New("unexpected")
	}
}

func TestParsePrivateKeyPlain(t *testing.T) {
	for _, kind := range []string{"rsa", "p256", "p384", "p521"} {
		key := testKey(t, kind)
		pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		cert := testCert(t, "alice", key, nil, nil)
		tests := []keyInput{
			{"pkcs8-pem", pemBytes("PRIVATE KEY", pkcs8)},
			{"pkcs8-der", pkcs8},
			{"cert-then-key-pem", append(certPEM(cert), pemBytes("PRIVATE KEY", pkcs8)...)},
		}
		switch k := key.(type) {
		case *rsa.PrivateKey:
			der := x509.MarshalPKCS1PrivateKey(k)
			tests = append(tests,
				keyInput{"pkcs1-pem", pemBytes("RSA PRIVATE KEY", der)},
				keyInput{"pkcs1-der", der},
				keyInput{"pkcs1-mislabelled-pem", pemBytes("PRIVATE KEY", der)},
			)
		case *ecdsa.PrivateKey:
			der, err := x509.MarshalECPrivateKey(k)
			if err != nil {
				t.Fatal(err)
			}
			params := pemBytes("EC PARAMETERS", []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07})
			tests = append(tests,
				keyInput{"sec1-pem", pemBytes("EC PRIVATE KEY", der)},
				keyInput{"sec1-der", der},
				keyInput{"ecparams-then-sec1-pem", append(params, pemBytes("EC PRIVATE KEY", der)...)},
			)
		}
		for _, tc := range tests {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				signer, err := ParsePrivateKey(tc.data, noPassphrase(t))
				if err != nil {
					t.Fatalf("ParsePrivateKey: %v", err)
				}
				if !key.Public().(publicKey).Equal(signer.Public()) {
					t.Error("got a different key")
				}
				if err := MatchesKey(cert, signer); err != nil {
					t.Errorf("MatchesKey: %v", err)
				}
			})
		}
	}
}

func TestParsePrivateKeyErrors(t *testing.T) {
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p224DER, err := x509.MarshalECPrivateKey(p224)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey := testKey(t, "rsa")
	pkcs8 := pkcs8PEM(t, rsaKey)
	cert := testCert(t, "bob", rsaKey, nil, nil)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "no private key found"},
		{"text", []byte("hello, world\n"), "no private key found"},
		{"random", []byte{0x30, 0x82, 0x01, 0x00, 0xde, 0xad}, "no private key found"},
		{"certificate-only", certPEM(cert), "no private key found in PEM data"},
		{"truncated-pem", pkcs8[:len(pkcs8)/2], "no private key found in PEM data"},
		{"corrupt-pkcs1", pemBytes("RSA PRIVATE KEY", []byte{0x30, 0x03, 0x02, 0x01, 0x00}), "keys: parsing RSA PRIVATE KEY"},
		{"p224", pemBytes("EC PRIVATE KEY", p224DER), "unsupported elliptic curve P-224"},
		{"encrypted-garbage", pemBytes("ENCRYPTED PRIVATE KEY", []byte{0x30, 0x00}), "malformed EncryptedPrivateKeyInfo"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			signer, err := ParsePrivateKey(tc.data, noPassphrase(t))
			if err == nil {
				t.Fatalf("got a %T, want an error", signer)
			}
			if signer != nil {
				t.Errorf("got a non-nil signer with error %v", err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "keys: ") {
				t.Errorf("got error %q, want it to start with \"keys: \" and contain %q", err, tc.want)
			}
		})
	}
}

func TestParsePrivateKeyEncrypted(t *testing.T) {
	needOpenSSL(t)
	const pass = "correct horse"
	for _, kind := range []string{"rsa", "p256", "p384"} {
		key := testKey(t, kind)
		dir := t.TempDir()
		writeFile(t, dir, "key.pem", pkcs8PEM(t, key))
		// openssl rsa needs -traditional to write PKCS#1 with DEK-Info;
		// openssl ec writes SEC 1 that way by default.
		legacy := []string{"rsa", "-traditional"}
		if kind != "rsa" {
			legacy = []string{"ec"}
		}
		tests := []struct {
			name string
			args []string
		}{
			{"pkcs8-aes256-sha256", []string{"pkcs8", "-topk8", "-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA256"}},
			{"pkcs8-aes128-sha1", []string{"pkcs8", "-topk8", "-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA1"}},
			{"pkcs8-aes192-sha512", []string{"pkcs8", "-topk8", "-v2", "aes-192-cbc", "-v2prf", "hmacWithSHA512"}},
			{"pkcs8-des3", []string{"pkcs8", "-topk8", "-v2", "des3"}},
			{"pkcs8-aes256-der", []string{"pkcs8", "-topk8", "-v2", "aes-256-cbc", "-outform", "DER"}},
			{"legacy-aes256", append(legacy[:len(legacy):len(legacy)], "-aes256")},
			{"legacy-des3", append(legacy[:len(legacy):len(legacy)], "-des3")},
		}
		for _, tc := range tests {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				args := append(tc.args, "-in", "key.pem", "-out", tc.name, "-passout", "pass:"+pass)
				data := openssl(t, dir, tc.name, args...)
				if strings.HasPrefix(tc.name, "legacy") && !strings.Contains(string(data), "Proc-Type: 4,ENCRYPTED") {
					t.Fatalf("openssl did not write legacy encrypted PEM:\n%s", data)
				}

				calls := 0
				signer, err := ParsePrivateKey(data, func() ([]byte, error) { calls++; return []byte(pass), nil })
				if err != nil {
					t.Fatalf("ParsePrivateKey: %v", err)
				}
				if !key.Public().(publicKey).Equal(signer.Public()) {
					t.Error("got a different key")
				}
				if calls != 1 {
					t.Errorf("passphrase asked %d times, want 1", calls)
				}

				calls = 0
				_, err = ParsePrivateKey(data, func() ([]byte, error) { calls++; return []byte("wrong horse"), nil })
				if !errors.Is(err, ErrIncorrectPassphrase) {
					t.Errorf("wrong passphrase: got %v, want ErrIncorrectPassphrase", err)
				}
				if calls != 1 {
					t.Errorf("wrong passphrase: asked %d times, want 1", calls)
				}

				if _, err := ParsePrivateKey(data, nil); !errors.Is(err, ErrPassphraseRequired) {
					t.Errorf("no passphrase func: got %v, want ErrPassphraseRequired", err)
				}

				errPrompt := errors.New("no terminal")
				if _, err := ParsePrivateKey(data, func() ([]byte, error) { return nil, errPrompt }); !errors.Is(err, errPrompt) {
					t.Errorf("failing passphrase func: got %v, want it wrapped", err)
				}
			})
		}
	}
}

// TestUnsupportedPKCS8Encryption checks that PBES1 keys, which OpenSSL still
// writes on request, fail with a message naming the scheme rather than as a
// wrong passphrase.
func TestUnsupportedPKCS8Encryption(t *testing.T) {
	needOpenSSL(t)
	dir := t.TempDir()
	writeFile(t, dir, "key.pem", pkcs8PEM(t, testKey(t, "p256")))
	data := openssl(t, dir, "enc.pem", "pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES", "-in", "key.pem", "-out", "enc.pem", "-passout", "pass:x")
	_, err := ParsePrivateKey(data, func() ([]byte, error) { return []byte("x"), nil })
	if err == nil || !strings.Contains(err.Error(), "only PBES2 is supported") {
		t.Errorf("got %v, want an unsupported-encryption error", err)
	}
}

func TestUnpad(t *testing.T) {
	tests := []struct {
		in   []byte
		want []byte
		ok   bool
	}{
		{[]byte{1, 2, 3, 4, 4, 4, 4, 4}, []byte{1, 2, 3, 4}, true},
		{[]byte{1, 2, 3, 4, 5, 3, 3, 3}, []byte{1, 2, 3, 4, 5}, true},
		{[]byte{8, 8, 8, 8, 8, 8, 8, 8}, []byte{}, true},
		{[]byte{1, 2, 3, 4, 5, 6, 7, 0}, nil, false},
		{[]byte{1, 2, 3, 4, 5, 6, 7, 9}, nil, false},
		{[]byte{1, 2, 3, 4, 5, 6, 2, 3}, nil, false},
		{nil, nil, false},
	}
	for _, tc := range tests {
		got, ok := unpad(tc.in, 8)
		if ok != tc.ok || (ok && string(got) != string(tc.want)) {
			t.Errorf("unpad(%v) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
