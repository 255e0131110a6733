package verify_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"io"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/internal/mime/authrestest"
	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// wantRes is one expected resinfo: result, reason (exact, "" for none) and
// the properties that must be there ("" value: must be absent).
type wantRes struct {
	result, reason string
	props          map[string]string
}

func TestAuthenticationResults(t *testing.T) {
	l := labtest.Default(t)
	crls, err := revocation.ParseCRLs(l.Intermediate.CRL)
	if err != nil {
		t.Fatal(err)
	}
	alice := l.User("alice-sign").Cert
	aliceSerial := strings.ToUpper(alice.SerialNumber.Text(16))
	const labIssuer = "CN=smimectl lab intermediate CA,O=smimectl lab"
	base := verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at },
		Revocation: revocation.New(revocation.Options{CRLs: crls, Offline: true})}
	bob := &verify.Identity{Certificate: l.User("bob").Cert, Key: l.User("bob").Key}
	msg := []byte(message("alice@example.com"))
	aliceProps := map[string]string{"smime-identifier": "alice@example.com", "smime-serial": aliceSerial,
		"smime-issuer": labIssuer, "smime-part": "TEXT"}

	tests := []struct {
		name string
		msg  func() []byte
		opts func(*verify.Options)
		want []wantRes
	}{
		{name: "clear pass", msg: func() []byte { return signLab(t, l, sign.Clear, msg) },
			want: []wantRes{{"pass", "", aliceProps}}},
		{name: "opaque pass", msg: func() []byte { return signLab(t, l, sign.Opaque, msg) },
			want: []wantRes{{"pass", "", aliceProps}}},
		{name: "body changed", msg: func() []byte {
			return bytes.Replace(signLab(t, l, sign.Clear, msg), []byte("this is signed"), []byte("this is signet"), 1)
		}, want: []wantRes{{"fail", "the message was changed after it was signed", aliceProps}}},
		{name: "untrusted", msg: func() []byte { return signLab(t, l, sign.Clear, msg) },
			opts: func(o *verify.Options) { o.Roots = nil },
			want: []wantRes{{"fail", "untrusted issuer", aliceProps}}},
		{name: "expired", msg: func() []byte { return signAs(t, l, "dave-expired", sign.Clear, "dave@example.com", true) },
			want: []wantRes{{"fail", "certificate expired", map[string]string{"smime-identifier": "dave@example.com"}}}},
		{name: "revoked", msg: func() []byte { return signAs(t, l, "eve-revoked", sign.Clear, "eve@example.com", false) },
			want: []wantRes{{"fail", "certificate revoked", map[string]string{"smime-identifier": "eve@example.com"}}}},
		{name: "revocation unavailable in hard mode", msg: func() []byte { return signLab(t, l, sign.Clear, msg) },
			opts: func(o *verify.Options) {
				o.Revocation = revocation.New(revocation.Options{Offline: true, Mode: revocation.Hard})
			},
			want: []wantRes{{"temperror", "no revocation information", aliceProps}}},
		{name: "sender mismatch", msg: func() []byte { return signAs(t, l, "alice-sign", sign.Clear, "mallory@example.com", true) },
			want: []wantRes{{"fail", "the sender is not in the signer's certificate",
				map[string]string{"smime-identifier": "alice@example.com"}}}},
		{name: "not signed", msg: func() []byte { return msg },
			want: []wantRes{{"none", "", map[string]string{"smime-part": ""}}}},
		{name: "malformed", msg: func() []byte {
			return []byte("Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n")
		}, want: []wantRes{{"permerror", "malformed signature", map[string]string{"smime-identifier": ""}}}},
		{name: "triple wrap", msg: func() []byte {
			return signLab(t, l, sign.Opaque, encryptTo(t, l, false, signLab(t, l, sign.Clear, msg)))
		}, opts: func(o *verify.Options) { o.Decrypt = bob },
			want: []wantRes{
				{"pass", "layer 1", aliceProps},
				{"pass", "layer 3", map[string]string{"smime-identifier": "alice@example.com", "smime-part": ""}},
			}},
		{name: "triple wrap, clear outside", msg: func() []byte {
			return signLab(t, l, sign.Clear, encryptTo(t, l, false, signLab(t, l, sign.Clear, msg)))
		}, opts: func(o *verify.Options) { o.Decrypt = bob },
			want: []wantRes{{"pass", "layer 1", aliceProps}, {"pass", "layer 3", map[string]string{"smime-part": ""}}}},
		{name: "sign and sign again, clear", msg: func() []byte { return signLab(t, l, sign.Clear, signLab(t, l, sign.Clear, msg)) },
			want: []wantRes{{"pass", "layer 1", aliceProps}, {"pass", "layer 2", map[string]string{"smime-part": "1"}}}},
		{name: "triple wrap without the key", msg: func() []byte {
			return signLab(t, l, sign.Opaque, encryptTo(t, l, false, signLab(t, l, sign.Clear, msg)))
		}, want: []wantRes{{"pass", "layer 1", aliceProps}, {"neutral", "layer 2: the encrypted content was not opened", nil}}},
		// Issue #11 item 1: opened, but not signed: none, never pass.
		{name: "encrypted only, opened", msg: func() []byte { return encryptTo(t, l, false, msg) },
			opts: func(o *verify.Options) { o.Decrypt = bob },
			want: []wantRes{{"none", "not signed", nil}}},
		{name: "encrypted only, opened, unsigned allowed", msg: func() []byte { return encryptTo(t, l, false, msg) },
			opts: func(o *verify.Options) { o.Decrypt = bob; o.AllowUnsigned = true },
			want: []wantRes{{"none", "", nil}}},
		{name: "protected From rewritten", msg: func() []byte {
			u := l.User("alice-sign")
			m := signWith(t, sign.Options{Key: u.Key, Certificate: u.Cert, Chain: l.Chain(), ProtectHeaders: true}, msg)
			return bytes.Replace(m, []byte("From: alice@"), []byte("From: mallory@"), 1)
		}, want: []wantRes{{"fail", "the From field was changed after signing", map[string]string{"smime-identifier": "alice@example.com"}}}},
		{name: "required layer missing", msg: func() []byte { return signLab(t, l, sign.Clear, msg) },
			opts: func(o *verify.Options) { o.Require = verify.RequireEncrypted },
			want: []wantRes{{"pass", "", aliceProps}, {"policy", "the message is not encrypted", nil}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := base
			if tc.opts != nil {
				tc.opts(&opts)
			}
			res, verr := verify.Open(context.Background(), io.Discard, bytes.NewReader(tc.msg()), opts)
			field := verify.AuthenticationResults("mx.example.com", res, verr)
			f, err := authrestest.Parse(field)
			if err != nil {
				t.Fatalf("%v\n%s", err, field)
			}
			if f.AuthServID != "mx.example.com" || len(f.Results) != len(tc.want) {
				t.Fatalf("got %d results from %q, want %d:\n%s", len(f.Results), f.AuthServID, len(tc.want), field)
			}
			for i, w := range tc.want {
				r := f.Results[i]
				if r.Method != "smime" || r.Result != w.result || r.Reason != w.reason {
					t.Errorf("result %d: %s=%s reason %q, want smime=%s reason %q\n%s", i+1, r.Method, r.Result, r.Reason, w.result, w.reason, field)
				}
				for name, want := range w.props {
					got, ok := r.Get("body", name)
					if want == "" && ok || want != "" && got != want {
						t.Errorf("result %d: body.%s=%q (present %v), want %q\n%s", i+1, name, got, ok, want, field)
					}
				}
				// RFC 7281 section 3.2.3: serial and issuer come together.
				_, serial := r.Get("body", "smime-serial")
				_, issuer := r.Get("body", "smime-issuer")
				if serial != issuer {
					t.Errorf("result %d: smime-serial present %v, smime-issuer present %v", i+1, serial, issuer)
				}
			}
		})
	}
}

