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

	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/pkg/encrypt"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

func signWith(t *testing.T, opts sign.Options, in []byte) []byte {
	t.Helper()
	opts.Now = func() time.Time { return at.Add(-time.Hour) }
	var out bytes.Buffer
	if err := sign.Sign(context.Background(), &out, bytes.NewReader(in), opts); err != nil {
		t.Fatalf("signing: %v", err)
	}
	return out.Bytes()
}

func signLab(t *testing.T, l *lab.Lab, mode sign.Mode, in []byte) []byte {
	u := l.User("alice-sign")
	return signWith(t, sign.Options{Key: u.Key, Certificate: u.Cert, Chain: l.Chain(), Mode: mode}, in)
}

func encryptTo(t *testing.T, l *lab.Lab, gcm bool, in []byte) []byte {
	t.Helper()
	opts := encrypt.Options{Recipients: []*x509.Certificate{l.User("bob").Cert, l.User("carol").Cert},
		Now: func() time.Time { return at }}
	if gcm {
		opts.Ciphers = []encrypt.Cipher{encrypt.AES128GCM}
	}
	var out bytes.Buffer
	if err := encrypt.Encrypt(&out, bytes.NewReader(in), opts); err != nil {
		t.Fatalf("encrypting: %v", err)
	}
	return out.Bytes()
}

// selfSigned returns a signer whose certificate no lab root vouches for.
func selfSigned(t *testing.T) sign.Options { return selfSignedTB(t) }

func selfSignedTB(t testing.TB) sign.Options {
	t.Helper()
	key, cert := labtest.SelfSigned(t, "Mallory", 7, at)
	return sign.Options{Key: key, Certificate: cert, Now: func() time.Time { return at }}
}

