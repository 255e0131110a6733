package verify_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/chain"
	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/pkg/encrypt"
	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// TestReasonCode maps every error type of the library to its reason code
// (issue #13 item 6: one list of stable codes).
func TestReasonCode(t *testing.T) {
	trust := func(r chain.Reason) error { // the chain reason, and the TrustReason of the same name (issue #17 item 1)
		return &verify.TrustError{Reason: verify.TrustReason(r), Err: &chain.Error{Reason: r, Cert: &x509.Certificate{}, Detail: "x"}}
	}
	pathErr := &fs.PathError{Op: "open", Path: "x", Err: syscall.ENOENT}
	tests := []struct {
		err  error
		want verify.Reason
	}{
		{nil, ""},
		{errors.New("something else"), verify.ReasonOther},
		{&verify.SignatureError{Err: cms.ErrBadSignature}, verify.ReasonBadSignature},
		{&verify.SignatureError{Err: cms.ErrContentModified}, verify.ReasonContentModified},
		{fmt.Errorf("layer: %w", &verify.SignatureError{Err: fmt.Errorf("x: %w", cms.ErrContentModified)}), verify.ReasonContentModified},
		{trust(chain.Untrusted), verify.ReasonUntrusted},
		{trust(chain.Expired), verify.ReasonExpired},
		{trust(chain.NotYetValid), verify.ReasonNotYetValid},
		{trust(chain.Usage), verify.ReasonKeyUsage},
		{trust(chain.NotAuthorized), verify.ReasonNotAuthorized},
		{trust(chain.BadSignature), verify.ReasonBadCertificateSignature},
		{trust(chain.CriticalExtension), verify.ReasonCriticalExtension},
		{trust(chain.NameConstraint), verify.ReasonNameConstraint},
		{trust(chain.TooComplex), verify.ReasonTooComplex},
		{trust(chain.Policy), verify.ReasonCertificatePolicy},
		{&chain.Error{Reason: chain.Expired, Cert: &x509.Certificate{}}, verify.ReasonExpired},
		{&verify.CertificateError{Err: trust(chain.Expired)}, verify.ReasonExpired},
		{&verify.CertificateError{Err: &revocation.RevokedError{}}, verify.ReasonRevoked},
		{&revocation.RevokedError{}, verify.ReasonRevoked},
		{&revocation.UnavailableError{Err: errors.New("down")}, verify.ReasonRevocationUnavailable},
		{&verify.SenderError{From: "a@example.com"}, verify.ReasonSenderMismatch},
		{&verify.SenderError{Err: mime.ErrNoFrom}, verify.ReasonSenderMismatch},
		{&verify.HeaderError{Field: "From"}, verify.ReasonHeaderChanged},
		{&verify.PolicyError{Err: errors.New("md5")}, verify.ReasonWeakAlgorithm},
		{&verify.RequirementError{Require: verify.RequireSigned}, verify.ReasonNotSigned},
		{&verify.RequirementError{Require: verify.RequireEncrypted}, verify.ReasonPolicy},
		{verify.ErrNotSigned, verify.ReasonNotSigned},
		{fmt.Errorf("%w: text/plain", verify.ErrNotSigned), verify.ReasonNotSigned},
		{&verify.DepthError{Max: 8}, verify.ReasonTooComplex},
		{&verify.MalformedError{Err: &cms.LimitError{What: "signers", Limit: 64}}, verify.ReasonTooComplex},
		{&verify.AmbiguousError{Err: &mime.AmbiguousError{Reason: "two Content-Type fields"}}, verify.ReasonAmbiguousMIME},
		{&verify.AmbiguousCertificateError{Count: 2}, verify.ReasonAmbiguousCertificate},
		{&verify.MalformedError{Err: errors.New("bad")}, verify.ReasonMalformed},
		{&verify.MalformedCertificateError{Err: errors.New("bad")}, verify.ReasonMalformed},
		{&encrypt.MalformedError{Err: errors.New("bad")}, verify.ReasonMalformed},
		{&verify.LayerError{Depth: 2, Kind: "signed", Err: &verify.MalformedError{Err: errors.New("bad")}}, verify.ReasonMalformed},
		{verify.ErrNoKey, verify.ReasonNoKey},
		{&encrypt.NotForUsError{}, verify.ReasonNoKey},
		{&encrypt.DecryptError{Err: cms.ErrDecrypt}, verify.ReasonDecryptFailed},
		{encrypt.ErrNotEncrypted, verify.ReasonNotEncrypted},
		// A fault of this machine wins, even inside a "malformed" message:
		// the message was not judged (issue #11 item 15).
		{&mime.SpoolError{Op: "write", Dir: "/tmp", Err: syscall.ENOSPC}, verify.ReasonLocalFault},
		{&verify.MalformedError{Err: &mime.SpoolError{Op: "read", Dir: "/tmp", Err: syscall.EIO}}, verify.ReasonLocalFault},
		{pathErr, verify.ReasonLocalFault},
		{&os.LinkError{Op: "rename", Old: "a", New: "b", Err: syscall.EXDEV}, verify.ReasonLocalFault},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%T/%v", tt.err, tt.err), func(t *testing.T) {
			if got := verify.ReasonCode(tt.err); got != tt.want {
				t.Errorf("ReasonCode(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

// TestReasonsList checks the one list: every code once, in the code
// syntax (lowercase words joined by hyphens), with a meaning; and every
// code ReasonCode returns is in it.
func TestReasonsList(t *testing.T) {
	syntax := regexp.MustCompile(`^[a-z]+(-[a-z0-9]+)*$`)
	seen := map[verify.Reason]bool{}
	for _, r := range verify.Reasons() {
		if seen[r.Code] {
			t.Errorf("reason %q listed twice", r.Code)
		}
		seen[r.Code] = true
		if !syntax.MatchString(r.Code.String()) {
			t.Errorf("reason %q: not lowercase words joined by hyphens", r.Code)
		}
		if r.Meaning == "" {
			t.Errorf("reason %q has no meaning", r.Code)
		}
	}
	for _, code := range []verify.Reason{verify.ReasonCode(errors.New("x")), verify.ReasonCode(verify.ErrNoKey), verify.ReasonCode(verify.ErrNotSigned)} {
		if !seen[code] {
			t.Errorf("ReasonCode returns %q, which Reasons does not list", code)
		}
	}
}

// TestReasonCodeOfVerify checks the codes of real verifications of lab
// messages: what the library returns, not only hand-built errors.
func TestReasonCodeOfVerify(t *testing.T) {
	l := labtest.Default(t)
	msg := []byte(message("alice@example.com"))
	good := signLab(t, l, sign.Clear, msg)
	base := verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at }}
	tests := []struct {
		name string
		msg  []byte
		opts func(*verify.Options)
		want verify.Reason
	}{
		{"good", good, nil, ""},
		{"changed", bytes.Replace(good, []byte("this is signed"), []byte("this is signet"), 1), nil, verify.ReasonContentModified},
		{"untrusted", good, func(o *verify.Options) { o.Roots = nil }, verify.ReasonUntrusted},
		{"expired", good, func(o *verify.Options) { o.Now = func() time.Time { return at.AddDate(30, 0, 0) } }, verify.ReasonExpired},
		{"not signed", msg, nil, verify.ReasonNotSigned},
		{"sender", signedBy(t, l, withHeader("From: mallory@example.com\r\n"), "alice-sign"), nil, verify.ReasonSenderMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := base
			if tt.opts != nil {
				tt.opts(&opts)
			}
			_, err := verify.Verify(context.Background(), io.Discard, bytes.NewReader(tt.msg), opts)
			if got := verify.ReasonCode(err); got != tt.want {
				t.Errorf("ReasonCode(%v) = %q, want %q", err, got, tt.want)
			}
		})
	}
}
