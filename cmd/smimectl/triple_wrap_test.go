package main

import (
	"testing"

	"github.com/smimectl/smimectl/pkg/sign"
)

func TestNewTripleWrapCmd(t *testing.T) {
	tests := []struct {
		name string
		argv []string
		code int
		want func(*tripleWrapOptions) bool
	}{
		{"defaults", []string{"--p12", "a.p12", "--recipient-cert", "b.crt"}, exitOK, func(o *tripleWrapOptions) bool {
			return o.Inner == sign.Clear && o.P12 == "a.p12" && len(o.RecipientCerts) == 1 && o.Cipher.String() == "aes-256-gcm,aes-256-cbc" &&
				o.sign.Digest == "" && o.sign.Include == sign.IncludeChain && o.Outer == (keyFlags{})
		}},
		{"everything", []string{"--key", "a.key", "--cert", "a.crt", "--inner", "opaque", "--to", "bob@example.com",
			"--certs", "dir", "--from", "alice@example.com", "--cipher", "aes-256-gcm", "--oaep", "--keyid", "--no-self",
			"--allow-missing", "--digest", "sha384", "--pss", "--include", "signer", "--signer-keyid", "--force",
			"--no-capabilities", "--at", "@0", "--outer-key", "m.key", "--outer-cert", "m.crt", "--intermediates", "i.pem"}, exitOK,
			func(o *tripleWrapOptions) bool {
				return o.Inner == sign.Opaque && o.Key == "a.key" && o.Cert == "a.crt" && o.To[0] == "bob@example.com" &&
					o.Certs[0] == "dir" && o.From == "alice@example.com" && o.Cipher.String() == "aes-256-gcm" && o.OAEP &&
					o.KeyID && o.NoSelf && o.AllowMissing && o.sign.Digest == "sha384" && o.sign.PSS &&
					o.sign.Include == sign.IncludeSigner && o.sign.KeyID && o.sign.Force && o.sign.NoCapabilities &&
					o.sign.At == "@0" && o.Outer.Key == "m.key" && o.Outer.Cert == "m.crt" && o.sign.Intermediates[0] == "i.pem"
			}},
		{"bad inner", []string{"--inner", "sideways"}, exitUsage, nil},
		{"bad digest", []string{"--digest", "md5"}, exitUsage, nil},
		// issue #17 item 4: --cipher is read by encrypt.Cipher.UnmarshalText
		// when the flags are parsed, not later by the command.
		{"bad cipher", []string{"--cipher", "aes-256-gcm,aes-512-cbc"}, exitUsage, nil},
		{"cipher list", []string{"--cipher", " AES-128-GCM , aes-128-cbc"}, exitOK, func(o *tripleWrapOptions) bool {
			return o.Cipher.String() == "aes-128-gcm,aes-128-cbc"
		}},
		{"no bcc", []string{"--bcc", "separate"}, exitUsage, nil},
		// issue #16 item 8: one FILE argument is --in; two are a usage error.
		{"file argument", []string{"msg.eml"}, exitOK, func(o *tripleWrapOptions) bool { return o.In == "msg.eml" }},
		{"two file arguments", []string{"a.eml", "b.eml"}, exitUsage, nil},
		{"verbose", []string{"-v"}, exitOK, func(o *tripleWrapOptions) bool { return o.Verbose }}, // item 7
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, _, _ := testEnv("", nil)
			var got *tripleWrapOptions
			code := execCmd(t, newTripleWrapCmd(e, func(o *tripleWrapOptions) error { got = o; return nil }), tc.argv)
			if code != tc.code {
				t.Fatalf("status %d, want %d", code, tc.code)
			}
			if code == exitOK && !tc.want(got) {
				t.Errorf("got %+v", *got)
			}
		})
	}
}

func TestParseRequire(t *testing.T) {
	tests := []struct {
		in   []string
		want string
		code int
	}{
		{nil, "", exitOK},
		{[]string{"signed"}, "signed", exitOK},
		{[]string{"signed-inner", "encrypted"}, "encrypted,signed-inner", exitOK},
		{[]string{"sealed"}, "", exitUsage},
	}
	for _, tc := range tests {
		q, err := parseRequire(tc.in)
		if code := exitCode(err); code != tc.code || q.String() != tc.want {
			t.Errorf("parseRequire(%q) = %q, status %d; want %q, status %d", tc.in, q, code, tc.want, tc.code)
		}
	}
}
