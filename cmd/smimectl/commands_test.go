package main

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/smimectl/smimectl/pkg/certsel"
	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// execCmd runs cmd with argv through the root command's flag-error handling and
// returns the exit status.
func execCmd(t *testing.T, cmd *cobra.Command, argv []string) int {
	t.Helper()
	cmd.SetArgs(argv)
	cmd.SetOut(new(bytes.Buffer))
	cmd.SetErr(new(bytes.Buffer))
	cmd.SetFlagErrorFunc(flagError)
	return exitCode(cmd.Execute())
}

func TestNewSignCmd(t *testing.T) {
	defaults := signOptions{Mode: sign.Clear, Include: sign.IncludeChain, OutForm: "der"}
	tests := []struct {
		name string
		newF func(*env, func(*signOptions) error) *cobra.Command
		argv []string
		code int
		want signOptions
	}{
		{"sign defaults", newSignCmd, nil, exitOK, defaults},
		{"sign opaque with everything", newSignCmd,
			[]string{"--mode", "opaque", "--in", "m.eml", "--out", "s.eml", "--p12", "a.p12", "--pass-file", "p",
				"--intermediates", "i1.pem", "--intermediates", "i2.pem", "--digest", "sha512", "--pss",
				"--include", "chain+root", "--keyid", "--from", "a@example.com", "--force", "--no-capabilities", "--at", "2026-01-01", "--revocation-max-age", "48h"},
			exitOK, signOptions{
				ioFlags: ioFlags{In: "m.eml", Out: "s.eml"}, keyFlags: keyFlags{P12: "a.p12", PassFile: "p"},
				Mode: sign.Opaque, Intermediates: []string{"i1.pem", "i2.pem"}, Digest: "sha512", PSS: true,
				Include: sign.IncludeChainWithRoot, KeyID: true, From: "a@example.com", Force: true, NoCapabilities: true, At: "2026-01-01",
				MaxAge: 48 * time.Hour, OutForm: "der"}},
		// Issue #15 item 2: a detached signature over a file.
		{"sign detached pem", newSignCmd, []string{"--detached", "--outform", "pem", "--in", "data.bin"}, exitOK,
			signOptions{ioFlags: ioFlags{In: "data.bin"}, Mode: sign.Clear, Include: sign.IncludeChain, Detached: true, OutForm: "pem"}},
		{"bad outform", newSignCmd, []string{"--detached", "--outform", "base64"}, exitUsage, signOptions{}},
		{"clear-sign fixes the mode", newClearSignCmd, []string{"--key", "k", "--cert", "c"}, exitOK,
			signOptions{keyFlags: keyFlags{Key: "k", Cert: "c"}, Mode: sign.Clear, Include: sign.IncludeChain}},
		{"opaque-sign fixes the mode", newOpaqueSignCmd, nil, exitOK,
			signOptions{Mode: sign.Opaque, Include: sign.IncludeChain}},
		{"opaque-sign has no --mode", newOpaqueSignCmd, []string{"--mode", "clear"}, exitUsage, signOptions{}},
		{"bad mode", newSignCmd, []string{"--mode", "triple"}, exitUsage, signOptions{}},
		{"bad digest", newSignCmd, []string{"--digest", "sha1"}, exitUsage, signOptions{}},
		{"bad include", newSignCmd, []string{"--include", "root"}, exitUsage, signOptions{}},
		// issue #16 item 8: one FILE argument is --in; two, or one with --in, are usage errors.
		{"file argument", newSignCmd, []string{"msg.eml"}, exitOK, signOptions{Mode: sign.Clear, Include: sign.IncludeChain, OutForm: "der",
			ioFlags: ioFlags{In: "msg.eml"}}},
		{"two file arguments", newSignCmd, []string{"a.eml", "b.eml"}, exitUsage, signOptions{}},
		{"--in and a file argument", newSignCmd, []string{"--in", "a.eml", "b.eml"}, exitUsage, signOptions{}},
		{"sign from certificate sources", newSignCmd,
			[]string{"--from", "a@example.com", "--certs", "lab", "--certs", "ldap://h:389/dc=x", "--attr-order", "smime-first",
				"--lookup-timeout", "5s", "--no-proxies", "-v"},
			exitOK, signOptions{Mode: sign.Clear, Include: sign.IncludeChain, From: "a@example.com", Verbose: true, OutForm: "der",
				certSourceFlags: certSourceFlags{Certs: []string{"lab", "ldap://h:389/dc=x"}, NoProxies: true,
					AttrOrder: "smime-first", Timeout: 5 * time.Second}}},
		{"bad attribute order", newSignCmd, []string{"--attr-order", "ad"}, exitUsage, signOptions{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, _, _ := testEnv("", nil)
			var got *signOptions
			code := execCmd(t, tc.newF(e, func(o *signOptions) error { got = o; return nil }), tc.argv)
			if code != tc.code {
				t.Fatalf("status %d, want %d", code, tc.code)
			}
			if code != exitOK {
				return
			}
			if got.env != e {
				t.Errorf("options carry another env")
			}
			got.env = nil
			got.revocationFlags.fs = nil // which flags were given: TestFilterBudget
			if tc.want.certSourceFlags.AttrOrder == "" {
				tc.want.certSourceFlags = certSourceFlags{AttrOrder: "cert-first", Timeout: certsel.DefaultLookupTimeout}
			}
			// The revocation check of the signer's own certificate is off by default.
			if tc.want.Revocation == revocation.Soft { // the zero value: no case sets it
				tc.want.Revocation = revocation.Off
				tc.want.revocationFlags = revocationFlags{CRLTimeout: time.Minute, CRLTotalTimeout: time.Minute}
			}
			if tc.want.MaxAge == 0 {
				tc.want.MaxAge = revocation.DefaultMaxAge
			}
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("got %+v, want %+v", *got, tc.want)
			}
		})
	}
}

