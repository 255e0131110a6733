package verify_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// onlyReader hides every method of its reader but Read: a reader that
// can't be read again (standard input), which takes the spooling path.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// TestDiscardFastPath holds the fast path of content that goes nowhere
// (issue #13, large messages: w is io.Discard and the input can be read
// again, so a layer's content is kept only as far as its header) to the
// spooling path: for every shape of message, through Open and Verify, with
// the kept head in memory and in a spool file, the result and the error
// are those of the same message read from a reader that can't seek. It
// also checks what the fast path did on its first reading: content that
// is no further layer was dropped, a nested layer was kept whole (the
// triple wrap, a signature over a signature), and a signer whose digest
// micalg did not name made it read the message again (missed).
func TestDiscardFastPath(t *testing.T) {
	l := labtest.Default(t)
	alice := l.User("alice-sign")
	big := func(lf bool) []byte {
		var b strings.Builder
		b.WriteString("From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nSubject: large\r\n" +
			"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n")
		for i := 0; b.Len() < 1300<<10; i++ { // past what a dropping spool keeps
			fmt.Fprintf(&b, "line %06d of the signed text, long enough to be a line\r\n", i)
		}
		return []byte(b.String())
	}
	text := big(false)
	signOpts := func(h crypto.Hash, mode sign.Mode, protect bool) sign.Options {
		return sign.Options{Key: alice.Key, Certificate: alice.Cert, Chain: l.Chain(), Hash: h, Mode: mode, ProtectHeaders: protect}
	}
	clear := signWith(t, signOpts(crypto.SHA256, sign.Clear, false), text)
	toLF := func(m []byte) []byte { return bytes.ReplaceAll(m, []byte("\r\n"), []byte("\n")) }
	replace := func(m []byte, old, new string) []byte {
		out := bytes.Replace(m, []byte(old), []byte(new), 1)
		if bytes.Equal(out, m) {
			t.Fatalf("no %q in the message", old)
		}
		return out
	}
	micalg := regexp.MustCompile(`micalg="?sha-256"?`)
	lying := micalg.ReplaceAll(clear, []byte("micalg=sha-512"))
	if bytes.Equal(lying, clear) {
		t.Fatal("no micalg to replace")
	}
	protected := signWith(t, signOpts(crypto.SHA256, sign.Clear, true), text)
	bob := &verify.Identity{Certificate: l.User("bob").Cert, Key: l.User("bob").Key}
	tests := []struct {
		name    string
		msg     []byte
		key     *verify.Identity
		dropped bool // the first reading drops content
		missed  bool // and reads the message again
		nested  bool // a layer in a layer: Verify reads only the outer one
	}{
		{name: "clear", msg: clear, dropped: true},
		{name: "clear LF", msg: toLF(clear), dropped: true},
		{name: "clear sha-512", msg: signWith(t, signOpts(crypto.SHA512, sign.Clear, false), text), dropped: true},
		{name: "opaque", msg: signWith(t, signOpts(crypto.SHA256, sign.Opaque, false), text), dropped: true},
		{name: "micalg lies", msg: lying, dropped: true, missed: true},
		{name: "micalg lies LF", msg: toLF(lying), dropped: true, missed: true},
		{name: "bad signature", msg: replace(clear, "line 000100 of the signed", "line 000100 of the forged"), dropped: true},
		{name: "bad signature late", msg: replace(clear, "line 020000 of the signed", "line 020000 of the forged"), dropped: true},
		// Cut in the content, the bytes before the cut are still in a
		// buffer, short of what the spool keeps.
		{name: "truncated", msg: clear[:len(clear)*9/10]},
		{name: "truncated in the signature", msg: clear[:len(clear)-1000], dropped: true},
		{name: "no close delimiter", msg: clear[:bytes.LastIndex(clear, []byte("--"))], dropped: true},
		{name: "untrusted", msg: signWith(t, selfSigned(t), text), dropped: true},
		{name: "header protection", msg: protected, dropped: true},
		{name: "header protection, From rewritten", msg: replace(protected, "From: Alice <alice@", "From: Alice <mallory@"), dropped: true},
		{name: "clear over opaque", msg: signLab(t, l, sign.Clear, signWith(t, signOpts(crypto.SHA256, sign.Opaque, false), text)), dropped: true, nested: true},
		{name: "clear over clear", msg: signLab(t, l, sign.Clear, clear), dropped: true, nested: true},
		{name: "clear over a bad clear", msg: signLab(t, l, sign.Clear, replace(clear, "line 000100 of the signed", "line 000100 of the forged")), dropped: true, nested: true},
		{name: "triple wrap", msg: signLab(t, l, sign.Opaque, encryptTo(t, l, false, clear)), key: bob, dropped: true, nested: true},
		{name: "triple wrap, no key", msg: signLab(t, l, sign.Clear, encryptTo(t, l, false, clear))},
		{name: "small", msg: signLab(t, l, sign.Clear, []byte(message("alice@example.com")))},
	}
	type fn = func(context.Context, io.Writer, io.Reader, verify.Options) (*verify.Result, error)
	for _, tc := range tests {
		for _, f := range []struct {
			name    string
			f       fn
			layered bool
		}{{"Open", verify.Open, true}, {"Verify", verify.Verify, false}} {
			for _, threshold := range []int64{0, 64 << 10} {
				t.Run(fmt.Sprintf("%s/%s/threshold=%d", tc.name, f.name, threshold), func(t *testing.T) {
					opts := verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at },
						Decrypt: tc.key, SpoolDir: t.TempDir(), SpoolThreshold: threshold}
					want, werr := f.f(context.Background(), io.Discard, onlyReader{bytes.NewReader(tc.msg)}, opts)
					got, gerr := f.f(context.Background(), io.Discard, bytes.NewReader(tc.msg), opts)
					sameOutcome(t, "fast path", got, gerr, want, werr)
					var out bytes.Buffer
					res, err := f.f(context.Background(), &out, bytes.NewReader(tc.msg), opts)
					sameOutcome(t, "written out", res, err, want, werr)
					if err != nil && out.Len() > 0 {
						t.Errorf("%d bytes released with %v", out.Len(), err)
					}
					once, dropped, missed, oerr := verify.OpenOnceDiscarding(context.Background(), bytes.NewReader(tc.msg), opts, f.layered, 0)
					wantDropped := tc.dropped && (f.layered || !tc.nested)
					if dropped != wantDropped || missed != tc.missed {
						t.Errorf("first reading: dropped %v, missed %v; want %v, %v", dropped, missed, wantDropped, tc.missed)
					}
					if !missed {
						sameOutcome(t, "first reading", once, oerr, want, werr)
					}
				})
			}
		}
	}
}

