package encrypt_test

import (
	"bytes"
	"crypto/x509"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/pkg/encrypt"
)

// TestDecryptNotMailError (issue #17 item 1): a caller of Decrypt tells
// input that is not mail apart with pkg/encrypt's own type, inside the
// *MalformedError, worded by what it starts with, and nothing is written.
func TestDecryptNotMailError(t *testing.T) {
	bob := labtest.Seeded(t, "encrypt").User("bob")
	for _, tc := range []struct {
		name  string
		in    []byte
		form  encrypt.InputForm
		start string
	}{
		{"binary data forced as mail", []byte{0x30, 0x82, 0x00, 0x01, 0xff}, encrypt.FormMIME, "binary data"},
		{"a PEM certificate", []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), encrypt.FormAuto,
			"a PEM CERTIFICATE block, not a CMS message"},
		{"text without a header", []byte("just a note\nof two lines\n"), encrypt.FormAuto, "text that is not a header field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := encrypt.Decrypt(&out, bytes.NewReader(tc.in), encrypt.DecryptOptions{Certificate: bob.Cert, Key: bob.Key, Form: tc.form})
			var me *encrypt.MalformedError
			var nm *encrypt.NotMailError
			if !errors.As(err, &me) || !errors.As(err, &nm) || nm.Start != tc.start || !strings.HasSuffix(err.Error(), "it starts with "+tc.start) {
				t.Fatalf("got %v (%T), want an *encrypt.NotMailError starting with %q inside a *MalformedError", err, err, tc.start)
			}
			if out.Len() != 0 {
				t.Errorf("%d bytes written", out.Len())
			}
		})
	}
	if got := (&encrypt.NotMailError{Start: "binary data"}).Error(); got != "the input is not a mail message: it starts with binary data" {
		t.Errorf("NotMailError.Error() = %q", got)
	}
}

// TestOpenInput (issue #17 item 1): the public form sniffing smimectl's
// --eol input uses tells mail from a bare CMS file and refuses the rest
// with a *NotMailError; mail comes back byte for byte.
func TestOpenInput(t *testing.T) {
	mail := "From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n"
	der := []byte{0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0, 0x00}
	for _, tc := range []struct {
		name string
		in   []byte
		want encrypt.InputForm
		nm   bool
	}{
		{"mail", []byte(mail), encrypt.FormMIME, false},
		{"DER ContentInfo", der, encrypt.FormDER, false},
		{"binary data", []byte{0x00, 0x01, 0xff}, encrypt.FormAuto, true},
	} {
		r, form, err := encrypt.OpenInput(bytes.NewReader(tc.in), encrypt.FormAuto)
		var nm *encrypt.NotMailError
		if tc.nm {
			if !errors.As(err, &nm) || r != nil {
				t.Errorf("%s: got %v, %v; want a *NotMailError", tc.name, form, err)
			}
			continue
		}
		if err != nil || form != tc.want {
			t.Errorf("%s: got %v, %v; want %v", tc.name, form, err, tc.want)
			continue
		}
		if tc.want == encrypt.FormMIME {
			if got, _ := io.ReadAll(r); string(got) != mail {
				t.Errorf("mail read back as %q", got)
			}
		}
	}
}

// TestDecryptSpoolError (issue #17 item 1): plaintext that can't be
// spooled because the directory is gone is a SpoolError naming it, found
// by errors.As through the public interface, with its cause.
func TestDecryptSpoolError(t *testing.T) {
	l := labtest.Seeded(t, "encrypt")
	bob := l.User("bob")
	var sealed bytes.Buffer
	if err := encrypt.Encrypt(&sealed, strings.NewReader("From: a@example.com\r\n\r\nhello\r\n"),
		encrypt.Options{Recipients: []*x509.Certificate{bob.Cert}, Now: func() time.Time { return bob.Cert.NotBefore.Add(time.Hour) }}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "missing")
	_, err := encrypt.Decrypt(io.Discard, &sealed, encrypt.DecryptOptions{Certificate: bob.Cert, Key: bob.Key, SpoolDir: dir, SpoolThreshold: 1})
	var se encrypt.SpoolError
	if !errors.As(err, &se) || se.SpoolDir() != dir || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("got %v (%T), want a SpoolError in %q caused by a missing directory", err, err, dir)
	}
}
