package verify_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// TestSpoolFaultIsNotAVerdict: a temporary file that can't be created is a
// fault of this machine, so Verify and Open return the *mime.SpoolError
// itself, never a *MalformedError, and the Authentication-Results verdict is
// temperror, not permerror (issue #11 item 15: a filter must not quarantine
// good mail because TMPDIR is missing or full).
func TestSpoolFaultIsNotAVerdict(t *testing.T) {
	l := labtest.Default(t)
	opts := verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at },
		Revocation:     revocation.New(revocation.Options{Mode: revocation.Off}),
		SpoolDir:       filepath.Join(t.TempDir(), "missing"),
		SpoolThreshold: 1}
	calls := map[string]func(msg []byte) (*verify.Result, error){
		"Verify": func(msg []byte) (*verify.Result, error) {
			return verify.Verify(context.Background(), &bytes.Buffer{}, bytes.NewReader(msg), opts)
		},
		"Open": func(msg []byte) (*verify.Result, error) {
			return verify.Open(context.Background(), &bytes.Buffer{}, bytes.NewReader(msg), opts)
		},
	}
	for _, mode := range []sign.Mode{sign.Clear, sign.Opaque} {
		msg := signAs(t, l, "bob", mode, "bob@example.com", false)
		for name, call := range calls {
			res, err := call(msg)
			var se *mime.SpoolError
			var me *verify.MalformedError
			if !errors.As(err, &se) || errors.As(err, &me) {
				t.Errorf("%s, mode %v: got %T %v, want a *mime.SpoolError and no *verify.MalformedError", name, mode, err, err)
				continue
			}
			field := verify.AuthenticationResults("mx.example.com", res, err)
			if !bytes.Contains([]byte(field), []byte("smime=temperror")) {
				t.Errorf("%s, mode %v: Authentication-Results %q, want smime=temperror", name, mode, field)
			}
		}
	}
}