// sameOutcome fails unless got and gerr are want and werr.
func sameOutcome(t *testing.T, what string, got *verify.Result, gerr error, want *verify.Result, werr error) {
	t.Helper()
	if fmt.Sprint(gerr) != fmt.Sprint(werr) || reflect.TypeOf(gerr) != reflect.TypeOf(werr) {
		t.Fatalf("%s: error %T %v, want %T %v", what, gerr, gerr, werr, werr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: result differs:\n got %+v\nwant %+v", what, got, want)
	}
}

// FuzzDiscardFastPath holds the fast path of content that goes nowhere
// (issue #13) to the spooling one on mutated messages, with a kept head
// small enough (6,000 to 10,080 bytes, past what the walk's readers buffer
// of a header) that the content of a 12 KB message is dropped: whenever the first reading did not miss dropped
// bytes, its result and error are those of the spooling path (when it did,
// Open reads the message again, and that is compared).
func FuzzDiscardFastPath(f *testing.F) {
	l := labtest.Default(f)
	alice := l.User("alice-sign")
	var text strings.Builder
	text.WriteString(message("alice@example.com"))
	for i := 0; text.Len() < 12<<10; i++ {
		fmt.Fprintf(&text, "line %d of the signed text\r\n", i)
	}
	in := []byte(text.String())
	signF := func(mode sign.Mode, protect bool, in []byte) []byte {
		var out bytes.Buffer
		if err := sign.Sign(context.Background(), &out, bytes.NewReader(in), sign.Options{Key: alice.Key, Certificate: alice.Cert,
			Chain: l.Chain(), Mode: mode, ProtectHeaders: protect, Now: func() time.Time { return at.Add(-time.Hour) }}); err != nil {
			f.Fatal(err)
		}
		return out.Bytes()
	}
	clear := signF(sign.Clear, false, in)
	f.Add(clear, byte(100))
	f.Add(bytes.ReplaceAll(clear, []byte("\r\n"), []byte("\n")), byte(120))
	f.Add(signF(sign.Opaque, false, in), byte(100))
	f.Add(signF(sign.Clear, true, in), byte(200))
	f.Add(signF(sign.Clear, false, clear), byte(100))
	f.Add(regexp.MustCompile(`micalg="?sha-256"?`).ReplaceAll(clear, []byte("micalg=sha-512")), byte(100))
	opts := verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at }}
	f.Fuzz(func(t *testing.T, msg []byte, keep byte) {
		if len(msg) > 64<<10 {
			return
		}
		for _, fn := range []struct {
			f       func(context.Context, io.Writer, io.Reader, verify.Options) (*verify.Result, error)
			layered bool
		}{{verify.Open, true}, {verify.Verify, false}} {
			want, werr := fn.f(context.Background(), io.Discard, onlyReader{bytes.NewReader(msg)}, opts)
			got, _, missed, gerr := verify.OpenOnceDiscarding(context.Background(), bytes.NewReader(msg), opts, fn.layered, 6000+16*int(keep))
			if missed {
				// Void (a reader's read-ahead past a small head counts):
				// the message is read again, here as Open would.
				got, gerr = fn.f(context.Background(), io.Discard, bytes.NewReader(msg), opts)
			}
			sameOutcome(t, fmt.Sprintf("layered %v, missed %v", fn.layered, missed), got, gerr, want, werr)
		}
	})
}
