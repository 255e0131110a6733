package verify_test

// The seed corpora of FuzzVerify and FuzzOpen are committed under
// testdata/fuzz/<Target>/seed-*, and what the targets need at run time (the
// trusted root, the certificates a recipient already has, Bob's certificate
// and key to decrypt with) under testdata/fuzzlab/ as PEM: a fuzz worker
// reads files, and neither derives the lab's RSA keys nor signs and
// encrypts seeds at start. Both are generated from the deterministic lab
// (seed 1) by
//
//	go test ./pkg/verify -run TestFuzzCorpus -update-corpus
//
// Without the flag, TestFuzzCorpus checks that the committed corpora match
// the seed tables below (no case missing, no stale seed file) and that each
// seed still has its expected outcome under the targets' options, so a seed
// that no longer verifies cannot silently leave the fuzzer on error paths.
// Other files in those directories (crashers the fuzzer found) are kept.
//
// Most seeds carry no certificates (the targets get the intermediate and
// the signers' certificates as Options.Intermediates), and the deep ones are
// signed with ECDSA: small inputs run and minimize faster. A few seeds carry
// the whole chain, so that certificate parsing is fuzzed too.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/pkg/encrypt"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the fuzz seed corpora and testdata/fuzzlab from the lab")

const fuzzLabDir = "testdata/fuzzlab"

// fuzzLab is what the fuzz targets need at run time, read from
// testdata/fuzzlab.
type fuzzLab struct {
	root, bob *x509.Certificate
	certs     []*x509.Certificate // the intermediate, then the signers
	bobKey    crypto.PrivateKey
}

func loadFuzzLab(tb testing.TB) *fuzzLab {
	tb.Helper()
	// read returns the DER of every PEM block of the file, each of type typ.
	read := func(name, typ string) [][]byte {
		b, err := os.ReadFile(filepath.Join(fuzzLabDir, name))
		if err != nil {
			tb.Fatalf("%v (run go test ./pkg/verify -run TestFuzzCorpus -update-corpus)", err)
		}
		var ders [][]byte
		for {
			var blk *pem.Block
			if blk, b = pem.Decode(b); blk == nil {
				break
			}
			if blk.Type != typ {
				tb.Fatalf("%s: a PEM %s, want %s", name, blk.Type, typ)
			}
			ders = append(ders, blk.Bytes)
		}
		if len(ders) == 0 {
			tb.Fatalf("%s: no PEM %s", name, typ)
		}
		return ders
	}
	certs := func(name string) []*x509.Certificate {
		var cs []*x509.Certificate
		for _, der := range read(name, "CERTIFICATE") {
			c, err := x509.ParseCertificate(der)
			if err != nil {
				tb.Fatalf("%s: %v", name, err)
			}
			cs = append(cs, c)
		}
		return cs
	}
	fx := &fuzzLab{root: certs("root.crt")[0], bob: certs("bob.crt")[0], certs: certs("certs.pem")}
	k, err := x509.ParsePKCS8PrivateKey(read("bob.key", "PRIVATE KEY")[0])
	if err != nil {
		tb.Fatalf("bob.key: %v", err)
	}
	fx.bobKey = k
	return fx
}

// verifyOptions and openOptions are the options of FuzzVerify and FuzzOpen.
func (fx *fuzzLab) verifyOptions() verify.Options {
	return verify.Options{Roots: []*x509.Certificate{fx.root}, Intermediates: fx.certs,
		Now: func() time.Time { return at }, SenderCheck: verify.SenderOff}
}

func (fx *fuzzLab) openOptions() verify.Options {
	o := fx.verifyOptions()
	o.Decrypt = &verify.Identity{Certificate: fx.bob, Key: fx.bobKey}
	o.Require = verify.RequireSignedInner
	return o
}

