package encrypt

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/lab/labtest"
)

// countingKey counts the private-key operations made with it.
type countingKey struct {
	crypto.Decrypter
	n int
}

func (k *countingKey) Decrypt(rand io.Reader, msg []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	k.n++
	return k.Decrypter.Decrypt(rand, msg, opts)
}

// TestTryAllBound: --try-all on a message of 1,000 OAEP entries for
// another key of the same size makes at most MaxKeyAttempts RSA
// decryptions, not one per entry (issue #11 item 12), and the error
// counts the recipients instead of listing them all (item 13).
func TestTryAllBound(t *testing.T) {
	l := labtest.Seeded(t, "encrypt")
	bob, carol := l.User("bob"), l.User("alice-encrypt")
	bk, ok1 := bob.Key.(*rsa.PrivateKey)
	ck, ok2 := carol.Cert.PublicKey.(*rsa.PublicKey)
	if !ok1 || !ok2 || bk.Size() != ck.Size() {
		t.Fatalf("the lab's bob and alice-encrypt need RSA keys of one size")
	}
	msg := envelopedTo(t, cms.Recipient{Certificate: carol.Cert, OAEP: true}, cms.MaxRecipients)
	key := &countingKey{Decrypter: bk}
	_, err := Decrypt(io.Discard, bytes.NewReader(msg), DecryptOptions{Certificate: bob.Cert, Key: key, TryAll: true})
	var nf *NotForUsError
	if !errors.As(err, &nf) || len(nf.Recipients) != cms.MaxRecipients {
		t.Fatalf("got %v, want a NotForUsError with %d recipients", err, cms.MaxRecipients)
	}
	if key.n > MaxKeyAttempts {
		t.Errorf("%d private-key operations, want at most %d", key.n, MaxKeyAttempts)
	}
	if got := strings.Count(err.Error(), "serial "); got != MaxListedRecipients || !strings.Contains(err.Error(), "(1000 recipients: ") ||
		!strings.HasSuffix(err.Error(), "; and 990 more)") {
		t.Errorf("error names %d serials, want %d and a count: %.300s", got, MaxListedRecipients, err)
	}
}

// envelopedTo is a message from mallory enveloped for n recipient entries,
// each rcpt.
func envelopedTo(t *testing.T, rcpt cms.Recipient, n int) []byte {
	t.Helper()
	rs := make([]cms.Recipient, n)
	for i := range rs {
		rs[i] = rcpt
	}
	var msg bytes.Buffer
	msg.WriteString("From: mallory@example.com\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n" +
		"Content-Transfer-Encoding: binary\r\n\r\n")
	w, err := cms.NewEnvelopedDataWriter(&msg, cms.EnvelopeOptions{Recipients: rs})
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "Content-Type: text/plain\r\n\r\nhi\r\n")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return msg.Bytes()
}

// TestDecryptLimitError (issue #17 item 1): a hostile message of 1,001
// recipient entries is past a bound of reading CMS: a caller finds the
// *LimitError (pkg/verify's LimitError too) inside the *MalformedError,
// CMS says which kind of bound, the text stays the reader's, and nothing
// is written.
func TestDecryptLimitError(t *testing.T) {
	bob := labtest.Seeded(t, "encrypt").User("bob")
	msg := envelopedTo(t, cms.Recipient{Certificate: bob.Cert}, cms.MaxRecipients+1)
	var out bytes.Buffer
	_, err := Decrypt(&out, bytes.NewReader(msg), DecryptOptions{Certificate: bob.Cert, Key: bob.Key})
	var me *MalformedError
	var le *LimitError
	if !errors.As(err, &me) || !errors.As(err, &le) || le.What != "recipients" || le.Max != cms.MaxRecipients || le.Bytes || !le.CMS() ||
		!strings.HasSuffix(err.Error(), "more than 1000 recipients") {
		t.Fatalf("got %v (%T), want a CMS *LimitError over %d recipients inside a *MalformedError", err, err, cms.MaxRecipients)
	}
	if out.Len() != 0 {
		t.Errorf("%d bytes written", out.Len())
	}
	if (&LimitError{What: "parts in a multipart entity", Max: 1000}).CMS() {
		t.Error("a bound without a CMS reader's error is not one of CMS")
	}
}

func TestNotForUsSummary(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{
		{1, "1 recipient: subject key identifier 00"},
		{2, "2 recipients: subject key identifier 00; subject key identifier 01"},
		{10, "10 recipients: subject key identifier 00; "},
		{11, "11 recipients: subject key identifier 00; "},
		{40000, "40000 recipients: subject key identifier 00; "},
	} {
		e := &NotForUsError{}
		for i := range tc.n {
			e.Recipients = append(e.Recipients, Recipient{SubjectKeyID: fmt.Sprintf("%02X", i%256)})
		}
		s := e.Summary()
		if !strings.HasPrefix(s, tc.want) || strings.Count(s, "subject key identifier") != min(tc.n, MaxListedRecipients) {
			t.Errorf("%d recipients: got %q", tc.n, s)
		}
		if more := tc.n - MaxListedRecipients; more > 0 && !strings.HasSuffix(s, fmt.Sprintf("; and %d more", more)) {
			t.Errorf("%d recipients: got %q, want the rest counted", tc.n, s)
		}
		if len(e.Error()) > 1000 {
			t.Errorf("%d recipients: error of %d bytes", tc.n, len(e.Error()))
		}
	}
}
