package encrypt_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/pkg/encrypt"
)

// TestDecryptSealedErrors (issue #17 item 1): a caller of Decrypt tells
// input that is not mail, and a message past a bound of reading CMS (a
// hostile one with 1,001 recipient entries), apart with pkg/encrypt's own
// types, inside the *MalformedError, and nothing is written.
func TestDecryptSealedErrors(t *testing.T) {
	l := labtest.Seeded(t, "encrypt")
	bob := l.User("bob")
	var rs []cms.Recipient
	for range cms.MaxRecipients + 1 {
		rs = append(rs, cms.Recipient{Certificate: bob.Cert})
	}
	var many bytes.Buffer
	many.WriteString("From: mallory@example.com\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n" +
		"Content-Transfer-Encoding: binary\r\n\r\n")
	w, err := cms.NewEnvelopedDataWriter(&many, cms.EnvelopeOptions{Recipients: rs})
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "Content-Type: text/plain\r\n\r\nhi\r\n")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		in    []byte
		form  encrypt.InputForm
		check func(error) bool
	}{
		{"binary data forced as mail", []byte{0x30, 0x82, 0x00, 0x01, 0xff}, encrypt.FormMIME, func(err error) bool {
			var nm *encrypt.NotMailError
			return errors.As(err, &nm) && nm.Start == "binary data" && strings.HasSuffix(err.Error(), "it starts with binary data")
		}},
		{"a PEM certificate", []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), encrypt.FormAuto, func(err error) bool {
			var nm *encrypt.NotMailError
			return errors.As(err, &nm) && strings.HasPrefix(nm.Start, "a PEM CERTIFICATE block")
		}},
		{"1,001 recipients", many.Bytes(), encrypt.FormAuto, func(err error) bool {
			var le *encrypt.LimitError
			return errors.As(err, &le) && le.What == "recipients" && le.Max == cms.MaxRecipients && !le.Bytes
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := encrypt.Decrypt(&out, bytes.NewReader(tc.in), encrypt.DecryptOptions{Certificate: bob.Cert, Key: bob.Key, Form: tc.form})
			var me *encrypt.MalformedError
			if !errors.As(err, &me) || !tc.check(err) {
				t.Fatalf("got %v (%T), want it told apart by pkg/encrypt's types inside a *MalformedError", err, err)
			}
			if out.Len() != 0 {
				t.Errorf("%d bytes written", out.Len())
			}
		})
	}
	// The zero values still say what they are.
	if got := (&encrypt.NotMailError{Start: "binary data"}).Error(); got != "decrypt: the input is not a mail message: it starts with binary data" {
		t.Errorf("NotMailError.Error() = %q", got)
	}
	if got := (&encrypt.LimitError{What: "recipients", Max: 1000}).Error(); got != "decrypt: message refused: more than 1000 recipients" {
		t.Errorf("LimitError.Error() = %q", got)
	}
}