// errorKind names the package error type err is or wraps, the outcome a
// seed expects: "valid" for nil, "" for an error of no known type.
func errorKind(err error) string {
	var (
		depth  *verify.DepthError
		req    *verify.RequirementError
		sig    *verify.SignatureError
		trust  *verify.TrustError
		sender *verify.SenderError
		header *verify.HeaderError
		policy *verify.PolicyError
		mal    *verify.MalformedError
		amb    *verify.AmbiguousError
		nfu    *encrypt.NotForUsError
		dec    *encrypt.DecryptError
		emal   *encrypt.MalformedError
	)
	switch {
	case err == nil:
		return "valid"
	case errors.As(err, &depth):
		return "depth"
	case errors.As(err, &req):
		return "requirement"
	case errors.Is(err, verify.ErrNoKey):
		return "no-key"
	case errors.As(err, &sig):
		return "signature"
	case errors.As(err, &trust):
		return "trust"
	case errors.As(err, &sender):
		return "sender"
	case errors.As(err, &header):
		return "header"
	case errors.As(err, &policy):
		return "policy"
	case errors.As(err, &nfu):
		return "not-for-us"
	case errors.As(err, &dec):
		return "decrypt"
	case errors.As(err, &mal), errors.As(err, &emal):
		return "malformed"
	case errors.As(err, &amb):
		return "ambiguous"
	case errors.Is(err, verify.ErrNotSigned):
		return "not-signed"
	case errors.Is(err, encrypt.ErrNotEncrypted):
		return "not-encrypted"
	}
	return ""
}

// seedGen builds seed messages from the lab.
type seedGen struct {
	tb testing.TB
	l  *lab.Lab
}

// msg is the message every seed signs: fuzzEntity under From and Subject.
func (g *seedGen) msg(from string) []byte {
	return []byte("From: " + from + "\r\nSubject: fuzz\r\n" + fuzzEntity)
}

// sign signs in as user, with no certificates in the message; edit, if not
// nil, adjusts the options.
func (g *seedGen) sign(user string, mode sign.Mode, in []byte, edit func(*sign.Options)) []byte {
	g.tb.Helper()
	u := g.l.User(user)
	opts := sign.Options{Key: u.Key, Certificate: u.Cert, Chain: g.l.Chain(), Mode: mode,
		Include: sign.IncludeNone, Now: func() time.Time { return at }}
	if edit != nil {
		edit(&opts)
	}
	var out bytes.Buffer
	if err := sign.Sign(context.Background(), &out, bytes.NewReader(in), opts); err != nil {
		g.tb.Fatalf("signing as %s: %v", user, err)
	}
	return out.Bytes()
}

func (g *seedGen) alice(mode sign.Mode, in []byte) []byte { return g.sign("alice-sign", mode, in, nil) }

// withChain puts the signer's certificate and the intermediate in the message.
func withChain(o *sign.Options) { o.Include = sign.IncludeChain }

// encrypt encrypts to the named users; edit, if not nil, adjusts the options.
func (g *seedGen) encrypt(in []byte, to []string, edit func(*encrypt.Options)) []byte {
	g.tb.Helper()
	opts := encrypt.Options{Now: func() time.Time { return at }}
	for _, n := range to {
		opts.Recipients = append(opts.Recipients, g.l.User(n).Cert)
	}
	if edit != nil {
		edit(&opts)
	}
	var out bytes.Buffer
	if err := encrypt.Encrypt(&out, bytes.NewReader(in), opts); err != nil {
		g.tb.Fatalf("encrypting: %v", err)
	}
	return out.Bytes()
}

func gcm(o *encrypt.Options) { o.Ciphers = []encrypt.Cipher{encrypt.AES128GCM} }

// flip changes one base64 character at frac of the way through msg's last
// base64 body, where the ciphertext of an enveloped layer is.
func flip(tb testing.TB, msg []byte, frac float64) []byte {
	i := bytes.LastIndex(msg, []byte("\r\n\r\n"))
	if i < 0 {
		tb.Fatal("no body to flip a byte in")
	}
	out := bytes.Clone(msg)
	j := i + 4 + int(frac*float64(len(msg)-i-4))
	for out[j] == '\r' || out[j] == '\n' {
		j++
	}
	if out[j] == 'A' {
		out[j] = 'B'
	} else {
		out[j] = 'A'
	}
	return out
}

// fuzzSeed is one generated seed: its file is seed-<name>, and under the
// target's options it must have the outcome expect (an errorKind).
type fuzzSeed struct {
	name   string
	expect string
	build  func(g *seedGen) []byte
}

