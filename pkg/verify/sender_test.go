package verify_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/internal/mime/authrestest"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// withHeader is a plain message with the given originator fields.
func withHeader(fields string) []byte {
	return []byte(fields + "To: bob@example.com\r\nSubject: test\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=us-ascii\r\n\r\nHello,\r\n\r\nthis is signed.\r\n")
}

// signedBy clear-signs msg by the lab users named, all in one SignedData.
func signedBy(t *testing.T, l *lab.Lab, msg []byte, users ...string) []byte {
	t.Helper()
	var signers []labtest.CoSigner
	for _, u := range users {
		signers = append(signers, labtest.CoSigner{Key: l.User(u).Key, Certificate: l.User(u).Cert})
	}
	out, err := labtest.CoSign(msg, at.Add(-time.Hour), l.Chain(), signers...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSenderEveryMailbox is issue #11 item 2: every mailbox of the one From
// field, and the Sender, must be in a valid signer's certificate; a
// co-signer that is not the sender is a note, not a failure. Each case is
// run through Verify and Open.
func TestSenderEveryMailbox(t *testing.T) {
	l := labtest.Default(t)
	base := verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at }}
	type senderCheck struct {
		signer int
		status verify.Status
	}
	tests := []struct {
		name    string
		msg     []byte
		mode    verify.SenderCheck
		wantErr string // in the *SenderError's text; "" for valid
		checks  []senderCheck
		warn    string
		from    string
	}{
		{name: "one mailbox", msg: signedBy(t, l, withHeader("From: alice@example.com\r\n"), "alice-sign"),
			checks: []senderCheck{{0, verify.StatusPass}}, from: "alice@example.com"},
		{name: "second From field", msg: signedBy(t, l, withHeader("From: alice@example.com\r\nFrom: ceo@example.com\r\n"), "alice-sign"),
			wantErr: "the message has 2 From fields", checks: []senderCheck{{0, verify.StatusFail}}},
		{name: "second From field, warn", msg: signedBy(t, l, withHeader("From: alice@example.com\r\nFrom: ceo@example.com\r\n"), "alice-sign"),
			mode: verify.SenderWarn, checks: []senderCheck{{0, verify.StatusWarning}}, warn: "the message has 2 From fields"},
		{name: "two mailboxes, one not covered", msg: signedBy(t, l, withHeader("From: alice@example.com, \"CEO\" <ceo@example.com>\r\n"), "alice-sign"),
			wantErr: "the sender ceo@example.com is not in the signer's certificate", checks: []senderCheck{{0, verify.StatusFail}}},
		{name: "two mailboxes, one not covered, warn", msg: signedBy(t, l, withHeader("From: alice@example.com, \"CEO\" <ceo@example.com>\r\n"), "alice-sign"),
			mode: verify.SenderWarn, checks: []senderCheck{{0, verify.StatusWarning}}, warn: "ceo@example.com is not in"},
		{name: "two mailboxes, two signers", msg: signedBy(t, l, withHeader("From: alice@example.com, Carol <carol@example.com>\r\n"), "alice-sign", "carol"),
			checks: []senderCheck{{0, verify.StatusPass}, {1, verify.StatusPass}}, from: "alice@example.com, carol@example.com"},
		{name: "group hides a mailbox", msg: signedBy(t, l, withHeader("From: board: alice@example.com, ceo@example.com;\r\n"), "alice-sign"),
			wantErr: "ceo@example.com", checks: []senderCheck{{0, verify.StatusFail}}},
		{name: "From that does not parse", msg: signedBy(t, l, withHeader("From: alice@example.com <ceo@example.com>\r\n"), "alice-sign"),
			wantErr: "the From field does not parse", checks: []senderCheck{{0, verify.StatusFail}}},
		{name: "encoded word is a name, not a mailbox", msg: signedBy(t, l, withHeader("From: =?utf-8?q?ceo=40example.com?= <alice@example.com>\r\n"), "alice-sign"),
			checks: []senderCheck{{0, verify.StatusPass}}, warn: `the display name "ceo@example.com" reads as a mail address`},
		{name: "quoted local part holding the signer's address", msg: signedBy(t, l, withHeader("From: \"alice@example.com\"@evil.example\r\n"), "alice-sign"),
			wantErr: "the sender alice@example.com@evil.example is not in", checks: []senderCheck{{0, verify.StatusFail}}},
		{name: "look-alike domain", msg: signedBy(t, l, withHeader("From: alice@ex\u0430mple.com\r\n"), "alice-sign"),
			wantErr: "is not in the signer's certificate", checks: []senderCheck{{0, verify.StatusFail}}},
		{name: "Sender not covered", msg: signedBy(t, l, withHeader("From: alice@example.com\r\nSender: sec@example.com\r\n"), "alice-sign"),
			wantErr: "the sender sec@example.com (Sender) is not in the signer's certificate", checks: []senderCheck{{0, verify.StatusFail}}},
		{name: "Sender covered", msg: signedBy(t, l, withHeader("From: alice@example.com\r\nSender: Alice <alice@example.com>\r\n"), "alice-sign"),
			checks: []senderCheck{{0, verify.StatusPass}}},
		{name: "Sender covered by a co-signer", msg: signedBy(t, l, withHeader("From: alice@example.com\r\nSender: carol@example.com\r\n"), "alice-sign", "carol"),
			checks: []senderCheck{{0, verify.StatusPass}, {1, verify.StatusPass}}},
		{name: "co-signer not the sender", msg: signedBy(t, l, withHeader("From: alice@example.com\r\n"), "alice-sign", "carol"),
			checks: []senderCheck{{0, verify.StatusPass}, {1, verify.StatusNote}}, from: "alice@example.com"},
		{name: "co-signer first", msg: signedBy(t, l, withHeader("From: alice@example.com\r\n"), "carol", "alice-sign"),
			checks: []senderCheck{{0, verify.StatusNote}, {1, verify.StatusPass}}},
		{name: "neither signer the sender", msg: signedBy(t, l, withHeader("From: bob@example.com\r\n"), "alice-sign", "carol"),
			wantErr: "the sender bob@example.com is not in any signer's certificate (they are for alice@example.com, carol@example.com)",
			checks:  []senderCheck{{0, verify.StatusFail}, {1, verify.StatusFail}}},
		{name: "the sender's signature untrusted, co-signer valid", msg: signedBy(t, l, withHeader("From: dave@example.com\r\n"), "dave-expired", "carol"),
			wantErr: "the certificate has expired", checks: []senderCheck{{1, verify.StatusFail}}},
		{name: "no From", msg: signedBy(t, l, withHeader(""), "alice-sign"),
			wantErr: "no From address", checks: []senderCheck{{0, verify.StatusFail}}},
		{name: "off", msg: signedBy(t, l, withHeader("From: alice@example.com\r\nFrom: ceo@example.com\r\n"), "alice-sign"),
			mode: verify.SenderOff, checks: []senderCheck{{0, verify.StatusSkipped}}},
	}
	for _, tc := range tests {
		for _, open := range []bool{false, true} {
			name := tc.name + map[bool]string{false: " Verify", true: " Open"}[open]
			t.Run(name, func(t *testing.T) {
				opts := base
				opts.SenderCheck = tc.mode
				var out bytes.Buffer
				var res *verify.Result
				var err error
				if open {
					res, err = verify.Open(context.Background(), &out, bytes.NewReader(tc.msg), opts)
				} else {
					res, err = verify.Verify(context.Background(), &out, bytes.NewReader(tc.msg), opts)
				}
				if res == nil {
					t.Fatalf("no result, error %v", err)
				}
				if tc.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tc.wantErr) || res.Valid || out.Len() != 0 {
						t.Fatalf("got error %v, valid %v, %d bytes out; want an error with %q and nothing out", err, res.Valid, out.Len(), tc.wantErr)
					}
				} else if err != nil || !res.Valid || !bytes.Contains(out.Bytes(), []byte("this is signed.")) {
					t.Fatalf("got error %v, valid %v; want valid and the content", err, res.Valid)
				}
				for _, c := range tc.checks {
					s := res.Signers[c.signer]
					got := verify.Status("none")
					for _, ch := range s.Checks {
						if ch.Name == "sender" {
							got = ch.Status
						}
					}
					if got != c.status {
						t.Errorf("signer %d: got sender check %s, want %s (%+v)", c.signer+1, got, c.status, s.Checks)
					}
					if c.status == verify.StatusNote && !s.Valid {
						t.Errorf("signer %d: a co-signer is valid", c.signer+1)
					}
				}
				if w := strings.Join(res.Warnings, "\n"); tc.warn != "" && !strings.Contains(w, tc.warn) {
					t.Errorf("got warnings %q, want one with %q", w, tc.warn)
				}
				if tc.from != "" && res.From != tc.from {
					t.Errorf("got From %q, want %q", res.From, tc.from)
				}
			})
		}
	}
}