func TestNewVerifyCmd(t *testing.T) {
	tests := []struct {
		name string
		argv []string
		code int
		want verifyOptions
	}{
		{"defaults", nil, exitOK, verifyOptions{verifyFlags: verifyFlags{trustFlags: trustFlags{Revocation: "soft", MaxAge: revocation.DefaultMaxAge}, SenderCheck: verify.SenderStrict, MinDigest: "sha1", dateFlags: dateFlags{MaxClockSkew: time.Hour},
			revocationFlags: revocationFlags{CRLTimeout: time.Minute, CRLTotalTimeout: time.Minute}}, eolFlag: eolFlag{EOL: "input"}, batchFlags: batchFlags{Glob: "*.eml"}, Paths: []string{}}},
		{"everything", []string{"--in", "s.eml", "--out", "m.eml", "--trust", "r.crt", "--trust", "roots/",
			"--intermediates", "i.pem", "--crl", "a.crl", "--crl", "b.crl", "--revocation", "hard", "--at", "@0",
			"--sender-check", "warn", "--allow-md5", "--json", "-v", "--crl-cache", "cache", "--crl-timeout", "5s",
			"--crl-total-timeout", "0", "--ocsp", "--offline", "--fetch-intermediates", "--revocation-max-age", "36h"}, exitOK,
			verifyOptions{ioFlags: ioFlags{In: "s.eml", Out: "m.eml"}, verifyFlags: verifyFlags{trustFlags: trustFlags{
				Trust: []string{"r.crt", "roots/"}, Intermediates: []string{"i.pem"}, CRLs: []string{"a.crl", "b.crl"},
				Revocation: "hard", At: "@0", MaxAge: 36 * time.Hour}, SenderCheck: verify.SenderWarn, MinDigest: "sha1", dateFlags: dateFlags{MaxClockSkew: time.Hour},
				revocationFlags: revocationFlags{CRLCache: "cache", CRLTimeout: 5 * time.Second, OCSP: true, Offline: true, FetchIntermediates: true}},
				AllowMD5: true, eolFlag: eolFlag{EOL: "input"}, JSON: true, Verbose: true,
				batchFlags: batchFlags{Glob: "*.eml"}, Paths: []string{}}},
		{"annotate", []string{"--annotate", "--authserv-id", "mx.example.com"}, exitOK, verifyOptions{
			verifyFlags: verifyFlags{trustFlags: trustFlags{Revocation: "soft", MaxAge: revocation.DefaultMaxAge}, SenderCheck: verify.SenderStrict, MinDigest: "sha1", dateFlags: dateFlags{MaxClockSkew: time.Hour},
				revocationFlags: revocationFlags{CRLTimeout: time.Minute, CRLTotalTimeout: time.Minute}}, eolFlag: eolFlag{EOL: "input"},
			annotateFlags: annotateFlags{Annotate: true, AuthServID: "mx.example.com"}, batchFlags: batchFlags{Glob: "*.eml"}, Paths: []string{}}},
		{"bad timeout", []string{"--crl-timeout", "soon"}, exitUsage, verifyOptions{}},
		{"bad max age", []string{"--revocation-max-age", "a week"}, exitUsage, verifyOptions{}},
		// Issue #11 item 17: the maximum age of an answer without nextUpdate.
		{"max age zero", []string{"--revocation-max-age", "0s"}, exitUsage, verifyOptions{}},
		{"max age over a year", []string{"--revocation-max-age", "8785h"}, exitUsage, verifyOptions{}},
		{"bad revocation", []string{"--revocation", "maybe"}, exitUsage, verifyOptions{}},
		{"bad sender check", []string{"--sender-check", "loose"}, exitUsage, verifyOptions{}},
		// Issue #13 items 1-4: PATH arguments and the batch flags.
		{"batch", []string{"--jobs", "4", "--glob", "*.msg", "--junit", "r.xml", "--expect", "e.txt", "--skip-unsigned", "fx", "box.mbox"}, exitOK, verifyOptions{
			verifyFlags: verifyFlags{trustFlags: trustFlags{Revocation: "soft", MaxAge: revocation.DefaultMaxAge}, SenderCheck: verify.SenderStrict, MinDigest: "sha1", dateFlags: dateFlags{MaxClockSkew: time.Hour},
				revocationFlags: revocationFlags{CRLTimeout: time.Minute, CRLTotalTimeout: time.Minute}}, eolFlag: eolFlag{EOL: "input"},
			batchFlags: batchFlags{Jobs: 4, Glob: "*.msg", JUnit: "r.xml", Expect: "e.txt", SkipUnsigned: true, given: true}, Paths: []string{"fx", "box.mbox"}}},
		{"repeated --in", []string{"--in", "a.eml", "--in", "b.eml"}, exitUsage, verifyOptions{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, _, _ := testEnv("", nil)
			var got *verifyOptions
			code := execCmd(t, newVerifyCmd(e, func(o *verifyOptions) error { got = o; return nil }), tc.argv)
			if code != tc.code {
				t.Fatalf("status %d, want %d", code, tc.code)
			}
			if code != exitOK {
				return
			}
			got.env = nil
			got.revocationFlags.fs = nil   // which flags were given: TestFilterBudget
			got.annotateFlags.idFlag = nil // the flag itself, to tell argv from config
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("got %+v, want %+v", *got, tc.want)
			}
		})
	}
}

