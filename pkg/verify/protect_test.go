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
	"github.com/smimectl/smimectl/pkg/encrypt"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// Header protection (RFC 9788, issue #5): what sign and encrypt protect,
// Open compares with the outer header and releases in place of it.
func TestOpenProtectedHeaders(t *testing.T) {
	l := labtest.Default(t)
	u := l.User("alice-sign")
	msg := []byte("From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nSubject: Secret plans\r\n" +
		"Message-ID: <1@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nthis is signed.\r\n")
	signP := func(mode sign.Mode, confidential bool, in []byte) []byte {
		return signWith(t, sign.Options{Key: u.Key, Certificate: u.Cert, Chain: l.Chain(), Mode: mode,
			ProtectHeaders: true, Confidential: confidential}, in)
	}
	encryptP := func(in []byte) []byte {
		var out bytes.Buffer
		err := encrypt.Encrypt(&out, bytes.NewReader(in), encrypt.Options{Recipients: []*x509.Certificate{l.User("bob").Cert},
			Now: func() time.Time { return at }, ProtectHeaders: true})
		if err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	// rewrite changes the first line of the outer header starting with
	// old, as a gateway would.
	rewrite := func(m []byte, old, new string) []byte {
		i := bytes.Index(m, []byte(old))
		if i < 0 || i > bytes.Index(m, []byte("\r\n\r\n")) {
			t.Fatalf("no %q in the outer header", old)
		}
		return append(append(bytes.Clone(m[:i]), new...), m[i+len(old):]...)
	}
	bob := &verify.Identity{Certificate: l.User("bob").Cert, Key: l.User("bob").Key}
	clear := signP(sign.Clear, false, msg)
	triple := signLab(t, l, sign.Opaque, encryptTo(t, l, false, signP(sign.Clear, true, msg)))
	tests := []struct {
		name    string
		msg     []byte
		key     *verify.Identity
		sender  verify.SenderCheck
		hp      string
		diffs   string // field:kind of every difference
		warn    string
		errAs   any
		subject string // the Subject released
		// unsigned: a message without a signature, released with
		// AllowUnsigned and never valid (issue #11 item 1).
		unsigned bool
	}{
		{name: "signed", msg: clear, hp: "clear", subject: "Secret plans"},
		{name: "opaque", msg: signP(sign.Opaque, false, msg), hp: "clear", subject: "Secret plans"},
		{name: "subject changed outside", msg: rewrite(clear, "Subject: Secret", "Subject: Public"), hp: "clear",
			diffs: "Subject:changed", warn: `the Subject field was changed in transit: protected "Secret plans", received "Public plans"`, subject: "Secret plans"},
		{name: "from rewritten", msg: rewrite(clear, "From: Alice <alice@", "From: Alice <mallory@"), hp: "clear",
			diffs: "From:changed", errAs: new(*verify.HeaderError)},
		{name: "from rewritten, warn", msg: rewrite(clear, "From: Alice <alice@", "From: Alice <mallory@"), sender: verify.SenderWarn,
			hp: "clear", diffs: "From:changed", warn: `"alice@example.com" inside, "mallory@example.com" outside`, subject: "Secret plans"},
		{name: "display name only", msg: rewrite(clear, "From: Alice <", "From: \"Alice (via list)\" <"), hp: "clear", subject: "Secret plans"},
		{name: "cc added outside", msg: rewrite(clear, "To: bob@example.com\r\n", "To: bob@example.com\r\nCc: eve@example.com\r\n"),
			hp: "clear", diffs: "Cc:added", warn: "the Cc field was added in transit", subject: "Secret plans"},
		{name: "encrypted only", msg: encryptP(msg), key: bob, hp: "cipher", diffs: "Subject:obscured", subject: "Secret plans", unsigned: true},
		{name: "triple wrap", msg: triple, key: bob, hp: "cipher", diffs: "Subject:obscured", subject: "Secret plans"},
		{name: "triple wrap, hidden subject changed", msg: rewrite(triple, "Subject: [...]", "Subject: [..]"), key: bob, hp: "cipher",
			diffs: "Subject:changed", warn: `sent as "[...]", received "[..]"`, subject: "Secret plans"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			res, err := verify.Open(context.Background(), &out, bytes.NewReader(tc.msg), verify.Options{
				Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at },
				Decrypt: tc.key, SenderCheck: tc.sender, SpoolDir: t.TempDir(), AllowUnsigned: tc.unsigned,
			})
			if res == nil || res.ProtectedHeaders == nil {
				t.Fatalf("got result %+v, error %v; want protected headers", res, err)
			}
			ph := res.ProtectedHeaders
			if ph.HP != tc.hp || ph.Get("Subject") != "Secret plans" || ph.Get("Bcc") != "" {
				t.Errorf("got hp %q, fields %v", ph.HP, ph.Fields)
			}
			var diffs []string
			for _, d := range ph.Differences {
				diffs = append(diffs, d.Field+":"+d.Kind)
			}
			if got := strings.Join(diffs, " "); got != tc.diffs {
				t.Errorf("got differences %q, want %q", got, tc.diffs)
			}
			if w := strings.Join(res.Warnings, "\n"); tc.warn != "" && !strings.Contains(w, tc.warn) {
				t.Errorf("got warnings %q, want one with %q", w, tc.warn)
			}
			if tc.errAs != nil {
				if !errors.As(err, tc.errAs) || res.Valid || out.Len() != 0 {
					t.Fatalf("got error %v, valid %v, %d bytes out; want %T and nothing out", err, res.Valid, out.Len(), tc.errAs)
				}
				var he *verify.HeaderError
				if errors.As(err, &he) && (he.Protected != "alice@example.com" || he.Outer != "mallory@example.com") {
					t.Errorf("got %+v, want both addresses", he)
				}
				return
			}
			if err != nil || res.Valid == tc.unsigned {
				t.Fatalf("got error %v, valid %v", err, res.Valid)
			}
			if res.From != "alice@example.com" {
				t.Errorf("got From %q, want the protected one", res.From)
			}
			got := out.String()
			head, _, _ := strings.Cut(got, "\r\n\r\n")
			if n := strings.Count(head, "\r\nSubject: ") + strings.Count("\r\n"+head, "\r\nFrom: "); n != 2 {
				t.Errorf("got %d Subject and From fields in %q, want one each", n, head)
			}
			if !strings.Contains(head, "Subject: "+tc.subject+"\r\n") || strings.Contains(head, "HP-Outer") ||
				!strings.HasSuffix(got, "this is signed.\r\n") {
				t.Errorf("released %q", got)
			}
		})
	}
}

// Verify, the one-layer call, applies the same rules.
func TestVerifyProtectedFrom(t *testing.T) {
	l := labtest.Default(t)
	u := l.User("alice-sign")
	signed := signWith(t, sign.Options{Key: u.Key, Certificate: u.Cert, Chain: l.Chain(), ProtectHeaders: true},
		[]byte(message("alice@example.com")))
	forged := bytes.Replace(signed, []byte("From: alice@"), []byte("From: mallory@"), 1)
	opts := verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at }}
	if _, err := verify.Verify(context.Background(), new(bytes.Buffer), bytes.NewReader(signed), opts); err != nil {
		t.Fatalf("protected message: %v", err)
	}
	var he *verify.HeaderError
	var out bytes.Buffer
	if _, err := verify.Verify(context.Background(), &out, bytes.NewReader(forged), opts); !errors.As(err, &he) || out.Len() != 0 {
		t.Fatalf("forged From: got %v and %d bytes, want a *HeaderError and nothing", err, out.Len())
	}
}