// TestSenderCoSignerAuthResults: in the Authentication-Results field, a
// co-signer passes with the reason "not the sender" and its own address.
func TestSenderCoSignerAuthResults(t *testing.T) {
	l := labtest.Default(t)
	msg := signedBy(t, l, withHeader("From: alice@example.com\r\n"), "alice-sign", "carol")
	res, err := verify.Open(context.Background(), new(bytes.Buffer), bytes.NewReader(msg),
		verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	field := verify.AuthenticationResults("mx.example.com", res, err)
	f, err := authrestest.Parse(field)
	if err != nil || len(f.Results) != 2 {
		t.Fatalf("got %v:\n%s", err, field)
	}
	for i, want := range []struct{ reason, id string }{{"", "alice@example.com"}, {"not the sender", "carol@example.com"}} {
		r := f.Results[i]
		id, _ := r.Get("body", "smime-identifier")
		if r.Result != "pass" || r.Reason != want.reason || id != want.id {
			t.Errorf("result %d: smime=%s reason %q identifier %q, want pass %q %q\n%s", i+1, r.Result, r.Reason, id, want.reason, want.id, field)
		}
	}
}

// TestSenderProtected: with header protection (RFC 9788) the protected
// From and Sender are compared with the signers, every mailbox of them,
// and the outer ones must name the same mailboxes (issue #11 item 2).
func TestSenderProtected(t *testing.T) {
	l := labtest.Default(t)
	u := l.User("alice-sign")
	protect := func(fields string) []byte {
		return signWith(t, sign.Options{Key: u.Key, Certificate: u.Cert, Chain: l.Chain(), ProtectHeaders: true, Force: true}, withHeader(fields))
	}
	// outside inserts fields at the top of the outer header.
	outside := func(m []byte, fields string) []byte { return append([]byte(fields), m...) }
	rewrite := func(m []byte, old, new string) []byte { return bytes.Replace(m, []byte(old), []byte(new), 1) }
	tests := []struct {
		name    string
		msg     []byte
		errAs   any
		wantErr string
	}{
		{name: "protected", msg: protect("From: alice@example.com\r\n")},
		{name: "protected From has a mailbox not covered", msg: protect("From: alice@example.com, ceo@example.com\r\n"),
			errAs: new(*verify.SenderError), wantErr: "ceo@example.com"},
		{name: "outer From given a second mailbox", msg: rewrite(protect("From: alice@example.com\r\n"), "From: alice@example.com\r\n", "From: alice@example.com, ceo@example.com\r\n"),
			errAs: new(*verify.HeaderError), wantErr: `"alice@example.com" inside, "alice@example.com, ceo@example.com" outside`},
		{name: "outer From field added", msg: outside(protect("From: alice@example.com\r\n"), "From: ceo@example.com\r\n"),
			errAs: new(*verify.HeaderError), wantErr: "the From field was changed"},
		{name: "outer Sender added", msg: outside(protect("From: alice@example.com\r\n"), "Sender: ceo@example.com\r\n"),
			errAs: new(*verify.HeaderError), wantErr: `the Sender field was changed after the message was protected: none inside, "ceo@example.com" outside`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			res, err := verify.Open(context.Background(), &out, bytes.NewReader(tc.msg),
				verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at }})
			if tc.errAs == nil {
				if err != nil || !res.Valid {
					t.Fatalf("got %v", err)
				}
				return
			}
			if !errors.As(err, tc.errAs) || !strings.Contains(err.Error(), tc.wantErr) || res.Valid || out.Len() != 0 {
				t.Fatalf("got error %v (%T), %d bytes out; want %T with %q and nothing out", err, err, out.Len(), tc.errAs, tc.wantErr)
			}
		})
	}
}

