package main

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/chain"
	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

func TestReportError(t *testing.T) {
	policyLeaf := &x509.Certificate{Subject: pkix.Name{CommonName: "Alice"}}
	pathErr := &fs.PathError{Op: "open", Path: "msg.eml", Err: fs.ErrNotExist}
	tests := []struct {
		name  string
		err   error
		debug bool
		want  string
	}{
		{
			name: "plain",
			err:  errors.New("cms: malformed SignerInfo"),
			want: "smimectl: error: malformed SignerInfo\n", // issue #16 item 10: no package prefix
		},
		{
			name: "hints",
			err:  withHint(errors.New("no certificate"), "pass it with --cert", "or look at smimectl inspect"),
			want: "smimectl: error: no certificate\n" +
				"smimectl: hint: pass it with --cert\n" +
				"smimectl: hint: or look at smimectl inspect\n",
		},
		{
			name: "usage line after hints",
			err:  &usageError{err: errors.New("unknown flag: --bogus"), usage: "smimectl version", hints: []string{"drop it"}},
			want: "smimectl: error: unknown flag: --bogus\n" +
				"smimectl: hint: drop it\n" +
				"smimectl: hint: usage: smimectl version\n",
		},
		{
			name: "hints found deep in the chain",
			err:  fmt.Errorf("signing: %w", withHint(errors.New("key is locked"), "give --pass-file")),
			want: "smimectl: error: signing: key is locked\n" +
				"smimectl: hint: give --pass-file\n",
		},
		{
			name: "final period and blank lines dropped",
			err:  errors.New("first line.\n\nsecond line."),
			want: "smimectl: error: first line\nsmimectl: error: second line\n",
		},
		{
			// Issue #11 item 15: not "the message is not well-formed".
			name: "spool full inside a malformed message",
			err:  &verify.MalformedError{Err: fmt.Errorf("mime: multipart/signed: first part: %w", spoolErr("write", syscall.ENOSPC))},
			want: "smimectl: error: can't write a temporary file in \"/tmp\": no space left on device\n" +
				"smimectl: hint: this is a fault of this machine, not of the message, which was not judged\n" +
				"smimectl: hint: make room in \"/tmp\", or set TMPDIR to a directory with more space, then try again\n",
		},
		{
			name: "spool directory missing",
			err:  fmt.Errorf("decrypt: %w", spoolErr("create", syscall.ENOENT)),
			want: "smimectl: error: can't create a temporary file in \"/tmp\": no such file or directory\n" +
				"smimectl: hint: this is a fault of this machine, not of the message, which was not judged\n" +
				"smimectl: hint: set TMPDIR to an existing directory that smimectl can write to\n",
		},
		{
			name: "input unreadable inside a malformed message",
			err:  &verify.MalformedError{Err: fmt.Errorf("reading: %w", &fs.PathError{Op: "read", Path: "/dev/stdin", Err: syscall.EIO})},
			want: "smimectl: error: can't read \"/dev/stdin\": input/output error\n" +
				"smimectl: hint: a fault of this machine, not of the message: try again later\n",
		},
		{
			name: "stdout full",
			err:  fmt.Errorf("writing the result: %w", &fs.PathError{Op: "write", Path: "/dev/stdout", Err: syscall.ENOSPC}),
			want: "smimectl: error: can't write to standard output: no space left on device\n" +
				"smimectl: hint: the disk or quota is full: make room, then try again\n",
		},
		{
			name: "content modified, with the library's wrapping",
			err:  fmt.Errorf("x: %w", &verify.SignatureError{Err: fmt.Errorf("y: %w", cms.ErrContentModified)}),
			want: "smimectl: error: the message was changed after it was signed\n" +
				"smimectl: hint: a mail system that re-wraps lines, changes the transfer encoding or adds a footer breaks clear signatures; opaque-sign mail that passes through one\n",
		},
		{
			name: "sender mismatch",
			err:  &verify.SenderError{From: "mallory@example.com", Addresses: []string{"alice@example.com"}},
			want: "smimectl: error: the sender mallory@example.com is not in the signer's certificate (it is for alice@example.com)\n" +
				"smimectl: hint: --sender-check warn accepts the message with a warning, for lists and gateways that rewrite From\n",
		},
		{
			name: "signer certificate without address",
			err:  &sign.CertificateError{Err: errors.New("the certificate expired on 2025-06-30T00:00:00Z")},
			want: "smimectl: error: no certificate with a private key can sign for this message: the certificate expired on 2025-06-30T00:00:00Z\n" +
				"smimectl: hint: give a signing certificate for the sender with --key and --cert, or --p12; --force signs anyway\n",
		},
		{
			// issue #11 item 5
			name: "certificate policy",
			err: &verify.TrustError{Cert: policyLeaf, Reason: verify.PolicyViolation, Err: &chain.Error{Reason: chain.Policy, Cert: policyLeaf,
				Detail: `has no certificate policies, but "Policy CA" requires an explicit certificate policy (requireExplicitPolicy)`}},
			want: "smimectl: error: the signer's certificate chain breaks the certificate policies its authorities set: \"Alice\" has no certificate policies, but \"Policy CA\" requires an explicit certificate policy (requireExplicitPolicy)\n" +
				"smimectl: hint: the issuing authorities set these rules (RFC 5280 certificate policies and policy constraints); only the issuing authority can issue a certificate that meets them\n" +
				"smimectl: hint: cert-verify -v prints the chain that was tried\n",
		},
		{
			name: "revoked",
			err:  &revocation.RevokedError{Cert: &x509.Certificate{}, At: time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC), Reason: 1},
			want: "smimectl: error: the signer's certificate was revoked on 2025-04-01T00:00:00Z (keyCompromise)\n",
		},
		{
			name: "bare path error",
			err:  pathErr,
			want: "smimectl: error: can't open \"msg.eml\": file does not exist\n",
		},
		{
			name: "path error with context prints as is",
			err:  fmt.Errorf("loading key: %w", pathErr),
			want: "smimectl: error: loading key: open msg.eml: file does not exist\n",
		},
		{
			name: "silent",
			err:  &silentError{code: exitFailed},
			want: "",
		},
		{
			name:  "debug shows the chain",
			err:   fmt.Errorf("verifying: %w", withHint(errors.New("bad"), "look")),
			debug: true,
			want: "smimectl: error: verifying: bad\n" +
				"smimectl: hint: look\n" +
				"smimectl: debug: *fmt.wrapError: verifying: bad\n" +
				"smimectl: debug: *main.errorWithHint: bad\n" +
				"smimectl: debug: *errors.errorString: bad\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			reportError(&buf, tc.err, tc.debug)
			if got := buf.String(); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestDebugFromEnvironment(t *testing.T) {
	for _, debug := range []string{"", "1"} {
		e, _, stderr := testEnv("", map[string]string{"SMIMECTL_DEBUG": debug})
		if code := run(e, []string{"--bogus"}); code != exitUsage {
			t.Errorf("SMIMECTL_DEBUG=%q: status %d, want %d", debug, code, exitUsage)
		}
		got := strings.Contains(stderr.String(), "smimectl: debug: ")
		if got != (debug == "1") {
			t.Errorf("SMIMECTL_DEBUG=%q: debug lines %v, stderr:\n%s", debug, got, stderr)
		}
	}
}

func TestWarn(t *testing.T) {
	var buf bytes.Buffer
	warn(&buf, "CRL for %q unreachable; passing in soft mode.", "ca.example")
	want := "smimectl: warning: CRL for \"ca.example\" unreachable; passing in soft mode\n"
	if buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

// TestStderrGrammar runs failing command lines and checks every stderr line against
// the grammar: a known prefix, and no final period.
func TestStderrGrammar(t *testing.T) {
	for _, args := range [][]string{
		{"--bogus"},
		{"nope"},
		{"version", "extra"},
		{"help", "nope"},
		{"completion"},
		{"completion", "ksh"},
	} {
		_, stderr, code := runArgs(t, args...)
		if code != exitUsage {
			t.Errorf("%q: status %d, want %d", args, code, exitUsage)
		}
		if !strings.HasPrefix(stderr, errorPrefix) {
			t.Errorf("%q: stderr does not start with %q:\n%s", args, errorPrefix, stderr)
		}
		for line := range strings.Lines(stderr) {
			line = strings.TrimSuffix(line, "\n")
			if !strings.HasPrefix(line, errorPrefix) && !strings.HasPrefix(line, hintPrefix) {
				t.Errorf("%q: stray stderr line %q", args, line)
			}
			if strings.HasSuffix(line, ".") {
				t.Errorf("%q: stderr line ends with a period: %q", args, line)
			}
		}
	}
}

// TestDropPackagePrefixes (issue #16 item 10): errors lose the package names of
// the libraries and a second naming of a path, and keep everything else.
func TestDropPackagePrefixes(t *testing.T) {
	tests := []struct{ in, want string }{
		{"cms: malformed SignerInfo", "malformed SignerInfo"},
		{`--pkcs11: keys: bad pkcs11: URI "pkcs11:x": pin-value is not accepted`, `--pkcs11: bad pkcs11: URI "pkcs11:x": pin-value is not accepted`},
		{`can't read --p12 file "a.p12": keys: incorrect passphrase`, `can't read --p12 file "a.p12": incorrect passphrase`},
		{`directory: invalid URL "http://x"`, `invalid URL "http://x"`},
		{`can't use --key "a.key" with --cert "a.crt": reading "a.crt": the certificate does not belong to the private key`,
			`can't use --key "a.key" with --cert "a.crt": the certificate does not belong to the private key`},
		{"no CRL of X from http://h/a.crl: fetching http://h/a.crl: HTTP status 404", "no CRL of X from http://h/a.crl: HTTP status 404"},
		// A path named for the first time stays.
		{`reading "b.crt": no certificate`, `reading "b.crt": no certificate`},
		{"no revocation information for \"Alice\": fetching http://h/i.crl: timeout", "no revocation information for \"Alice\": fetching http://h/i.crl: timeout"},
		// A verb ending a phrase, a package name as the whole message, and
		// "revocation" as a config key after the file stay.
		{"the key can't sign: it is an ML-KEM key", "the key can't sign: it is an ML-KEM key"},
		{"sign", "sign"},
		{`config file "c.toml": revocation: want one of soft, hard, off`, `config file "c.toml": revocation: want one of soft, hard, off`},
		{"revocation: no answer", "no answer"},
	}
	for _, tt := range tests {
		if got := dropPackagePrefixes(tt.in); got != tt.want {
			t.Errorf("dropPackagePrefixes(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}