// verifySeeds seed FuzzVerify: one signed layer in both forms, RSA and
// ECDSA signers, with and without certificates, and each kind of failure.
var verifySeeds = []fuzzSeed{
	{"clear-rsa", "valid", func(g *seedGen) []byte { return g.alice(sign.Clear, g.msg("alice@example.com")) }},
	{"clear-rsa-chain", "valid", func(g *seedGen) []byte {
		return g.sign("alice-sign", sign.Clear, g.msg("alice@example.com"), withChain)
	}},
	{"opaque-rsa", "valid", func(g *seedGen) []byte { return g.alice(sign.Opaque, g.msg("alice@example.com")) }},
	{"clear-ecdsa", "valid", func(g *seedGen) []byte { return g.sign("carol", sign.Clear, g.msg("carol@example.com"), nil) }},
	{"opaque-ecdsa-skid-chain", "valid", func(g *seedGen) []byte {
		return g.sign("carol", sign.Opaque, g.msg("carol@example.com"), func(o *sign.Options) {
			o.Include, o.SubjectKeyID = sign.IncludeChain, true
		})
	}},
	{"clear-pss-sha384", "valid", func(g *seedGen) []byte {
		return g.sign("alice-sign", sign.Clear, g.msg("alice@example.com"), func(o *sign.Options) { o.PSS, o.Hash = true, crypto.SHA384 })
	}},
	{"clear-tampered", "signature", func(g *seedGen) []byte {
		return bytes.Replace(g.alice(sign.Clear, g.msg("alice@example.com")), []byte("this is signed"), []byte("this is signet"), 1)
	}},
	{"clear-expired-chain", "trust", func(g *seedGen) []byte {
		return g.sign("dave-expired", sign.Clear, g.msg("dave@example.com"), func(o *sign.Options) {
			o.Include, o.Force = sign.IncludeChain, true
		})
	}},
	{"opaque-untrusted", "trust", func(g *seedGen) []byte {
		s := selfSignedTB(g.tb)
		s.Mode = sign.Opaque
		var out bytes.Buffer
		if err := sign.Sign(context.Background(), &out, bytes.NewReader(g.msg("alice@example.com")), s); err != nil {
			g.tb.Fatal(err)
		}
		return out.Bytes()
	}},
	{"opaque-truncated", "malformed", func(g *seedGen) []byte {
		m := g.alice(sign.Opaque, g.msg("alice@example.com"))
		return m[:len(m)*2/3]
	}},
	{"not-signed", "not-signed", func(g *seedGen) []byte { return g.msg("alice@example.com") }},
	{"clear-protected", "valid", func(g *seedGen) []byte {
		return g.sign("alice-sign", sign.Clear, g.msg("alice@example.com"), protect)
	}},
	// Valid: FuzzVerify compares no sender (SenderOff), so the From is a warning.
	{"opaque-protected-from-rewritten", "valid", func(g *seedGen) []byte {
		m := g.sign("alice-sign", sign.Opaque, g.msg("alice@example.com"), protect)
		return bytes.Replace(m, []byte("From: alice@"), []byte("From: mallory@"), 1)
	}},
}

// protect adds RFC 9788 header protection.
func protect(o *sign.Options) { o.ProtectHeaders = true }

