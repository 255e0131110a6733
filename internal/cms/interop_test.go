package cms

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/smimectl/smimectl/internal/testpeer"
)

// Interop with openssl cms at the CMS level (DER in and out, no MIME): it
// decrypts what we encrypt and we decrypt what it encrypts, for every key
// management and cipher both support. The CLI scripts repeat this with
// S/MIME messages, gpgsm and NSS.

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func opensslFiles(t *testing.T, dir, name string, id testIdentity) (cert, key string) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(id.key)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, dir, name+".crt", "CERTIFICATE", id.cert.Raw), writePEM(t, dir, name+".key", "PRIVATE KEY", der)
}

func runOpenSSL(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("openssl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %v: %v\n%s", args, err, out)
	}
}

func TestInteropOpenSSLEnveloped(t *testing.T) {
	testpeer.Require(t, "openssl")
	dir := t.TempDir()
	ids := identities(t)
	ids384 := p384Identity(t)
	files := map[string][2]string{}
	for name, id := range map[string]testIdentity{"rsa": ids["rsa"], "ecdsa": ids["ecdsa"], "p384": ids384} {
		c, k := opensslFiles(t, dir, name, id)
		files[name] = [2]string{c, k}
	}
	idOf := map[string]testIdentity{"rsa": ids["rsa"], "ecdsa": ids["ecdsa"], "p384": ids384}
	content := bytes.Repeat([]byte("interop with openssl\r\n"), 4000)
	in := filepath.Join(dir, "content")
	os.WriteFile(in, content, 0o600)

	cases := []struct {
		name, who, cipher string
		extra             []string
	}{
		{"rsa-aes256cbc", "rsa", "-aes-256-cbc", nil},
		{"rsa-aes128gcm", "rsa", "-aes-128-gcm", nil},
		{"rsa-aes256gcm-oaep", "rsa", "-aes-256-gcm", []string{"-keyopt", "rsa_padding_mode:oaep"}},
		{"rsa-des3-keyid", "rsa", "-des3", []string{"-keyid"}},
		{"p256-aes128cbc", "ecdsa", "-aes-128-cbc", nil},
		{"p384-aes256gcm-keyid", "p384", "-aes-256-gcm", []string{"-keyid"}},
	}
	// openssl encrypts, we decrypt.
	for _, tc := range cases {
		t.Run("from-openssl/"+tc.name, func(t *testing.T) {
			out := filepath.Join(dir, tc.name+".der")
			args := []string{"cms", "-encrypt", "-binary", "-outform", "DER", "-in", in, "-out", out, tc.cipher}
			extra := tc.extra
			if len(extra) > 0 && extra[0] == "-keyid" {
				args = append(args, "-keyid")
				extra = nil
			}
			// -keyopt applies to the -recip before it.
			args = append(args, "-recip", files[tc.who][0])
			args = append(args, extra...)
			runOpenSSL(t, args...)
			msg, _ := os.ReadFile(out)
			got, _, err := decryptWith(msg, idOf[tc.who])
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, content) {
				t.Fatal("content differs")
			}
		})
	}
	// We encrypt, openssl decrypts.
	for _, tc := range []struct {
		name, who string
		c         Cipher
		r         Recipient
	}{
		{"rsa-aes256cbc", "rsa", AES256CBC, Recipient{Certificate: ids["rsa"].cert}},
		{"rsa-oaep-aes128gcm", "rsa", AES128GCM, Recipient{Certificate: ids["rsa"].cert, OAEP: true}},
		{"rsa-keyid-aes256gcm", "rsa", AES256GCM, Recipient{Certificate: ids["rsa"].cert, SubjectKeyID: true}},
		{"p256-aes256cbc", "ecdsa", AES256CBC, Recipient{Certificate: ids["ecdsa"].cert}},
		{"p384-keyid-aes128cbc", "p384", AES128CBC, Recipient{Certificate: ids384.cert, SubjectKeyID: true}},
	} {
		t.Run("to-openssl/"+tc.name, func(t *testing.T) {
			msg := encryptTo(t, content, tc.c, tc.r)
			p := filepath.Join(dir, "ours-"+tc.name+".ber")
			os.WriteFile(p, msg, 0o600)
			out := filepath.Join(dir, "ours-"+tc.name+".out")
			runOpenSSL(t, "cms", "-decrypt", "-binary", "-inform", "DER", "-in", p, "-out", out,
				"-recip", files[tc.who][0], "-inkey", files[tc.who][1])
			got, _ := os.ReadFile(out)
			if !bytes.Equal(got, content) {
				t.Fatal("openssl decrypts different content")
			}
		})
	}
}
