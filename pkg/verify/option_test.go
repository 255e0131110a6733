package verify_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// flagLike is a command-line flag, which no text of the library names.
var flagLike = regexp.MustCompile(`--[a-z]`)

// texts is everything a result and an error say: the error, the warnings
// and every check's detail.
func texts(res *verify.Result, err error) string {
	var b strings.Builder
	if err != nil {
		b.WriteString(err.Error() + "\n")
	}
	if res != nil {
		b.WriteString(strings.Join(res.Warnings, "\n") + "\n")
		for _, s := range res.Signers {
			for _, c := range s.Checks {
				b.WriteString(c.Detail + "\n")
			}
		}
	}
	return b.String()
}

// TestOptionNames is issue #17 item 4: an error or a warning that says
// which option decides names it by its Go name ("Options.AllowMD5"), or in
// the caller's words when Options.OptionName gives them, never by a flag
// of smimectl; a *PolicyError says which option would accept it.
func TestOptionNames(t *testing.T) {
	l := labtest.Default(t)
	alice := l.User("alice-sign")
	msg := []byte(message("alice@example.com"))
	outer, entity := entityOf(t, signLab(t, l, sign.Clear, msg))
	footed := outer + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\n" +
		strings.TrimSuffix(entity, "\r\n") + "\r\n--m\r\nContent-Type: text/plain\r\n\r\na list footer\r\n--m--\r\n"
	noCerts := signWith(t, sign.Options{Key: alice.Key, Certificate: alice.Cert, Include: sign.IncludeNone}, msg)
	opaque := signLab(t, l, sign.Opaque, msg)
	content := []byte("a file\n")
	detached := signDetached(t, sign.Options{Key: alice.Key, Certificate: alice.Cert, Chain: l.Chain(),
		Now: func() time.Time { return at.Add(-time.Hour) }}, content, false)
	sha1Msg, sha1Opts := thunderbird(t)
	base := verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at }}
	flags := map[verify.Option]string{
		verify.OptionAllowUnsignedParts: "--allow-unsigned-parts", verify.OptionIntermediates: "--intermediates",
		verify.OptionMinDigest: "--min-digest", verify.OptionSigner: "--signer", verify.OptionContent: "--content",
	}
	verifyMsg := func(m []byte) func(verify.Options) (*verify.Result, error) {
		return func(opts verify.Options) (*verify.Result, error) {
			return verify.Verify(context.Background(), new(bytes.Buffer), bytes.NewReader(m), opts)
		}
	}
	verifyDetached := func(sig []byte) func(verify.Options) (*verify.Result, error) {
		return func(opts verify.Options) (*verify.Result, error) {
			return verify.VerifyDetached(context.Background(), bytes.NewReader(sig), bytes.NewReader(content), opts, verify.DetachedOptions{})
		}
	}
	for _, tc := range []struct {
		name   string
		opts   func(*verify.Options)
		run    func(verify.Options) (*verify.Result, error)
		option verify.Option
		want   string // "{}" is where the option is named
		policy bool   // the error is a *PolicyError naming option
		reason verify.Reason
	}{
		{"unsigned parts accepted", func(o *verify.Options) { o.AllowUnsignedParts = true },
			func(opts verify.Options) (*verify.Result, error) {
				return verify.Open(context.Background(), new(bytes.Buffer), strings.NewReader(footed), opts)
			}, verify.OptionAllowUnsignedParts, "(accepted: {})", false, ""},
		{"signer's certificate missing", nil, verifyMsg(noCerts), verify.OptionIntermediates,
			"the signer's certificate is not in the message nor given with {}", false, verify.ReasonMissingCertificate},
		{"SHA-1 refused", func(o *verify.Options) { *o = sha1Opts; o.MinDigest = crypto.SHA256 }, verifyMsg(sha1Msg),
			verify.OptionMinDigest, "signer 1 signs with SHA-1, which is refused ({} sha256)", true, verify.ReasonWeakAlgorithm},
		{"no sender to compare", nil, verifyDetached(detached), verify.OptionSigner, "; name the expected signer with {}", false, ""},
		{"not a detached signature", nil, verifyDetached(opaque), verify.OptionContent,
			"so it is not a detached signature: verify it without {}", false, verify.ReasonMalformed},
	} {
		for _, named := range []bool{false, true} {
			opts := base
			if tc.opts != nil {
				tc.opts(&opts)
			}
			name := tc.option.String()
			if named {
				opts.OptionName = func(o verify.Option) string { return flags[o] }
				name = flags[tc.option]
			}
			res, err := tc.run(opts)
			got := texts(res, err)
			if want := strings.ReplaceAll(tc.want, "{}", name); !strings.Contains(got, want) {
				t.Errorf("%s (OptionName %v): got\n%s\nwant it to say %q", tc.name, named, got, want)
			}
			if !named && flagLike.MatchString(got) {
				t.Errorf("%s: without OptionName the library names a flag:\n%s", tc.name, got)
			}
			if got := verify.ReasonCode(err); tc.reason != "" && got != tc.reason {
				t.Errorf("%s: reason %q, want %q", tc.name, got, tc.reason)
			}
			var pe *verify.PolicyError
			if tc.policy && (!errors.As(err, &pe) || pe.Option != tc.option) {
				t.Errorf("%s: error %#v, want a *PolicyError with Option %q", tc.name, err, tc.option)
			}
		}
	}

	// Inspect's note on a detached signature, and UnwrappedWarning.
	for _, named := range []bool{false, true} {
		var name func(verify.Option) string
		content, roots := "VerifyDetached", "Options.Roots"
		if named {
			name = func(o verify.Option) string {
				return map[verify.Option]string{verify.OptionContent: "verify --content FILE", verify.OptionRoots: "decrypt --trust"}[o]
			}
			content, roots = "verify --content FILE", "decrypt --trust"
		}
		ins, err := verify.Inspect(bytes.NewReader(detached), verify.InspectOptions{OptionName: name})
		if err != nil || len(ins.Layers) != 1 {
			t.Fatalf("Inspect: %v, %+v", err, ins)
		}
		if want := "(" + content + " checks it)"; !strings.HasSuffix(ins.Layers[0].Note, want) {
			t.Errorf("Inspect note %q, want it to end in %q", ins.Layers[0].Note, want)
		}
		w := verify.UnwrappedWarning([]*verify.Layer{{Depth: 1, MediaType: "multipart/signed"}}, name)
		if want := "nothing vouches for the sender (" + roots + " checks signatures)"; !strings.HasSuffix(w, want) {
			t.Errorf("UnwrappedWarning %q, want it to end in %q", w, want)
		}
	}
}
