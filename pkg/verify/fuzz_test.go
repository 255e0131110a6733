package verify_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"github.com/smimectl/smimectl/internal/lab/labtest"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// fuzzEntity is the signed MIME entity of the seed messages.
const fuzzEntity = "Content-Type: text/plain; charset=us-ascii\r\n\r\nHello,\r\n\r\nthis is signed.\r\n"

// FuzzVerify: a mutated message is never reported valid unless the content
// it releases is exactly the content that was signed (changes to unsigned
// outer header fields or to transfer encoding whitespace are harmless).
func FuzzVerify(f *testing.F) {
	l := labtest.Default(f)
	for _, mode := range []sign.Mode{sign.Clear, sign.Opaque} {
		for _, user := range []string{"alice-sign", "carol"} {
			u := l.User(user)
			var out bytes.Buffer
			err := sign.Sign(&out, strings.NewReader("From: "+u.Email+"\r\nSubject: fuzz\r\n"+fuzzEntity), sign.Options{
				Key: u.Key, Certificate: u.Cert, Chain: l.Chain(), Mode: mode, Now: func() time.Time { return at }})
			if err != nil {
				f.Fatal(err)
			}
			f.Add(out.Bytes())
		}
	}
	opts := verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at },
		SenderCheck: verify.SenderOff}
	f.Fuzz(func(t *testing.T, msg []byte) {
		var out bytes.Buffer
		res, err := verify.Verify(context.Background(), &out, bytes.NewReader(msg), opts)
		if err != nil {
			if out.Len() != 0 {
				t.Fatalf("failed verification (%v) released %d bytes", err, out.Len())
			}
			if res != nil && res.Valid {
				t.Fatal("result valid with an error")
			}
			return
		}
		if !res.Valid || !bytes.HasSuffix(out.Bytes(), []byte(fuzzEntity)) {
			t.Fatalf("valid, but released content differs from what was signed: %q", out.Bytes())
		}
	})
}