func TestOpen(t *testing.T) {
	l := labtest.Default(t)
	msg := []byte(message("alice@example.com"))
	bob := &verify.Identity{Certificate: l.User("bob").Cert, Key: l.User("bob").Key}
	triple := func(innerMode sign.Mode, gcm bool) []byte {
		return signLab(t, l, sign.Opaque, encryptTo(t, l, gcm, signLab(t, l, innerMode, msg)))
	}
	tamperedInner := func() []byte {
		inner := bytes.Replace(signLab(t, l, sign.Clear, msg), []byte("this is signed"), []byte("this is signet"), 1)
		return signLab(t, l, sign.Opaque, encryptTo(t, l, false, inner))
	}
	tamperedOuter := func() []byte {
		out := signLab(t, l, sign.Clear, encryptTo(t, l, false, signLab(t, l, sign.Clear, msg)))
		mark := []byte("filename=\"smime.p7m\"\r\n\r\n")
		i := bytes.Index(out, mark)
		if i < 0 {
			t.Fatal("no enveloped part in the outer layer")
		}
		i += len(mark) + 400
		out = bytes.Clone(out)
		out[i] ^= 'A' ^ 'B'
		return out
	}
	untrustedInner := func() []byte {
		return signLab(t, l, sign.Opaque, encryptTo(t, l, false, signWith(t, selfSigned(t), msg)))
	}
	nine := func() []byte {
		m := msg
		for range verify.MaxDepth + 1 {
			m = signLab(t, l, sign.Clear, m)
		}
		return m
	}
	tests := []struct {
		name    string
		msg     []byte
		key     *verify.Identity
		require verify.Requirement
		kinds   string // layer kinds, outermost first
		errAs   any    // the error type wanted inside a *LayerError, nil if valid
		errAt   int    // the failing layer
		warn    string
	}{
		{name: "triple wrap clear inner", msg: triple(sign.Clear, false), key: bob, require: verify.RequireSignedInner | verify.RequireEncrypted, kinds: "signed enveloped signed"},
		{name: "triple wrap opaque inner gcm", msg: triple(sign.Opaque, true), key: bob, kinds: "signed authEnveloped signed"},
		{name: "one signed layer", msg: signLab(t, l, sign.Clear, msg), require: verify.RequireSigned, kinds: "signed"},
		{name: "signed twice", msg: signLab(t, l, sign.Clear, signLab(t, l, sign.Opaque, msg)), kinds: "signed signed"},
		{name: "sign then encrypt", msg: encryptTo(t, l, false, signLab(t, l, sign.Clear, msg)), key: bob, require: verify.RequireSignedInner, kinds: "enveloped signed"},
		// Issue #11 item 1: "signed" is the minimum unless AllowUnsigned.
		{name: "encrypted only", msg: encryptTo(t, l, false, msg), key: bob, kinds: "enveloped", errAs: new(*verify.RequirementError)},
		{name: "no key", msg: triple(sign.Clear, false), kinds: "signed enveloped", errAs: &verify.ErrNoKey, errAt: 2},
		{name: "tampered inner body", msg: tamperedInner(), key: bob, kinds: "signed enveloped signed", errAs: new(*verify.SignatureError), errAt: 3},
		{name: "tampered outer", msg: tamperedOuter(), key: bob, kinds: "signed enveloped", errAs: new(*verify.SignatureError), errAt: 1},
		{name: "untrusted inner signer", msg: untrustedInner(), key: bob, kinds: "signed enveloped signed", errAs: new(*verify.TrustError), errAt: 3},
		{name: "encrypted but not signed", msg: encryptTo(t, l, false, msg), key: bob, require: verify.RequireSigned, kinds: "enveloped", errAs: new(*verify.RequirementError)},
		{name: "signed outside only", msg: signLab(t, l, sign.Opaque, encryptTo(t, l, false, msg)), key: bob, require: verify.RequireSignedInner, kinds: "signed enveloped", errAs: new(*verify.RequirementError), warn: "not signed"},
		{name: "not encrypted", msg: signLab(t, l, sign.Clear, msg), require: verify.RequireEncrypted, kinds: "signed", errAs: new(*verify.RequirementError)},
		{name: "nine layers", msg: nine(), kinds: strings.TrimSpace(strings.Repeat("signed ", verify.MaxDepth)), errAs: new(*verify.DepthError)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			res, err := verify.Open(context.Background(), &out, bytes.NewReader(tc.msg), verify.Options{
				Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at },
				Decrypt: tc.key, Require: tc.require, SpoolDir: t.TempDir(),
			})
			if res == nil {
				t.Fatalf("got no result, error %v", err)
			}
			var kinds []string
			for _, layer := range res.Layers {
				kinds = append(kinds, layer.Kind.String())
			}
			if got := strings.Join(kinds, " "); got != tc.kinds {
				t.Errorf("got layers %q, want %q", got, tc.kinds)
			}
			if tc.warn != "" && !strings.Contains(strings.Join(res.Warnings, "\n"), tc.warn) {
				t.Errorf("got warnings %q, want one with %q", res.Warnings, tc.warn)
			}
			if tc.errAs == nil {
				if err != nil || !res.Valid {
					t.Fatalf("got error %v (valid %v), want none", err, res.Valid)
				}
				for _, layer := range res.Layers {
					us := false
					for _, r := range layer.Recipients {
						us = us || r.Us
					}
					if !layer.Valid || (layer.Kind != verify.KindSigned && !us) {
						t.Errorf("layer %d: got valid %v, us %v", layer.Depth, layer.Valid, us)
					}
				}
				if !bytes.Contains(out.Bytes(), []byte("this is signed.")) || !bytes.HasPrefix(out.Bytes(), []byte("From: alice@example.com\r\n")) {
					t.Errorf("got content %q, want the outer header and the message", out.String())
				}
				return
			}
			if err == nil || res.Valid {
				t.Fatalf("got valid %v, error %v; want a failure", res.Valid, err)
			}
			if out.Len() != 0 {
				t.Errorf("got %d bytes released, want none", out.Len())
			}
			if target, ok := tc.errAs.(*error); ok {
				if !errors.Is(err, *target) {
					t.Errorf("got error %v, want %v", err, *target)
				}
			} else if !errors.As(err, tc.errAs) {
				t.Errorf("got error %v (%T), want %T", err, err, tc.errAs)
			}
			var le *verify.LayerError
			if tc.errAt != 0 && (!errors.As(err, &le) || le.Depth != tc.errAt) {
				t.Errorf("got error %v, want one naming layer %d", err, tc.errAt)
			}
		})
	}
}

