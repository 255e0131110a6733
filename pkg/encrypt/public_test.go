package encrypt

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/smimectl/smimectl/internal/kem"
	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/internal/mime"
)

// TestInputFormText: the public InputForm reads and writes the names
// mime.ParseForm did, and refuses others (issue #17 item 1: InputForm is
// this package's own type, replacing verify.ParseForm).
func TestInputFormText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want InputForm
		ok   bool
	}{
		{"", FormAuto, true}, {"auto", FormAuto, true}, {"smime", FormMIME, true}, {"SMIME", FormMIME, true},
		{"der", FormDER, true}, {"PEM", FormPEM, true}, {"mime", 0, false}, {"der\n", 0, false},
	} {
		var f InputForm
		err := f.UnmarshalText([]byte(tc.in))
		if (err == nil) != tc.ok || tc.ok && f != tc.want {
			t.Errorf("UnmarshalText(%q) = %v, %v", tc.in, f, err)
		}
		old, oldErr := mime.ParseForm(tc.in)
		if (oldErr == nil) != tc.ok || tc.ok && int(old) != int(f) {
			t.Errorf("%q: mime.ParseForm says %v, %v", tc.in, old, oldErr)
		}
		if tc.ok {
			b, _ := f.MarshalText()
			if string(b) != old.String() || f.String() != old.String() {
				t.Errorf("%q: MarshalText %q, want %q", tc.in, b, old.String())
			}
		}
	}
}

// TestProtectedHeadersJSON: the public ProtectedHeaders is the same struct
// as the parser's, so JSON output is byte-identical (issue #17 item 1).
func TestProtectedHeadersJSON(t *testing.T) {
	p := &mime.Protection{HP: "cipher", Fields: []mime.Field{{Name: "Subject", Value: "Plans"}},
		Outer:       []mime.Field{{Name: "Subject", Value: "[...]"}},
		Differences: []mime.Difference{{Field: "Subject", Kind: mime.DiffObscured, Protected: "Plans", Sent: "[...]"}, {Field: "To", Kind: mime.DiffAdded, Outer: "x@example.com"}}}
	a, _ := json.Marshal(p)
	b, _ := json.Marshal(protectedHeaders(p))
	if !bytes.Equal(a, b) {
		t.Fatalf("JSON differs:\n%s\n%s", a, b)
	}
	ph := protectedHeaders(p)
	if ph.Get("subject") != "Plans" || IsFault(ph.Differences[0]) || !IsFault(ph.Differences[1]) {
		t.Errorf("Get/IsFault wrong on %+v", ph)
	}
	if protectedHeaders(nil) != nil {
		t.Error("nil protection is not nil")
	}
	for _, k := range []string{DiffChanged, DiffAdded, DiffMissing, DiffObscured, DiffRemoved} {
		if IsFault(HeaderDifference{Kind: k}) != mime.IsFault(mime.Difference{Kind: k}) {
			t.Errorf("%s: IsFault disagrees with the parser", k)
		}
	}
}

// TestErrKEMUnwrap: an ML-KEM entry for our certificate that does not
// unwrap with our key is a *DecryptError that errors.Is finds as the
// public ErrKEMUnwrap, so callers need no internal package (issue #17
// item 1); an RSA failure is not.
func TestErrKEMUnwrap(t *testing.T) {
	l := labtest.Seeded(t, "encrypt")
	dan, frank := mlkemUser(t, l, "dan"), mlkemUser(t, l, "frank")
	enc := encryptMsg(t, testMsg, Options{Recipients: []*x509.Certificate{dan.Cert}})
	_, err := Decrypt(io.Discard, bytes.NewReader(enc), DecryptOptions{Certificate: dan.Cert, Key: frank.Key})
	var de *DecryptError
	if !errors.As(err, &de) || !errors.Is(err, ErrKEMUnwrap) {
		t.Fatalf("got %v, want a *DecryptError that is ErrKEMUnwrap", err)
	}
	if errors.Is(&DecryptError{Err: errors.New("other")}, ErrKEMUnwrap) {
		t.Error("any DecryptError is ErrKEMUnwrap")
	}
}

// TestRecipientKind (issue #17 item 4): every recipient entry carries its
// kind as a named type, from the entry itself rather than from a prefix of
// its key management name (which called an ML-KEM entry "other").
func TestRecipientKind(t *testing.T) {
	l := labtest.Seeded(t, "encrypt")
	dan := mlkemUser(t, l, "dan")
	enc := encryptMsg(t, testMsg, Options{Recipients: []*x509.Certificate{l.User("bob").Cert, l.User("carol").Cert, dan.Cert}})
	res, err := Decrypt(io.Discard, bytes.NewReader(enc), DecryptOptions{Certificate: dan.Cert, Key: dan.Key})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res.Recipients {
		b, _ := r.Kind.MarshalText()
		got = append(got, string(b))
	}
	if strings.Join(got, ",") != "key-transport,key-agreement,kem" {
		t.Errorf("kinds %q", got)
	}
	if RecipientKind(9).String() != "RecipientKind(9)" || RecipientOther.String() != "other" {
		t.Error("names")
	}
}

// TestCipherText (issue #17 item 4): Cipher reads and writes its names
// (ParseCipher became UnmarshalText).
func TestCipherText(t *testing.T) {
	for in, want := range map[string]Cipher{"aes-256-gcm": AES256GCM, "AES-128-CBC": AES128CBC, "3des": DES3CBC, "des3": DES3CBC} {
		var c Cipher
		if err := c.UnmarshalText([]byte(in)); err != nil || c != want {
			t.Errorf("%q: %v, %v", in, c, err)
		}
	}
	var c Cipher
	if err := c.UnmarshalText([]byte("aes-512-cbc")); err == nil || err.Error() != `encrypt: unknown cipher "aes-512-cbc" (want aes-256-gcm, aes-128-gcm, aes-256-cbc or aes-128-cbc)` {
		t.Errorf("got %v", err)
	}
	if b, _ := AES256GCM.MarshalText(); string(b) != "aes-256-gcm" {
		t.Errorf("MarshalText %q", b)
	}
}

// mlkemUser is an ML-KEM-768 user of the lab, <name>-mlkem.
func mlkemUser(t *testing.T, l *lab.Lab, name string) *lab.KEMUser {
	t.Helper()
	u, err := l.MLKEMUser(name+"-mlkem", name, strings.ToUpper(name[:1])+name[1:], kem.MLKEM768)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