// TestAuthenticationResultsHostileIssuer signs with certificates whose issuer
// names hold quotes, semicolons, line ends, escapes and non-ASCII text: the
// field must stay one 7-bit field that parses, with the issuer as an
// RFC 4514 string with those bytes escaped.
func TestAuthenticationResultsHostileIssuer(t *testing.T) {
	for _, cn := range []string{
		`Evil"; smime=pass body.smime-identifier=ceo@example.com`,
		"Evil\r\nAuthentication-Results: mx.example.com; smime=pass",
		"Evil\n\nbody",
		`back\slash, plus+ <angle> #hash`,
		"Évil Ωmega 証明書",
		"nul\x00esc\x1bdel\x7f",
	} {
		t.Run(cn, func(t *testing.T) {
			opts := hostileSigner(t, cn)
			signed := signWith(t, opts, []byte(message("alice@example.com")))
			res, verr := verify.Open(context.Background(), io.Discard, bytes.NewReader(signed),
				verify.Options{Now: func() time.Time { return at }})
			if verr == nil {
				t.Fatal("a self-signed signer verified without roots")
			}
			field := verify.AuthenticationResults("mx.example.com", res, verr)
			for i := 0; i < len(field); i++ {
				if field[i] >= 0x80 {
					t.Fatalf("8-bit byte in the field: %q", field)
				}
			}
			if strings.Count(field, "\r\n") != strings.Count(field, "\r\n\t")+1 || strings.Count(field, "\n") != strings.Count(field, "\r\n") {
				t.Fatalf("a line end that is not folding: %q", field)
			}
			f, err := authrestest.Parse(field)
			if err != nil {
				t.Fatalf("%v\n%s", err, field)
			}
			if len(f.Results) != 1 || f.Results[0].Result != "fail" {
				t.Fatalf("results %+v, want one fail", f.Results)
			}
			issuer, ok := f.Results[0].Get("body", "smime-issuer")
			if !ok {
				t.Fatalf("no smime-issuer in %s", field)
			}
			if want := rfc4514Unescape(t, issuer); want != "CN="+cn {
				t.Errorf("smime-issuer %q unescapes to %q, want %q", issuer, want, "CN="+cn)
			}
		})
	}
}

// rfc4514Unescape undoes the escapes of a one-attribute RFC 4514 string:
// \XX hex pairs and \ before a special character.
func rfc4514Unescape(t *testing.T, s string) string {
	t.Helper()
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b = append(b, s[i])
			continue
		}
		i++
		if i+1 < len(s) && isHex(s[i]) && isHex(s[i+1]) {
			v, err := hexByte(s[i : i+2])
			if err != nil {
				t.Fatal(err)
			}
			b = append(b, v)
			i++
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f' }

func hexByte(s string) (byte, error) {
	n, ok := new(big.Int).SetString(s, 16)
	if !ok {
		return 0, asn1.SyntaxError{Msg: "bad hex " + s}
	}
	return byte(n.Int64()), nil
}

// hostileSigner returns a self-signed signer whose subject and issuer are
// CN=cn, written as a UTF8String whatever bytes it holds.
func hostileSigner(t *testing.T, cn string) sign.Options {
	key, cert := labtest.SelfSigned(t, cn, 42, at)
	return sign.Options{Key: key, Certificate: cert}
}