// openSeeds seed FuzzOpen, whose options decrypt as Bob and require a
// signature inside the encryption: enveloped (CBC, GCM) and triple-wrapped
// messages, nested ones up to and past MaxDepth, and broken ones.
var openSeeds = []fuzzSeed{
	{"enveloped-cbc", "valid", func(g *seedGen) []byte {
		return g.encrypt(g.alice(sign.Clear, g.msg("alice@example.com")), []string{"bob", "carol"}, nil)
	}},
	{"enveloped-gcm-opaque-inner", "valid", func(g *seedGen) []byte {
		return g.encrypt(g.alice(sign.Opaque, g.msg("alice@example.com")), []string{"bob"}, func(o *encrypt.Options) {
			gcm(o)
			o.OAEP, o.SubjectKeyID = true, true
		})
	}},
	{"triple-clear-inner-cbc-chain", "valid", func(g *seedGen) []byte {
		inner := g.sign("alice-sign", sign.Clear, g.msg("alice@example.com"), withChain)
		return g.sign("alice-sign", sign.Opaque, g.encrypt(inner, []string{"bob"}, nil), withChain)
	}},
	{"triple-opaque-inner-cbc", "valid", func(g *seedGen) []byte {
		return g.alice(sign.Opaque, g.encrypt(g.alice(sign.Opaque, g.msg("alice@example.com")), []string{"bob"}, nil))
	}},
	{"triple-clear-inner-gcm", "valid", func(g *seedGen) []byte {
		return g.alice(sign.Opaque, g.encrypt(g.alice(sign.Clear, g.msg("alice@example.com")), []string{"bob", "carol"}, gcm))
	}},
	{"triple-opaque-inner-gcm-clear-outer", "valid", func(g *seedGen) []byte {
		return g.alice(sign.Clear, g.encrypt(g.alice(sign.Opaque, g.msg("alice@example.com")), []string{"bob"}, gcm))
	}},
	{"triple-protected", "valid", func(g *seedGen) []byte {
		inner := g.sign("alice-sign", sign.Clear, g.msg("alice@example.com"), func(o *sign.Options) {
			o.ProtectHeaders, o.Confidential = true, true
		})
		return g.alice(sign.Opaque, g.encrypt(inner, []string{"bob"}, nil))
	}},
	{"triple-ecdsa", "valid", func(g *seedGen) []byte {
		inner := g.sign("carol", sign.Clear, g.msg("carol@example.com"), nil)
		return g.sign("carol", sign.Opaque, g.encrypt(inner, []string{"bob"}, nil), nil)
	}},
	{"nested-4", "valid", func(g *seedGen) []byte {
		return g.alice(sign.Clear, g.alice(sign.Opaque, g.encrypt(g.alice(sign.Clear, g.msg("alice@example.com")), []string{"bob"}, nil)))
	}},
	{"deep-max", "valid", func(g *seedGen) []byte { return deep(g, verify.MaxDepth) }},
	{"deep-past-max", "depth", func(g *seedGen) []byte { return deep(g, verify.MaxDepth+1) }},
	{"triple-tampered-inner", "signature", func(g *seedGen) []byte {
		inner := bytes.Replace(g.alice(sign.Clear, g.msg("alice@example.com")), []byte("this is signed"), []byte("this is signet"), 1)
		return g.alice(sign.Opaque, g.encrypt(inner, []string{"bob"}, nil))
	}},
	{"enveloped-gcm-flipped", "decrypt", func(g *seedGen) []byte {
		return flip(g.tb, g.encrypt(g.alice(sign.Clear, g.msg("alice@example.com")), []string{"bob"}, gcm), 0.7)
	}},
	{"enveloped-not-for-us", "not-for-us", func(g *seedGen) []byte {
		return g.encrypt(g.alice(sign.Clear, g.msg("alice@example.com")), []string{"carol"}, nil)
	}},
	{"signed-outside-only", "requirement", func(g *seedGen) []byte {
		return g.alice(sign.Opaque, g.encrypt(g.msg("alice@example.com"), []string{"bob"}, nil))
	}},
	{"triple-truncated", "malformed", func(g *seedGen) []byte {
		m := g.alice(sign.Opaque, g.encrypt(g.alice(sign.Clear, g.msg("alice@example.com")), []string{"bob"}, nil))
		return m[:len(m)/2]
	}},
}

// deep returns a message of n layers: clear-signed by Carol (ECDSA, no
// capabilities, so each layer is small) around a sign-then-encrypt core, so
// that it meets the signed-inner requirement.
func deep(g *seedGen, n int) []byte {
	small := func(o *sign.Options) { o.NoCapabilities = true }
	m := g.encrypt(g.sign("carol", sign.Clear, g.msg("carol@example.com"), small), []string{"bob"}, nil)
	for range n - 2 {
		m = g.sign("carol", sign.Clear, m, small)
	}
	return m
}

// fuzzTargets ties each target to its seeds and how a seed's outcome is
// found: the target's own call and options.
func fuzzTargets(fx *fuzzLab) []struct {
	name  string
	seeds []fuzzSeed
	run   func([]byte) error
} {
	return []struct {
		name  string
		seeds []fuzzSeed
		run   func([]byte) error
	}{
		{"FuzzVerify", verifySeeds, func(m []byte) error {
			var out bytes.Buffer
			_, err := verify.Verify(context.Background(), &out, bytes.NewReader(m), fx.verifyOptions())
			return err
		}},
		{"FuzzOpen", openSeeds, func(m []byte) error {
			var out bytes.Buffer
			_, err := verify.Open(context.Background(), &out, bytes.NewReader(m), fx.openOptions())
			return err
		}},
	}
}

