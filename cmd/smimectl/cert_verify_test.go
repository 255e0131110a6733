package main

import (
	"bytes"
	"encoding/pem"
	"os"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/verify"
)

// Script commands of the cert-verify scripts (issue #11 item 7).

// cmdConcat writes the concatenation of files: "concat fullchain.pem leaf.crt chain.pem".
func cmdConcat(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: concat <out> <in>...")
	}
	var all []byte
	for _, name := range args[1:] {
		data, err := os.ReadFile(ts.MkAbs(name))
		ts.Check(err)
		all = append(all, data...)
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), all, 0o644))
}

// cmdPEM2DER writes the DER of the first PEM block of a file: "pem2der a.crt a.der".
func cmdPEM2DER(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: pem2der <in> <out>")
	}
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	block, _ := pem.Decode(data)
	if block == nil {
		ts.Fatalf("pem2der: no PEM block in %s", args[0])
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), block.Bytes, 0o644))
}

// cmdBigfile writes a file of n bytes of PEM-looking text, as a hostile or mistaken
// input might be: "bigfile 5000000 huge.pem".
func cmdBigfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: bigfile <bytes> <file>")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 0 {
		ts.Fatalf("bigfile: bad size %q", args[0])
	}
	head := []byte("-----BEGIN CERTIFICATE-----\n")
	data := append(head, bytes.Repeat([]byte("A"), max(n-len(head), 0))...)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), data[:n], 0o644))
}

func TestNewCertVerifyCmd(t *testing.T) {
	defaults := revocationFlags{CRLTimeout: time.Minute, CRLTotalTimeout: time.Minute}
	tests := []struct {
		name string
		argv []string
		code int
		want certVerifyOptions
	}{
		{"defaults", []string{"a.crt"}, exitOK, certVerifyOptions{Cert: "a.crt", Purpose: verify.PurposeAny,
			trustFlags: trustFlags{Revocation: "soft", MaxAge: revocation.DefaultMaxAge}, revocationFlags: defaults}},
		{"standard input", []string{"-"}, exitOK, certVerifyOptions{Cert: "-", Purpose: verify.PurposeAny,
			trustFlags: trustFlags{Revocation: "soft", MaxAge: revocation.DefaultMaxAge}, revocationFlags: defaults}},
		{"everything", []string{"--trust", "r.crt", "--trust", "roots/", "--intermediates", "i.pem", "--crl", "a.crl",
			"--revocation", "hard", "--at", "@0", "--revocation-max-age", "36h", "--purpose", "encrypt", "--json", "-v", "--crl-cache", "cache",
			"--crl-timeout", "5s", "--crl-total-timeout", "0", "--ocsp", "--offline", "--fetch-intermediates", "c.pem"}, exitOK,
			certVerifyOptions{Cert: "c.pem", Purpose: verify.PurposeEncrypt, JSON: true, Verbose: true, trustFlags: trustFlags{
				Trust: []string{"r.crt", "roots/"}, Intermediates: []string{"i.pem"}, CRLs: []string{"a.crl"},
				Revocation: "hard", At: "@0", MaxAge: 36 * time.Hour},
				revocationFlags: revocationFlags{CRLCache: "cache", CRLTimeout: 5 * time.Second, OCSP: true, Offline: true, FetchIntermediates: true}}},
		{"no certificate", nil, exitUsage, certVerifyOptions{}},
		{"two certificates", []string{"a.crt", "b.crt"}, exitUsage, certVerifyOptions{}},
		{"bad purpose", []string{"--purpose", "signing", "a.crt"}, exitUsage, certVerifyOptions{}},
		{"bad revocation", []string{"--revocation", "maybe", "a.crt"}, exitUsage, certVerifyOptions{}},
		{"no sender check", []string{"--sender-check", "warn", "a.crt"}, exitUsage, certVerifyOptions{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, _, _ := testEnv("", nil)
			var got *certVerifyOptions
			code := execCmd(t, newCertVerifyCmd(e, func(o *certVerifyOptions) error { got = o; return nil }), tc.argv)
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
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("got %+v, want %+v", *got, tc.want)
			}
		})
	}
}