// TestSenderLayers: in a layered message every signed layer is checked as
// a message of its own: the signers of each must cover the sender, so an
// outer signature by someone else fails as an inner one would.
func TestSenderLayers(t *testing.T) {
	l := labtest.Default(t)
	bob := &verify.Identity{Certificate: l.User("bob").Cert, Key: l.User("bob").Key}
	inner := signedBy(t, l, withHeader("From: alice@example.com\r\n"), "alice-sign")
	opts := verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at }, Decrypt: bob}
	tests := []struct {
		name    string
		msg     []byte
		errAt   int
		wantErr string
	}{
		{name: "alice inside and outside", msg: signedBy(t, l, encryptTo(t, l, false, inner), "alice-sign")},
		{name: "alice inside, carol co-signs outside", msg: signedBy(t, l, encryptTo(t, l, false, inner), "alice-sign", "carol")},
		{name: "alice inside, carol alone outside", msg: signedBy(t, l, encryptTo(t, l, false, inner), "carol"), errAt: 1,
			wantErr: "the sender alice@example.com is not in the signer's certificate (it is for carol@example.com)"},
		{name: "carol inside, alice outside", msg: signedBy(t, l, encryptTo(t, l, false, signedBy(t, l, withHeader("From: alice@example.com\r\n"), "carol")), "alice-sign"),
			errAt: 3, wantErr: "is not in the signer's certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			res, err := verify.Open(context.Background(), &out, bytes.NewReader(tc.msg), opts)
			if tc.wantErr == "" {
				if err != nil || !res.Valid {
					t.Fatalf("got %v", err)
				}
				return
			}
			var le *verify.LayerError
			var se *verify.SenderError
			if !errors.As(err, &le) || le.Depth != tc.errAt || !errors.As(err, &se) || !strings.Contains(err.Error(), tc.wantErr) || res.Valid || out.Len() != 0 {
				t.Fatalf("got %v, %d bytes out; want a sender error at layer %d with %q", err, out.Len(), tc.errAt, tc.wantErr)
			}
		})
	}
}