// TestFuzzCorpus checks the committed seed corpora of FuzzVerify and
// FuzzOpen, or with -update-corpus regenerates them and testdata/fuzzlab.
func TestFuzzCorpus(t *testing.T) {
	if *updateCorpus {
		writeFuzzLab(t, labtest.Default(t))
	}
	fx := loadFuzzLab(t)
	for _, target := range fuzzTargets(fx) {
		t.Run(target.name, func(t *testing.T) {
			dir := filepath.Join("testdata", "fuzz", target.name)
			if *updateCorpus {
				g := &seedGen{tb: t, l: labtest.Default(t)}
				seeds := make([][]byte, len(target.seeds))
				for i, s := range target.seeds {
					seeds[i] = s.build(g)
					if got := errorKind(target.run(seeds[i])); got != s.expect {
						t.Fatalf("generated seed %s: got outcome %q, want %q", s.name, got, s.expect)
					}
				}
				writeSeeds(t, dir, target.seeds, seeds)
			}
			committed, _ := filepath.Glob(filepath.Join(dir, "seed-*"))
			if len(committed) == 0 {
				t.Fatalf("no seed corpus in %s: run go test ./pkg/verify -run TestFuzzCorpus -update-corpus", dir)
			}
			var want []string
			for _, s := range target.seeds {
				want = append(want, filepath.Join(dir, "seed-"+s.name))
			}
			for _, f := range want {
				if !slices.Contains(committed, f) {
					t.Errorf("%s is missing: run with -update-corpus", f)
				}
			}
			for _, f := range committed {
				if !slices.Contains(want, f) {
					t.Errorf("%s is stale (no such seed is generated): run with -update-corpus", f)
				}
			}
			if t.Failed() {
				return
			}
			for _, s := range target.seeds {
				m := readSeed(t, filepath.Join(dir, "seed-"+s.name))
				if got := errorKind(target.run(m)); got != s.expect {
					t.Errorf("seed-%s: got outcome %q, want %q; run with -update-corpus", s.name, got, s.expect)
				}
			}
		})
	}
}

// writeSeeds replaces the seed-* files of dir with seeds, leaving any other
// file (a crasher kept as a regression seed) alone.
func writeSeeds(t *testing.T, dir string, cases []fuzzSeed, seeds [][]byte) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(dir, "seed-*"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range cases {
		body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(seeds[i])) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, "seed-"+s.name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// readSeed reads a corpus file of one []byte value.
func readSeed(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := strings.CutPrefix(string(b), "go test fuzz v1\n[]byte(")
	if ok {
		s, ok = strings.CutSuffix(strings.TrimRight(s, "\n"), ")")
	}
	if !ok {
		t.Fatalf("%s: not a corpus file of one []byte", path)
	}
	v, err := strconv.Unquote(s)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return []byte(v)
}

// writeFuzzLab writes into testdata/fuzzlab the root certificate of l, the
// certificates the targets take as intermediates (the intermediate and the
// signers of the seeds) and Bob's certificate and key, with a README saying
// where they come from.
func writeFuzzLab(t *testing.T, l *lab.Lab) {
	if err := os.MkdirAll(fuzzLabDir, 0o755); err != nil {
		t.Fatal(err)
	}
	bob := l.User("bob")
	key, err := x509.MarshalPKCS8PrivateKey(bob.Key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := func(cs ...*x509.Certificate) []byte {
		var b []byte
		for _, c := range cs {
			b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
		}
		return b
	}
	files := map[string][]byte{
		"root.crt":  certPEM(l.Root.Cert),
		"certs.pem": certPEM(l.Intermediate.Cert, l.User("alice-sign").Cert, l.User("carol").Cert),
		"bob.crt":   certPEM(bob.Cert),
		"bob.key":   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}),
		"README": []byte(fmt.Sprintf("What FuzzVerify and FuzzOpen need at run time, from the test lab of seed %q\n"+
			"(internal/lab), so that fuzz workers read files instead of deriving RSA keys:\n"+
			"root.crt, the trusted root; certs.pem, their intermediates (the intermediate CA\n"+
			"and the signers of the seeds, which carry no certificates); bob.crt and bob.key,\n"+
			"the identity enveloped layers are decrypted with. The key is a public test key.\n\n"+
			"Generated, with the seed corpora in ../fuzz/FuzzVerify and ../fuzz/FuzzOpen, by\n\n"+
			"\tgo test ./pkg/verify -run TestFuzzCorpus -update-corpus\n", l.Options.Seed)),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(fuzzLabDir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
