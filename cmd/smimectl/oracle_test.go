package main

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/mime/authrestest"
)

// TestDecryptNoPaddingOracle is issue #11 item 10: whether the CBC padding
// of a modified message checks out must not show. A bad padding, a good
// padding over plaintext that is not MIME, a wrong content key and a
// broken RSA PKCS#1 v1.5 key transport (a random key, RFC 3218) give the
// same exit status, the same standard error and the same
// Authentication-Results verdict, with decrypt and with decrypt --annotate.
func TestDecryptNoPaddingOracle(t *testing.T) {
	dir := t.TempDir()
	lab := filepath.Join(dir, "lab")
	mustRun(t, "lab", "init", lab)
	l := func(name string) string { return filepath.Join(lab, name) }
	pemBytes, err := os.ReadFile(l("bob.crt"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(pemBytes)
	bob, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("Content-Type: text/plain\r\n\r\nMeet at noon, by the old mill.\r\n")
	padded := pkcs7Pad(plain)
	garbage := bytes.Repeat([]byte{0xff}, len(plain))
	for i := 1; i < len(garbage); i++ {
		h := sha256.Sum256(garbage[:i])
		garbage[i] = h[0] | 0x80 // no line end, no colon: not a header
	}
	badLast := append([]byte(nil), padded...)
	badLast[len(badLast)-1] = 0x11
	badInner := append([]byte(nil), padded...)
	badInner[len(badInner)-2] ^= 0x01
	zeroPad := append([]byte(nil), padded...)
	zeroPad[len(zeroPad)-1] = 0
	wrongKey := bytes.Repeat([]byte{7}, 32)

	cases := []struct {
		name    string
		content []byte // the plaintext blocks, padding included
		key     []byte // the content key to encrypt them under; nil: the message's
		breakKT bool   // corrupt the RSA key transport
	}{
		{"bad last padding byte", badLast, nil, false},
		{"zero padding byte", zeroPad, nil, false},
		{"bad inner padding byte", badInner, nil, false},
		{"good padding over garbage", pkcs7Pad(garbage), nil, false},
		{"wrong content key", padded, wrongKey, false},
		{"broken key transport", padded, nil, true},
	}
	type outcome struct {
		code    int
		stderr  string
		verdict string
	}
	var first *outcome
	var firstName string
	for _, tc := range cases {
		msg := cbcMessage(t, bob, plain, tc.content, tc.key, tc.breakKT)
		path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".eml")
		if err := os.WriteFile(path, msg, 0o644); err != nil {
			t.Fatal(err)
		}
		_, errOut, code := runIn(t, "", "decrypt", "--p12", l("bob.p12"), "--pass-file", l("p12.pass"), "--in", path)
		out, aerrOut, acode := runIn(t, "", "decrypt", "--annotate", "--authserv-id", "mx.example.net", "--p12", l("bob.p12"),
			"--pass-file", l("p12.pass"), "--trust", l("root.crt"), "--revocation", "off", "--at", annotateAt, "--in", path)
		fields := authrestest.Find(out)
		if len(fields) != 1 {
			t.Fatalf("%s: %d Authentication-Results fields, want 1", tc.name, len(fields))
		}
		if !strings.HasSuffix(out, string(msg)) {
			t.Errorf("%s: --annotate did not pass the message through as received", tc.name)
		}
		got := outcome{code<<8 | acode, errOut + "\x00" + aerrOut, fields[0]}
		if code != exitFailed || acode != exitOK {
			t.Errorf("%s: exit %d, with --annotate %d; want %d and %d", tc.name, code, acode, exitFailed, exitOK)
		}
		if first == nil {
			first, firstName = &got, tc.name
			if !strings.Contains(got.verdict, "smime=neutral") {
				t.Errorf("%s: verdict %q, want smime=neutral", tc.name, got.verdict)
			}
			continue
		}
		if got != *first {
			t.Errorf("%s and %s can be told apart:\n%+v\n%+v", firstName, tc.name, *first, got)
		}
	}
	// The harness itself: the untouched message decrypts.
	msg := cbcMessage(t, bob, plain, padded, nil, false)
	path := filepath.Join(dir, "good.eml")
	os.WriteFile(path, msg, 0o644)
	out, errOut, code := runIn(t, "", "decrypt", "--p12", l("bob.p12"), "--pass-file", l("p12.pass"), "--in", path)
	if code != exitOK || !strings.HasSuffix(out, "by the old mill.\r\n") {
		t.Fatalf("the unmodified message: exit %d, %q %q", code, out, errOut)
	}
}

func pkcs7Pad(b []byte) []byte {
	n := aes.BlockSize - len(b)%aes.BlockSize
	return append(append([]byte(nil), b...), bytes.Repeat([]byte{byte(n)}, n)...)
}

// cbcMessage encrypts plain to bob with AES-256-CBC under a known content
// key and IV, then puts in place of the ciphertext content (whole blocks,
// padding included) encrypted under key (nil: the message's own), and, if
// breakKT, flips a byte of the RSA-encrypted content key.
func cbcMessage(t *testing.T, bob *x509.Certificate, plain, content, key []byte, breakKT bool) []byte {
	t.Helper()
	cek := bytes.Repeat([]byte{0x42}, 32)
	iv := bytes.Repeat([]byte{0x24}, 16)
	var der bytes.Buffer
	w, err := cms.NewEnvelopedDataWriter(&der, cms.EnvelopeOptions{
		Recipients: []cms.Recipient{{Certificate: bob}},
		Rand:       io.MultiReader(bytes.NewReader(append(append([]byte(nil), cek...), iv...)), rand.Reader),
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(plain)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	enc := func(k, p []byte) []byte {
		b, _ := aes.NewCipher(k)
		out := make([]byte, len(p))
		cipher.NewCBCEncrypter(b, iv).CryptBlocks(out, p)
		return out
	}
	data := der.Bytes()
	orig := enc(cek, pkcs7Pad(plain))
	i := bytes.Index(data, orig)
	if i < 0 || len(content) != len(orig) {
		t.Fatal("ciphertext not found, or content of another length")
	}
	if key == nil {
		key = cek
	}
	copy(data[i:], enc(key, content))
	if breakKT {
		var ek []byte
		cms.ReadEnveloped(bytes.NewReader(data), io.Discard, func(env *cms.Enveloped) ([]byte, error) {
			ek = env.Recipients[0].EncryptedKey
			return nil, errors.New("stop")
		})
		j := bytes.Index(data, ek)
		if ek == nil || j < 0 {
			t.Fatal("encrypted key not found")
		}
		data[j+len(ek)/2] ^= 0x01
	}
	b64 := base64.StdEncoding.EncodeToString(data)
	var msg strings.Builder
	msg.WriteString("From: alice@example.com\r\nTo: bob@example.com\r\nSubject: plans\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=\"smime.p7m\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n")
	for len(b64) > 76 {
		msg.WriteString(b64[:76] + "\r\n")
		b64 = b64[76:]
	}
	msg.WriteString(b64 + "\r\n")
	return []byte(msg.String())
}
