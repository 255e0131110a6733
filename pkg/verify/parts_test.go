package verify_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// entityOf splits a signed message into its header fields other than Content-*
// and its MIME entity (Content-* fields, blank line, body), CRLF.
func entityOf(t *testing.T, msg []byte) (outer, entity string) {
	t.Helper()
	h, b, ok := strings.Cut(string(msg), "\r\n\r\n")
	if !ok {
		t.Fatal("no header end")
	}
	var o, c []string
	h = strings.NewReplacer("\r\n ", "\x00 ", "\r\n\t", "\x00\t").Replace(h)
	for _, f := range strings.Split(h, "\r\n") {
		f = strings.ReplaceAll(f, "\x00", "\r\n")
		switch lf := strings.ToLower(f); {
		case strings.HasPrefix(lf, "mime-version:"):
		case strings.HasPrefix(lf, "content-"):
			c = append(c, f)
		default:
			o = append(o, f)
		}
	}
	return strings.Join(o, "\r\n") + "\r\n", strings.Join(c, "\r\n") + "\r\n\r\n" + b
}

// TestOpenSignedParts is issue #15 item 5 in the library: signed entities below the
// top level are found and checked, every part is listed by IMAP section, parts no
// signature covers fail the message unless AllowUnsignedParts, and hostile shapes
// (deep nesting, a flood of parts) end fast with a too-complex reason.
func TestOpenSignedParts(t *testing.T) {
	l := labtest.Default(t)
	signed := signLab(t, l, sign.Clear, []byte(message("alice@example.com")))
	outer, entity := entityOf(t, signed)
	mixed := func(parts ...string) string {
		var b strings.Builder
		b.WriteString(outer + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"m\"\r\n\r\n")
		for _, p := range parts {
			b.WriteString("--m\r\n" + strings.TrimSuffix(p, "\r\n") + "\r\n")
		}
		return b.String() + "--m--\r\n"
	}
	footer := "Content-Type: text/plain\r\n\r\nlist footer\r\n"
	forward := "From: Bob <bob@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"f\"\r\n\r\n" +
		"--f\r\nContent-Type: text/plain\r\n\r\nsee below\r\n--f\r\nContent-Type: message/rfc822\r\n\r\n" + string(signed) + "\r\n--f--\r\n"
	var deep strings.Builder
	deep.WriteString(outer + "MIME-Version: 1.0\r\n")
	for i := range 1000 {
		fmt.Fprintf(&deep, "Content-Type: multipart/mixed; boundary=\"d%dx\"\r\n\r\n--d%dx\r\n", i, i)
	}
	deep.WriteString(entity)
	for i := 999; i >= 0; i-- {
		fmt.Fprintf(&deep, "\r\n--d%dx--\r\n", i)
	}
	wide := mixed(append([]string{entity}, strings.Split(strings.Repeat(footer+"\x00", 100000), "\x00")[:100000]...)...)
	opts := verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at }}
	allow := opts
	allow.AllowUnsignedParts = true

	for _, tc := range []struct {
		name     string
		msg      string
		opts     verify.Options
		valid    bool
		reason   verify.Reason
		sections []string // every part's section; "+" marks a signed one
	}{
		{"list footer", mixed(entity, footer), opts, false, verify.ReasonUnsignedParts, []string{"+1", "2"}},
		{"list footer accepted", mixed(entity, footer), allow, true, "", []string{"+1", "2"}},
		{"only the signed part", mixed(entity), opts, true, "", []string{"+1"}},
		{"forwarded", forward, allow, true, "", []string{"1", "+2.TEXT"}},
		{"forwarded, not accepted", forward, opts, false, verify.ReasonUnsignedParts, []string{"1", "+2.TEXT"}},
		{"changed signed part", strings.Replace(mixed(entity, footer), "this is signed", "this is signet", 1), allow, false, verify.ReasonContentModified, []string{"+1", "2"}},
		{"no signed part", mixed(footer, footer), allow, false, verify.ReasonNotSigned, nil},
		{"nested 1000 deep", deep.String(), allow, false, verify.ReasonTooComplex, nil},
		{"100000 parts", wide, allow, false, verify.ReasonTooComplex, nil},
		{"17 signed parts", mixed(slices.Repeat([]string{entity}, verify.MaxSignedParts+1)...), allow, false, verify.ReasonTooComplex, nil},
		{"16 signed parts", mixed(slices.Repeat([]string{entity}, verify.MaxSignedParts)...), allow, true, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			start := time.Now()
			res, err := verify.Open(context.Background(), &out, strings.NewReader(tc.msg), tc.opts)
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
			if got := verify.ReasonCode(err); got != tc.reason {
				t.Fatalf("reason %q (%v), want %q", got, err, tc.reason)
			}
			if tc.valid != (res != nil && res.Valid) {
				t.Fatalf("valid %v, want %v", res != nil && res.Valid, tc.valid)
			}
			if !tc.valid && out.Len() > 0 {
				t.Errorf("released %d bytes of an invalid message", out.Len())
			}
			if tc.valid && out.String() != tc.msg {
				t.Errorf("released message differs from the one received:\n%q\n%q", out.String()[:300], tc.msg[:300])
			}
			if tc.sections == nil {
				return
			}
			var got []string
			for _, p := range res.Parts {
				s := p.Section
				if p.Signed {
					s = "+" + s
				}
				got = append(got, s)
			}
			if strings.Join(got, " ") != strings.Join(tc.sections, " ") {
				t.Errorf("parts %v, want %v", got, tc.sections)
			}
			var pe *verify.PartialError
			if tc.reason == verify.ReasonUnsignedParts && (!errors.As(err, &pe) || len(pe.Unsigned) == 0) {
				t.Errorf("error %v does not name the unsigned parts", err)
			}
		})
	}
}
