package verify_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// Issue #13 (performance): a clear-signed message's content is digested
// while it is spooled, under the algorithms its micalg parameter names.
// micalg is written by the sender and covered by no signature, so it must
// never decide a verdict: a signer's digest is always the one of its
// SignerInfo's digestAlgorithm, over the bytes released. These tests lie
// in micalg every way that could matter, on intact and on modified
// content, through Verify and Open, with the content in memory and in a
// spool file.
func TestMicalgNeverDecides(t *testing.T) {
	l := labtest.Default(t)
	alice := l.User("alice-sign")
	micalg := regexp.MustCompile(`(?i);\s*micalg="?[^";\r\n]*"?`)
	setMicalg := func(v string) func([]byte) []byte {
		return func(b []byte) []byte {
			if !micalg.Match(b) {
				t.Fatal("the signed message has no micalg parameter to replace")
			}
			repl := ""
			if v != "-" {
				repl = "; micalg=" + v
			}
			return micalg.ReplaceAll(b, []byte(repl))
		}
	}
	modify := func(b []byte) []byte {
		out := bytes.Replace(b, []byte("line 0000 of the signed text"), []byte("line 0000 of the forged text"), 1)
		if bytes.Equal(out, b) {
			t.Fatal("the signed message has no text to modify")
		}
		return out
	}
	tests := []struct {
		signHash crypto.Hash
		micalg   string // "-": no micalg parameter
		modified bool
	}{
		{crypto.SHA256, "sha-256", false},
		{crypto.SHA256, "sha-1", false},                               // names another hash
		{crypto.SHA256, "sha-512", false},                             // names another hash
		{crypto.SHA256, "-", false},                                   // names none
		{crypto.SHA256, "bogus", false},                               // names one nobody knows
		{crypto.SHA256, `"sha-1,md5,sha-384,sha-512,sha-224"`, false}, // names too many, not the signer's
		{crypto.SHA512, "sha-256", false},                             // names the default, not the signer's
		{crypto.SHA512, "-", false},                                   // the default is not the signer's
		{crypto.SHA384, "sha-384", false},
		{crypto.SHA256, "sha-256", true},
		{crypto.SHA256, "sha-1", true},
		{crypto.SHA256, "sha-512", true},
		{crypto.SHA256, "-", true},
		{crypto.SHA512, "sha-256", true},
		{crypto.SHA512, "sha-512", true},
		{crypto.SHA384, `"sha-256,sha-384"`, true},
	}
	for _, size := range []int{2 << 10, 96 << 10, 1536 << 10} { // the last digested on a goroutine
		var text strings.Builder
		text.WriteString("From: alice@example.com\r\nSubject: micalg\r\nContent-Type: text/plain\r\n\r\n")
		for i := 0; text.Len() < size; i++ {
			fmt.Fprintf(&text, "line %04d of the signed text\r\n", i)
		}
		for _, tc := range tests {
			var signed bytes.Buffer
			if err := sign.Sign(context.Background(), &signed, strings.NewReader(text.String()), sign.Options{
				Key: alice.Key, Certificate: alice.Cert, Chain: l.Chain(), Hash: tc.signHash,
				Now: func() time.Time { return at.Add(-time.Hour) },
			}); err != nil {
				t.Fatal(err)
			}
			msg := setMicalg(tc.micalg)(signed.Bytes())
			if tc.modified {
				msg = modify(msg)
			}
			for _, fn := range []struct {
				name string
				f    func(context.Context, io.Writer, io.Reader, verify.Options) (*verify.Result, error)
			}{{"Verify", verify.Verify}, {"Open", verify.Open}} {
				name := fmt.Sprintf("%s/%dKiB/signed-%v/micalg=%s/modified=%v", fn.name, size>>10, tc.signHash, tc.micalg, tc.modified)
				t.Run(name, func(t *testing.T) {
					// A threshold below the larger size puts its content in a spool file.
					opts := verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at },
						SpoolDir: t.TempDir(), SpoolThreshold: 64 << 10}
					var out bytes.Buffer
					res, err := fn.f(context.Background(), &out, bytes.NewReader(msg), opts)
					if tc.modified {
						var se *verify.SignatureError
						if !errors.As(err, &se) || res == nil || res.Valid {
							t.Fatalf("got %v (valid %v), want a *verify.SignatureError", err, res != nil && res.Valid)
						}
						if out.Len() != 0 {
							t.Fatalf("released %d bytes of a modified message", out.Len())
						}
						return
					}
					if err != nil || !res.Valid {
						t.Fatalf("got %v, want valid", err)
					}
					if got, want := res.Signers[0].DigestAlgorithm.String(), map[crypto.Hash]string{crypto.SHA256: "sha-256", crypto.SHA384: "sha-384", crypto.SHA512: "sha-512"}[tc.signHash]; got != want {
						t.Errorf("digest algorithm %q, want the SignerInfo's %q", got, want)
					}
					if !bytes.Contains(out.Bytes(), []byte("line 0000 of the signed text")) {
						t.Error("the released content lacks the signed text")
					}
				})
			}
		}
	}
}
