package verify_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// FuzzOpen: Inspect and Open never panic on a mutated layered message;
// Open never reports one valid unless the content it releases ends with the
// entity that was signed inside and every signer is valid, never reports more than MaxDepth layers,
// and a failure releases nothing and is one of the package's (or
// pkg/encrypt's) error types.
//
// Its seeds are the committed testdata/fuzz/FuzzOpen corpus and its root
// and Bob's identity are read from testdata/fuzzlab (TestFuzzCorpus makes
// both), so that fuzz workers do not derive the lab's RSA keys at start.
func FuzzOpen(f *testing.F) {
	opts := loadFuzzLab(f).openOptions()
	f.Fuzz(func(t *testing.T, msg []byte) {
		if _, err := verify.Inspect(bytes.NewReader(msg), verify.InspectOptions{}); err == nil && len(msg) == 0 {
			t.Log("empty message inspected")
		}
		var out bytes.Buffer
		res, err := verify.Open(context.Background(), &out, bytes.NewReader(msg), opts)
		if res != nil && len(res.Layers) > verify.MaxDepth {
			t.Fatalf("got %d layers, more than MaxDepth", len(res.Layers))
		}
		if err != nil {
			if out.Len() != 0 {
				t.Fatalf("failed open (%v) released %d bytes", err, out.Len())
			}
			if res != nil && res.Valid {
				t.Fatal("result valid with an error")
			}
			if errorKind(err) == "" {
				t.Fatalf("error of no package type: %v (%T)", err, err)
			}
			return
		}
		if !res.Valid || !released(res, out.Bytes()) {
			t.Fatalf("valid, but released content differs from what was signed: %q", out.Bytes())
		}
		if !vouched(res) {
			t.Fatalf("valid with %d signers, not all valid", len(res.Signers))
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
		if err := sign.Sign(context.Background(), &out, strings.NewReader("From: alice@example.com\r\n"+fuzzEntity), s); err != nil {
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
