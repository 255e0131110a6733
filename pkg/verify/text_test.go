package verify_test

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/pkg/verify"
)

// TestTextRoundTrip is issue #17 item 4: the option enumerations read
// themselves (UnmarshalText, which the CLI's flags and a JSON
// configuration use) and write what they read; an unknown word is an error
// that names the values, and leaves the value as it was.
func TestTextRoundTrip(t *testing.T) {
	type text interface {
		encoding.TextMarshaler
		encoding.TextUnmarshaler
	}
	sc, q, p := verify.SenderWarn, verify.RequireEncrypted|verify.RequireSignedInner, verify.PurposeEncrypt
	for _, tc := range []struct {
		v     text
		fresh func() text
		want  string
		bad   string
	}{
		{&sc, func() text { return new(verify.SenderCheck) }, "warn", "loose"},
		{&q, func() text { return new(verify.Requirement) }, "encrypted,signed-inner", "signed,loose"},
		{&p, func() text { return new(verify.Purpose) }, "encrypt", "signing"},
	} {
		b, err := tc.v.MarshalText()
		if err != nil || string(b) != tc.want {
			t.Fatalf("%T: MarshalText %q, %v; want %q", tc.v, b, err, tc.want)
		}
		got := tc.fresh()
		if err := got.UnmarshalText(b); err != nil {
			t.Fatalf("%T: UnmarshalText(%q): %v", tc.v, b, err)
		}
		if back, _ := got.MarshalText(); string(back) != tc.want {
			t.Errorf("%T: %q read back as %q", tc.v, tc.want, back)
		}
		err = got.UnmarshalText([]byte(tc.bad))
		if err == nil || !strings.Contains(err.Error(), "want one of") {
			t.Errorf("%T: UnmarshalText(%q): %v, want an error naming the values", tc.v, tc.bad, err)
		}
		if back, _ := got.MarshalText(); string(back) != tc.want {
			t.Errorf("%T: a refused word changed the value to %q", tc.v, back)
		}
	}
	var cfg struct {
		SenderCheck verify.SenderCheck `json:"sender_check"`
		Require     verify.Requirement `json:"require"`
	}
	if err := json.Unmarshal([]byte(`{"sender_check":"off","require":"signed,encrypted"}`), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.SenderCheck != verify.SenderOff || cfg.Require != verify.RequireSigned|verify.RequireEncrypted {
		t.Errorf("JSON read %v, %v", cfg.SenderCheck, cfg.Require)
	}
	if _, err := verify.SenderCheck(9).MarshalText(); err == nil {
		t.Error("MarshalText of an unknown sender check: no error")
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

// TestPrefixOnce: an error of this package names it once, however it is
// wrapped in this package's own wrappers (issue #17 item 4: each prefix is
// added where the error is created, no wrapper cuts it off the text).
func TestPrefixOnce(t *testing.T) {
	sig := &verify.SignatureError{Signer: 0, Err: cms.ErrContentModified}
	for _, err := range []error{
		&verify.LayerError{Depth: 2, Kind: verify.KindEnveloped, Err: verify.ErrNoKey},
		&verify.LayerError{Depth: 1, Kind: verify.KindSigned, Err: sig},
		&verify.PartError{Section: "1", Err: &verify.LayerError{Depth: 3, Kind: verify.KindSigned, Err: sig}},
		&verify.PartError{Section: "2", Err: &verify.MalformedError{Err: errors.New("x")}},
		&verify.LayerError{Depth: 1, Kind: verify.KindSigned, Err: &verify.SenderError{From: "a@example.com"}},
		&verify.CertificateError{Err: &verify.TrustError{Reason: verify.Expired, Err: errors.New("expired")}},
	} {
		if n := strings.Count(err.Error(), "verify: "); n != 1 || !strings.HasPrefix(err.Error(), "verify: ") {
			t.Errorf("%q names the package %d times", err.Error(), n)
		}
	}
	if got, want := (&verify.LayerError{Depth: 2, Kind: verify.KindEnveloped, Err: verify.ErrNoKey}).Error(),
		"verify: layer 2 (enveloped): the message is encrypted and no key was given to decrypt it"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