func TestNewLabInitCmd(t *testing.T) {
	e, _, _ := testEnv("", nil)
	var got *labInitOptions
	cmd := newLabInitCmd(e, func(o *labInitOptions) error { got = o; return nil })
	if code := execCmd(t, cmd, []string{"--seed", "7", "--domain", "example.org", "--crl-url", "http://crl.example.org/",
		"--ocsp-url", "http://ocsp.example.org/", "--ca-issuers-url", "http://ca.example.org/", "--p12-password-file", "pw", "dir"}); code != exitOK {
		t.Fatalf("status %d", code)
	}
	want := labInitOptions{Dir: "dir", Seed: "7", Domain: "example.org", CRLURL: "http://crl.example.org/",
		OCSPURL: "http://ocsp.example.org/", CAIssuersURL: "http://ca.example.org/", P12PasswordFile: "pw", Stderr: e.Stderr}
	if *got != want {
		t.Errorf("got %+v, want %+v", *got, want)
	}
}

func TestRevocationFlagsOptions(t *testing.T) {
	tests := []struct {
		name     string
		flags    revocationFlags
		vars     map[string]string
		wantErr  string
		cache    string
		total    time.Duration
		urlLimit time.Duration
	}{
		{"defaults", revocationFlags{CRLTimeout: time.Minute, CRLTotalTimeout: time.Minute}, map[string]string{"XDG_CACHE_HOME": "/c"}, "", "/c/smimectl/crl", time.Minute, time.Minute},
		{"home cache", revocationFlags{CRLTimeout: time.Minute, CRLTotalTimeout: time.Minute}, map[string]string{"HOME": "/h"}, "", "/h/.cache/smimectl/crl", time.Minute, time.Minute},
		{"no cache", revocationFlags{CRLCache: "none", CRLTimeout: time.Minute}, map[string]string{"HOME": "/h"}, "", "", -1, time.Minute},
		{"own cache", revocationFlags{CRLCache: "d", CRLTimeout: 5 * time.Second, CRLTotalTimeout: 10 * time.Minute}, nil, "", "d", 10 * time.Minute, 5 * time.Second},
		{"timeout too short", revocationFlags{CRLTimeout: 4 * time.Second}, nil, "--crl-timeout 4s is out of range", "", 0, 0},
		{"timeout too long", revocationFlags{CRLTimeout: 11 * time.Minute}, nil, "--crl-timeout 11m0s is out of range", "", 0, 0},
		{"total negative", revocationFlags{CRLTimeout: time.Minute, CRLTotalTimeout: -time.Second}, nil, "--crl-total-timeout -1s is out of range", "", 0, 0},
		{"total too long", revocationFlags{CRLTimeout: time.Minute, CRLTotalTimeout: time.Hour}, nil, "--crl-total-timeout 1h0m0s is out of range", "", 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, _, _ := testEnv("", tc.vars)
			o, err := tc.flags.options(e, 0, nil, 36*time.Hour)
			if tc.wantErr != "" {
				var ue *usageError
				if err == nil || err.Error() != tc.wantErr || !errors.As(err, &ue) {
					t.Errorf("error %v, want usage error %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.CacheDir != tc.cache || o.TotalTimeout != tc.total || o.URLTimeout != tc.urlLimit || o.HTTPClient == nil || o.MaxAge != 36*time.Hour {
				t.Errorf("got cache %q total %v url %v client %v max age %v; want %q %v %v, a client and %v",
					o.CacheDir, o.TotalTimeout, o.URLTimeout, o.HTTPClient, o.MaxAge, tc.cache, tc.total, tc.urlLimit, 36*time.Hour)
			}
		})
	}
}