// TestSenderCost: a hostile From costs little and says little. A From of
// tens of thousands of mailboxes is refused after parsing (mime.MaxMailboxes),
// and the largest one accepted, none covered, against the most signers a
// message may have, is compared quickly, with an error that names at most
// ten mailboxes (issue #11 item 2, with the bounds of items 12 and 13).
func TestSenderCost(t *testing.T) {
	l := labtest.Default(t)
	var b strings.Builder
	b.WriteString("From: alice@example.com")
	for i := 0; b.Len() < 900<<10; i++ {
		b.WriteString(",\r\n m" + strconv.Itoa(i) + "@example.com")
	}
	huge := b.String()
	most := "From: m0@example.com"
	for i := 1; i < mime.MaxMailboxes; i++ {
		most += ", \"=?utf-8?q?ceo=40example.com?=\" <m" + strconv.Itoa(i) + "@example.com>"
	}
	signers := make([]string, 64)
	for i := range signers {
		signers[i] = "alice-sign"
	}
	for _, tc := range []struct {
		name, from string
		signers    []string
		wantErr    string
	}{
		{"tens of thousands of mailboxes", huge, signers[:1], "mailboxes; more than 100 are refused"},
		{"the most mailboxes, the most signers", most, signers, "the senders m0@example.com, m1@example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := signedBy(t, l, withHeader(tc.from+"\r\n"), tc.signers...)
			start := time.Now()
			res, err := verify.Open(context.Background(), new(bytes.Buffer), bytes.NewReader(msg),
				verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at }})
			took := time.Since(start)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %.200v, want an error with %q", err, tc.wantErr)
			}
			if len(err.Error()) > 1000 || len(strings.Join(res.Warnings, "\n")) > 2000 {
				t.Errorf("error of %d bytes, warnings of %d: %.300v", len(err.Error()), len(strings.Join(res.Warnings, "\n")), err)
			}
			// 64 signatures and chains are most of it; the sender check
			// must not add seconds.
			if took > 3*time.Second {
				t.Errorf("took %v", took)
			}
			t.Logf("%d bytes, %d signers: %v", len(msg), len(tc.signers), took)
		})
	}
}