// TestOpenRequiresSignature is issue #11 item 1: a message that is only
// encrypted, opened with the recipient's key, is not "valid": Open fails
// with RequirementError (RequireSigned) and releases nothing, unless the
// caller asks for less with AllowUnsigned, and even then the result is not
// valid and the Authentication-Results field says none.
func TestOpenRequiresSignature(t *testing.T) {
	l := labtest.Default(t)
	bob := &verify.Identity{Certificate: l.User("bob").Cert, Key: l.User("bob").Key}
	// Anyone with Bob's certificate can write this, with any From.
	forged := encryptTo(t, l, false, []byte(message("ceo@example.com")))
	tests := []struct {
		name     string
		allow    bool
		require  verify.Requirement
		released bool
	}{
		{name: "default"},
		{name: "require encrypted only still requires signed", require: verify.RequireEncrypted},
		{name: "unsigned allowed", allow: true, released: true},
		{name: "unsigned allowed, signed required", allow: true, require: verify.RequireSigned},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			res, err := verify.Open(context.Background(), &out, bytes.NewReader(forged), verify.Options{
				Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at },
				Decrypt: bob, AllowUnsigned: tc.allow, Require: tc.require, SpoolDir: t.TempDir(),
			})
			if res == nil {
				t.Fatalf("no result, error %v", err)
			}
			if res.Valid || len(res.Signers) != 0 {
				t.Errorf("got valid %v with %d signers, want not valid", res.Valid, len(res.Signers))
			}
			ar := verify.AuthenticationResults("mx.example.com", res, err)
			if !strings.Contains(ar, "smime=none") || strings.Contains(ar, "pass") {
				t.Errorf("got %q, want smime=none", ar)
			}
			if !tc.released {
				var re *verify.RequirementError
				if !errors.As(err, &re) || re.Require != verify.RequireSigned || out.Len() != 0 {
					t.Fatalf("got error %v and %d bytes, want RequireSigned and nothing", err, out.Len())
				}
				if !strings.Contains(err.Error(), "not signed") {
					t.Errorf("got %q, want it to say not signed", err)
				}
				return
			}
			if err != nil || !strings.Contains(out.String(), "this is signed.") {
				t.Fatalf("got error %v, %q released", err, out.String())
			}
			if w := strings.Join(res.Warnings, "\n"); !strings.Contains(w, "the message is not signed") {
				t.Errorf("got warnings %q, want one saying it is not signed", w)
			}
		})
	}
}

// TestOneWalkerFourPolicies is issue #17 item 2: the triple wrap read by
// the one walker under each caller's policy. Verify checks the outer
// signed layer only and releases its content (the enveloped entity) as it
// is; Open checks, decrypts and checks again; Inspect describes the
// layers down to the encrypted one and judges nothing; UnwrapSigned takes
// the signed layer off above it. A message encrypted only, without an
// smime-type parameter, is not signed for Verify, whatever its OID.
func TestOneWalkerFourPolicies(t *testing.T) {
	l := labtest.Default(t)
	msg := []byte(message("alice@example.com"))
	inner := signLab(t, l, sign.Clear, msg)
	enveloped := encryptTo(t, l, false, inner)
	triple := signLab(t, l, sign.Opaque, enveloped)
	opts := verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at },
		Decrypt: &verify.Identity{Certificate: l.User("bob").Cert, Key: l.User("bob").Key}}

	var vout bytes.Buffer
	vres, err := verify.Verify(context.Background(), &vout, bytes.NewReader(triple), opts)
	if err != nil || !vres.Valid || len(vres.Layers) != 0 || len(vres.Signers) != 1 {
		t.Fatalf("Verify: %v, %+v", err, vres)
	}
	_, entity := entityOf(t, enveloped)
	if !bytes.HasSuffix(vout.Bytes(), []byte(entity)) {
		t.Errorf("Verify released other content than the enveloped entity it signs")
	}

	var oout bytes.Buffer
	ores, err := verify.Open(context.Background(), &oout, bytes.NewReader(triple), opts)
	if err != nil || !ores.Valid || len(ores.Layers) != 3 || !bytes.Contains(oout.Bytes(), []byte("this is signed")) {
		t.Fatalf("Open: %v, %d layers", err, len(ores.Layers))
	}

	ins, err := verify.Inspect(bytes.NewReader(triple), verify.InspectOptions{})
	if err != nil || len(ins.Layers) != 2 || ins.Layers[1].Kind != verify.KindEnveloped || ins.Layers[0].Valid {
		t.Fatalf("Inspect: %v, %+v", err, ins.Layers)
	}

	var uout bytes.Buffer
	removed, err := verify.UnwrapSigned(&uout, bytes.NewReader(triple), verify.UnwrapOptions{})
	if err != nil || len(removed) != 1 || !bytes.HasSuffix(uout.Bytes(), []byte(strings.SplitN(entity, "\r\n\r\n", 2)[1])) {
		t.Fatalf("UnwrapSigned: %v, %d layers removed", err, len(removed))
	}

	noType := bytes.Replace(enveloped, []byte("; smime-type=enveloped-data"), nil, 1)
	if bytes.Equal(noType, enveloped) {
		t.Fatal("no smime-type parameter to take off")
	}
	var nout bytes.Buffer
	if res, err := verify.Verify(context.Background(), &nout, bytes.NewReader(noType), opts); !errors.Is(err, verify.ErrNotSigned) || res != nil || nout.Len() != 0 {
		t.Errorf("Verify of an encrypted message without smime-type: %v, %v", res, err)
	}
}
