package sign_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// TestSignNotes covers issue #15 items 11 and 12: an 8-bit body is encoded before it
// is signed (quoted-printable for text, base64 otherwise) unless Binary, and still
// verifies; signing tells its caller what recipients would otherwise discover.
func TestSignNotes(t *testing.T) {
	l := labtest.Default(t)
	alice, dave := l.User("alice-sign"), l.User("dave-expired")
	text8 := "From: Alice <alice@example.com>\r\nSubject: hi\r\nContent-Type: text/plain; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: 8bit\r\n\r\nGr\xc3\xbc\xc3\x9fe\r\n"
	bin := "From: Alice <alice@example.com>\r\nSubject: hi\r\nContent-Type: application/octet-stream\r\n\r\n\x00\x01\xff\r\n"
	for _, tc := range []struct {
		name    string
		in      string
		opts    sign.Options
		cte     string // the Content-Transfer-Encoding signed, "" for none
		notes   []string
		mode    sign.Mode
		nocheck bool // the signer's certificate is not valid: only the notes are checked
	}{
		{"7-bit text, full chain", msg, sign.Options{Key: alice.Key, Certificate: alice.Cert, Chain: l.Chain()}, "", nil, sign.Clear, false},
		{"8-bit text", text8, sign.Options{Key: alice.Key, Certificate: alice.Cert, Chain: l.Chain()}, "quoted-printable",
			[]string{"note: the body is 8-bit (text/plain): encoded as quoted-printable"}, sign.Clear, false},
		{"8-bit text, opaque", text8, sign.Options{Key: alice.Key, Certificate: alice.Cert, Chain: l.Chain()}, "quoted-printable",
			[]string{"note: the body is 8-bit"}, sign.Opaque, false},
		{"binary", bin, sign.Options{Key: alice.Key, Certificate: alice.Cert, Chain: l.Chain()}, "base64",
			[]string{"note: the body is 8-bit (application/octet-stream): encoded as base64"}, sign.Clear, false},
		{"8-bit multipart, clear", "From: Alice <alice@example.com>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" +
			"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGr\xc3\xbc\xc3\x9fe\r\n--b--\r\n",
			sign.Options{Key: alice.Key, Certificate: alice.Cert, Chain: l.Chain()}, "", []string{"warning: the multipart/mixed body holds 8-bit data, signed as is"}, sign.Clear, true},
		{"8-bit text, Binary", text8, sign.Options{Key: alice.Key, Certificate: alice.Cert, Chain: l.Chain(), Binary: true}, "8bit", nil, sign.Clear, false},
		{"no chain", msg, sign.Options{Key: alice.Key, Certificate: alice.Cert}, "",
			[]string{`warning: the signature carries no issuer of the signer's certificate: "CN=smimectl lab intermediate CA,O=smimectl lab" is missing`}, sign.Clear, true},
		{"no From", strings.Replace(msg, "From: Alice <alice@example.com>\r\n", "", 1), sign.Options{Key: alice.Key, Certificate: alice.Cert, Chain: l.Chain()}, "",
			[]string{"warning: the message has no From field and no Options.From was given"}, sign.Clear, true},
		{"expired, Force", strings.Replace(msg, "alice@", "dave@", 1), sign.Options{Key: dave.Key, Certificate: dave.Cert, Chain: l.Chain(), Force: true}, "",
			[]string{"warning: the signer's certificate expired on 2025-06-30T00:00:00Z: signed anyway (Options.Force)"}, sign.Clear, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			opts := tc.opts
			opts.Mode = tc.mode
			opts.Now = func() time.Time { return now }
			opts.Notes = func(n sign.Note) {
				kind := "note: "
				if n.Warning {
					kind = "warning: "
				}
				got = append(got, kind+n.Text)
			}
			var out bytes.Buffer
			if err := sign.Sign(context.Background(), &out, strings.NewReader(tc.in), opts); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.notes) {
				t.Fatalf("notes %q, want %q", got, tc.notes)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.notes[i]) {
					t.Errorf("note %q, want %q...", got[i], tc.notes[i])
				}
			}
			if tc.nocheck {
				return
			}
			var content bytes.Buffer
			if _, err := verify.Verify(context.Background(), &content, bytes.NewReader(out.Bytes()),
				verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return now }}); err != nil {
				t.Fatalf("verify: %v", err)
			}
			hasCTE := strings.Contains(content.String(), "Content-Transfer-Encoding: "+tc.cte+"\r\n")
			if tc.cte != "" && !hasCTE || tc.cte == "" && strings.Contains(content.String(), "Content-Transfer-Encoding") {
				t.Errorf("signed content has the wrong transfer encoding (want %q):\n%s", tc.cte, content.String())
			}
			if tc.cte != "" && tc.cte != "8bit" && bytes.ContainsFunc(content.Bytes(), func(r rune) bool { return r >= 0x80 || r == 0 }) {
				t.Errorf("signed content still has 8-bit bytes")
			}
		})
	}
}
