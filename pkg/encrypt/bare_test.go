package encrypt

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/internal/mime"
)

// sealRaw encrypts body as it is, with no MIME header, for cert, as the CMS
// (DER/BER) and as a mail message.
func sealRaw(t *testing.T, body []byte, c cms.Cipher, rcpt cms.Recipient) (ci, msg []byte) {
	t.Helper()
	var b bytes.Buffer
	w, err := cms.NewEnvelopedDataWriter(&b, cms.EnvelopeOptions{Recipients: []cms.Recipient{rcpt}, Cipher: c})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(body)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st := "enveloped-data"
	if c.AEAD() {
		st = "authEnveloped-data"
	}
	msg = []byte("From: alice@example.com\r\nSubject: bare\r\nContent-Type: application/pkcs7-mime; smime-type=" + st +
		"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64.StdEncoding.EncodeToString(b.Bytes()) + "\r\n")
	return b.Bytes(), msg
}

// Issue #15 item 4: a body encrypted without a MIME header comes out after
// the blank line that ends the header; under CBC it must be text, as garbage
// after a wrong key or a change is refused like a bad padding. A bare CMS
// file's content (item 1) is released as it is, whatever it is.
func TestDecryptBareBody(t *testing.T) {
	l := labtest.Seeded(t, "encrypt")
	bob := l.User("bob")
	rcpt := cms.Recipient{Certificate: bob.Cert}
	text := []byte("This is a test message.\r\nSecond line: with a colon.\r\n")
	binary := []byte("\x00\x01\x02 not text \xff\xfe")
	tests := []struct {
		name   string
		body   []byte
		cipher cms.Cipher
		bare   bool
		want   string // the output, or "" for a DecryptError
	}{
		{"text, cbc", text, cms.AES256CBC, false, "From: alice@example.com\r\nSubject: bare\r\n\r\n" + string(text)},
		{"text, gcm", text, cms.AES128GCM, false, "From: alice@example.com\r\nSubject: bare\r\n\r\n" + string(text)},
		{"binary, cbc: refused", binary, cms.AES256CBC, false, ""},
		{"binary, gcm: authenticated", binary, cms.AES128GCM, false, "From: alice@example.com\r\nSubject: bare\r\n\r\n" + string(binary)},
		{"binary, bare DER file, cbc", binary, cms.AES256CBC, true, string(binary)},
		{"text, bare DER file", text, cms.AES256CBC, true, string(text)},
		{"MIME entity, unchanged", []byte("Content-Type: text/plain\r\n\r\nhi\r\n"), cms.AES256CBC, false,
			"From: alice@example.com\r\nSubject: bare\r\nContent-Type: text/plain\r\n\r\nhi\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ci, msg := sealRaw(t, tc.body, tc.cipher, rcpt)
			in := msg
			if tc.bare {
				in = ci
			}
			var out bytes.Buffer
			_, err := Decrypt(&out, bytes.NewReader(in), DecryptOptions{Certificate: bob.Cert, Key: bob.Key})
			if tc.want == "" {
				var de *DecryptError
				if !errors.As(err, &de) || out.Len() != 0 {
					t.Fatalf("got %v and %d bytes, want a DecryptError and nothing", err, out.Len())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Errorf("got %q, want %q", out.String(), tc.want)
			}
		})
	}
	// A bare DER file forced as mail is worded, not decrypted.
	ci, _ := sealRaw(t, text, cms.AES256CBC, rcpt)
	_, err := Decrypt(&bytes.Buffer{}, bytes.NewReader(ci), DecryptOptions{Certificate: bob.Cert, Key: bob.Key, Form: FormMIME})
	var nm *mime.NotMailError
	if !errors.As(err, &nm) || !strings.Contains(err.Error(), "binary data") {
		t.Errorf("forced mail: got %v", err)
	}
}
