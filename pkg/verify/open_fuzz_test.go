package verify_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"github.com/smimectl/smimectl/internal/lab/labtest"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/pkg/encrypt"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// FuzzOpen: Inspect and Open never panic on a mutated layered message, and
// Open never reports one valid unless the content it releases ends with the
// entity that was signed inside.
func FuzzOpen(f *testing.F) {
	l := labtest.Default(f)
	alice, bob := l.User("alice-sign"), l.User("bob")
	now := func() time.Time { return at }
	for _, inner := range []sign.Mode{sign.Clear, sign.Opaque} {
		var s1, e, s2 bytes.Buffer
		msg := "From: alice@example.com\r\nSubject: fuzz\r\n" + fuzzEntity
		sopts := sign.Options{Key: alice.Key, Certificate: alice.Cert, Chain: l.Chain(), Mode: inner, Now: now}
		if err := sign.Sign(&s1, strings.NewReader(msg), sopts); err != nil {
			f.Fatal(err)
		}
		if err := encrypt.Encrypt(&e, &s1, encrypt.Options{Recipients: []*x509.Certificate{bob.Cert}, Now: now}); err != nil {
			f.Fatal(err)
		}
		sopts.Mode = sign.Opaque
		if err := sign.Sign(&s2, bytes.NewReader(e.Bytes()), sopts); err != nil {
			f.Fatal(err)
		}
		f.Add(e.Bytes())
		f.Add(s2.Bytes())
	}
	opts := verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: now, SenderCheck: verify.SenderOff,
		Decrypt: &verify.Identity{Certificate: bob.Cert, Key: bob.Key}, Require: verify.RequireSignedInner}
	f.Fuzz(func(t *testing.T, msg []byte) {
		if _, err := verify.Inspect(bytes.NewReader(msg), verify.InspectOptions{}); err == nil && len(msg) == 0 {
			t.Log("empty message inspected")
		}
		var out bytes.Buffer
		res, err := verify.Open(context.Background(), &out, bytes.NewReader(msg), opts)
		if err != nil {
			if out.Len() != 0 {
				t.Fatalf("failed open (%v) released %d bytes", err, out.Len())
			}
			if res != nil && res.Valid {
				t.Fatal("result valid with an error")
			}
			return
		}
		if !res.Valid || !bytes.HasSuffix(out.Bytes(), []byte(fuzzEntity)) {
			t.Fatalf("valid, but released content differs from what was signed: %q", out.Bytes())
		}
	})
}

// FuzzInspect: Inspect never panics or hangs, never reports more than
// MaxDepth layers, and numbers them from 1. Seeds are signed by a throwaway
// ECDSA key (no lab, so the fuzzer starts fast), clear and opaque, nested.
func FuzzInspect(f *testing.F) {
	s := selfSignedTB(f)
	for _, mode := range []sign.Mode{sign.Clear, sign.Opaque} {
		s.Mode = mode
		var out bytes.Buffer
		if err := sign.Sign(&out, strings.NewReader("From: alice@example.com\r\n"+fuzzEntity), s); err != nil {
			f.Fatal(err)
		}
		f.Add(out.Bytes())
		f.Add(nestClear(out.Bytes(), "MA==", 3))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		ins, err := verify.Inspect(bytes.NewReader(msg), verify.InspectOptions{SpoolDir: t.TempDir()})
		if ins == nil {
			t.Fatalf("nil inspection (error %v)", err)
		}
		if len(ins.Layers) > verify.MaxDepth {
			t.Fatalf("got %d layers", len(ins.Layers))
		}
		for i, l := range ins.Layers {
			if l.Depth != i+1 {
				t.Fatalf("layer %d has depth %d", i+1, l.Depth)
			}
		}
	})
}
