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

	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// TestSealedErrors is issue #17 item 1: a caller tells the failures of
// Verify and Open apart with this package's own types and sentinels, never
// with an internal package's.
func TestSealedErrors(t *testing.T) {
	l := labtest.Default(t)
	signed := signLab(t, l, sign.Clear, []byte(message("alice@example.com")))
	noFrom := signLab(t, l, sign.Clear, []byte(strings.Replace(message("alice@example.com"), "From: alice@example.com\r\n", "", 1)))
	_, entity := entityOf(t, signed)
	outer, _ := entityOf(t, signed)
	var many strings.Builder
	many.WriteString(outer + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"m\"\r\n\r\n")
	for range verify.MaxSignedParts + 1 {
		many.WriteString("--m\r\n" + strings.TrimSuffix(entity, "\r\n") + "\r\n")
	}
	many.WriteString("--m--\r\n")
	opts := verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at }}
	allow := opts
	allow.AllowUnsignedParts = true

	for _, tc := range []struct {
		name  string
		open  bool
		msg   []byte
		opts  verify.Options
		check func(error) bool
	}{
		{"content modified", false, bytes.Replace(signed, []byte("this is signed"), []byte("this is signet"), 1), opts, func(err error) bool {
			return errors.Is(err, verify.ErrContentModified) && !errors.Is(err, verify.ErrBadSignature)
		}},
		{"not mail", false, []byte{0x00, 0x01, 0x02, 0xff, 0xfe}, opts, func(err error) bool {
			var nm *verify.NotMailError
			var me *verify.MalformedError
			return errors.As(err, &nm) && nm.Start == "binary data" && errors.As(err, &me)
		}},
		{"too many signed parts", true, []byte(many.String()), allow, func(err error) bool {
			var le *verify.LimitError
			return errors.As(err, &le) && le.Max == verify.MaxSignedParts && verify.ReasonCode(err) == verify.ReasonTooComplex
		}},
		{"no From", false, noFrom, opts, func(err error) bool {
			var se *verify.SenderError
			return errors.As(err, &se) && errors.Is(err, verify.ErrNoFrom)
		}},
		{"empty Roots trust nothing (item 6)", false, signed, verify.Options{Now: opts.Now}, func(err error) bool {
			var te *verify.TrustError
			return errors.As(err, &te) && te.Reason == verify.Untrusted && te.Reason.String() == "untrusted"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			var err error
			if tc.open {
				_, err = verify.Open(context.Background(), &out, bytes.NewReader(tc.msg), tc.opts)
			} else {
				_, err = verify.Verify(context.Background(), &out, bytes.NewReader(tc.msg), tc.opts)
			}
			if err == nil || !tc.check(err) {
				t.Fatalf("error %v (%T) is not told apart by verify's own types", err, err)
			}
			if out.Len() != 0 {
				t.Errorf("released %d bytes", out.Len())
			}
		})
	}
}

// TestSignatureErrorSentinels: the two causes of a *SignatureError answer
// to verify's sentinels, each to its own (issue #17 item 1).
func TestSignatureErrorSentinels(t *testing.T) {
	for _, tc := range []struct {
		cause error
		want  error
		not   error
	}{
		{cms.ErrContentModified, verify.ErrContentModified, verify.ErrBadSignature},
		{cms.ErrBadSignature, verify.ErrBadSignature, verify.ErrContentModified},
	} {
		err := fmt.Errorf("layer 2: %w", &verify.SignatureError{Err: fmt.Errorf("x: %w", tc.cause)})
		if !errors.Is(err, tc.want) || errors.Is(err, tc.not) {
			t.Errorf("%v: Is(%v) %v, Is(%v) %v", tc.cause, tc.want, errors.Is(err, tc.want), tc.not, errors.Is(err, tc.not))
		}
	}
	if errors.Is(&verify.SignatureError{Err: errors.New("no certificate")}, verify.ErrBadSignature) {
		t.Error("a missing certificate reads as a bad signature")
	}
}

// TestTrustReasonNames: the names of TrustReason are the reason's words
// in every layer (issue #17 item 1).
func TestTrustReasonNames(t *testing.T) {
	want := []string{"untrusted", "expired", "not-yet-valid", "not-authorized", "bad-signature", "usage",
		"critical-extension", "name-constraint", "too-complex", "policy"}
	var got []string
	for r := verify.Untrusted; r <= verify.PolicyViolation; r++ {
		b, err := r.MarshalText()
		if err != nil || string(b) != r.String() {
			t.Fatalf("%v: MarshalText %q, %v", r, b, err)
		}
		got = append(got, r.String())
	}
	if !slices.Equal(got, want) {
		t.Errorf("names %v, want %v", got, want)
	}
}
