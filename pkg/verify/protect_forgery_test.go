package verify_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// TestProtectedHeaderForgery: protected header fields (RFC 9788) that a
// signer could use to pass the sender check while a mail client, and the
// released message, show someone else (red team, after issue #11 item 2).
// carol holds a valid certificate for carol@example.com and wants bob to
// read a message from alice@example.com.
func TestProtectedHeaderForgery(t *testing.T) {
	l := labtest.Default(t)
	carol := l.User("carol")
	bob := &verify.Identity{Certificate: l.User("bob").Cert, Key: l.User("bob").Key}
	signCarol := func(in []byte, protect bool) []byte {
		return signWith(t, sign.Options{Key: carol.Key, Certificate: carol.Cert, Chain: l.Chain(),
			Mode: sign.Clear, ProtectHeaders: protect, Force: true}, in)
	}
	// replaceOuter replaces old by new once, in the outer header only (not
	// covered by a clear signature).
	replaceOuter := func(m []byte, old, new string) []byte {
		i := bytes.Index(m, []byte(old))
		if i < 0 || i > bytes.Index(m, []byte("\r\n\r\n")) {
			t.Fatalf("no %q in the outer header", old)
		}
		return append(append(bytes.Clone(m[:i]), new...), m[i+len(old):]...)
	}

	// An hp parameter on an intermediate layer: carol signs, with her
	// From protected, an enveloped layer (to bob, which anyone can write)
	// over a plain message; the outer From then says alice. The only
	// payload root is the plain message inside, which protects nothing,
	// so a client shows the outer From: alice.
	enc := encryptTo(t, l, false, []byte(message("alice@example.com")))
	enc = replaceOuter(enc, "From: alice@", "From: carol@")
	intermediate := replaceOuter(signCarol(enc, true), "From: carol@", "From: alice@")

	// A protected Sender without a protected From: the released message
	// has no From and "Sender: alice@example.com", yet only the outer From
	// (carol) was compared.
	senderOnly := signCarol([]byte("Sender: alice@example.com\r\nTo: bob@example.com\r\nSubject: test\r\n"+
		"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nhello\r\n"), true)
	senderOnly = replaceOuter(senderOnly, "Sender: alice@example.com\r\n", "From: carol@example.com\r\n")

	// A protected header without From: a client that reads protected
	// headers ignores the outer From and shows none, and the released
	// message has none, yet the outer From (carol) vouched for it.
	noFrom := append([]byte("From: carol@example.com\r\n"), signCarol([]byte("To: bob@example.com\r\nSubject: test\r\n"+
		"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nhello\r\n"), true)...)

	tests := []struct {
		name string
		msg  []byte
		want string // in the error
	}{
		{"hp on an intermediate layer", intermediate, "the sender alice@example.com is not in the signer's certificate"},
		{"protected Sender without From", senderOnly, "the protected header has a Sender field but no From field"},
		{"protected header without From", noFrom, "the protected header has no From field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			res, err := verify.Open(context.Background(), &out, bytes.NewReader(tc.msg), verify.Options{
				Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at },
				Decrypt: bob, SpoolDir: t.TempDir(),
			})
			var se *verify.SenderError
			if res == nil || res.Valid || !errors.As(err, &se) || out.Len() != 0 {
				t.Fatalf("got valid %v, error %v, %d bytes released %q; want a *SenderError and nothing released",
					res != nil && res.Valid, err, out.Len(), out.Bytes()[:min(out.Len(), 300)])
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got error %q, want %q in it", err, tc.want)
			}
		})
	}
}
