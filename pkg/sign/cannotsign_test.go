package sign_test

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/pkg/sign"
)

// TestErrKeyCannotSign (issue #17 item 1): a caller tells an ML-KEM key,
// which no --force can sign with, from a certificate check it could force,
// with sign's own sentinel; nothing is written.
func TestErrKeyCannotSign(t *testing.T) {
	l, err := lab.New(lab.Options{PQ: true})
	if err != nil {
		t.Fatal(err)
	}
	dan, alice := l.User("dan-mlkem"), l.User("alice-sign")
	danKey, ok := dan.PrivateKey.(crypto.Signer)
	if !ok {
		t.Fatalf("dan-mlkem's key is a %T, not a crypto.Signer", dan.PrivateKey)
	}
	at := func() time.Time { return dan.Cert.NotBefore.Add(time.Hour) }
	for _, tc := range []struct {
		name string
		opts sign.Options
		want bool
	}{
		{"ML-KEM key", sign.Options{Key: danKey, Certificate: dan.Cert, From: dan.Email, Now: at}, true},
		{"ML-KEM key, forced", sign.Options{Key: danKey, Certificate: dan.Cert, Force: true, Now: at}, true},
		{"expired signing key", sign.Options{Key: alice.Key, Certificate: alice.Cert,
			Now: func() time.Time { return alice.Cert.NotAfter.Add(time.Hour) }}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := sign.Sign(context.Background(), &out, strings.NewReader(msg), tc.opts)
			var ce *sign.CertificateError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *sign.CertificateError", err)
			}
			if got := errors.Is(err, sign.ErrKeyCannotSign); got != tc.want {
				t.Errorf("errors.Is(%v, ErrKeyCannotSign) = %v, want %v", err, got, tc.want)
			}
			if out.Len() != 0 {
				t.Error("output written before the refusal")
			}
		})
	}
}
