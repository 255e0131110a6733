package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"syscall"
	"testing"

	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/keys"
	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/pkg/certsel"
	"github.com/smimectl/smimectl/pkg/encrypt"
	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

func TestExitCode(t *testing.T) {
	pathErr := &fs.PathError{Op: "open", Path: "key.pem", Err: fs.ErrNotExist}
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, exitOK},
		{"plain error", errors.New("cms: malformed SignerInfo"), exitFailed},
		{"wrapped plain error", fmt.Errorf("verifying signer 1: %w", errors.New("bad")), exitFailed},
		{"usage error", &usageError{err: errors.New("unknown flag: --x")}, exitUsage},
		{"wrapped usage error", fmt.Errorf("parsing: %w", usagef(nil, "bad")), exitUsage},
		{"silent error", &silentError{code: exitFailed}, exitFailed},
		{"silent temp failure", fmt.Errorf("x: %w", &silentError{code: exitTempFail}), exitTempFail},
		{"no certificate", &noCertError{err: errors.New("no certificate for alice@example.com")}, exitNoCert},
		{"no certificate with hint", withHint(&noCertError{err: errors.New("none")}, "add one"), exitNoCert},
		{"missing local file", pathErr, exitUsage},
		{"wrapped missing local file", fmt.Errorf("loading key: %w", pathErr), exitUsage},
		{"rename failed", &os.LinkError{Op: "rename", Old: "a", New: "b", Err: fs.ErrPermission}, exitUsage},
		{"joined usage and failure", errors.Join(errors.New("bad"), usagef(nil, "x")), exitUsage},
		{"setup error", setupErrorf("can't read --trust %q: %w", "x.pem", errors.New("keys: no certificate found")), exitUsage},
		{"signer certificate refused", &sign.CertificateError{Address: "alice@example.com", Err: errors.New("expired")}, exitNoCert},
		{"malformed", &verify.MalformedError{Err: errors.New("no boundary")}, exitFailed},
		{"bad signature", fmt.Errorf("x: %w", &verify.SignatureError{Err: cms.ErrContentModified}), exitFailed},
		{"untrusted", &verify.TrustError{Reason: verify.Untrusted, Err: errors.New("no root")}, exitFailed},
		{"sender", &verify.SenderError{From: "a@example.com"}, exitFailed},
		{"protected from", &verify.HeaderError{Field: "From", Protected: "a@example.com", Outer: "m@example.com"}, exitFailed},
		{"policy", &verify.PolicyError{Err: errors.New("md5")}, exitFailed},
		{"not signed", fmt.Errorf("%w: its type is text/plain", verify.ErrNotSigned), exitFailed},
		{"revoked", &revocation.RevokedError{}, exitFailed},
		// cert-verify (issue #11 item 7): the verdict on a certificate file.
		{"certificate untrusted", &verify.CertificateError{Err: &verify.TrustError{Reason: verify.Untrusted, Err: errors.New("no root")}}, exitFailed},
		{"certificate revoked", &verify.CertificateError{Err: &revocation.RevokedError{}}, exitFailed},
		{"certificate revocation unavailable", &verify.CertificateError{Err: &revocation.UnavailableError{Err: errors.New("no CRL")}}, exitTempFail},
		{"not a certificate file", &verify.MalformedCertificateError{Err: errors.New("keys: no certificate found")}, exitFailed},
		{"ambiguous certificate file", &verify.AmbiguousCertificateError{Count: 2}, exitFailed},
		{"revocation unavailable", &revocation.UnavailableError{Err: errors.New("no CRL")}, exitTempFail},
		{"wrong passphrase", fmt.Errorf("reading key: %w", keys.ErrIncorrectPassphrase), exitUsage},
		{"passphrase required", keys.ErrPassphraseRequired, exitUsage},
		{"recipient without certificate", &certsel.MissingError{Missing: []*certsel.NoMatchError{{Address: "bob@example.com"}}}, exitNoCert},
		// issue #16 item 13: a source that fails for good is setup.
		{"source refused", &certsel.SourceError{Source: "ldap://h/dc=x", Err: errors.New("binding: Invalid Credentials")}, exitUsage},
		{"source timed out", &certsel.SourceError{Source: "ldap://h/dc=x", Err: context.DeadlineExceeded}, exitTempFail},
		{"recipient certificate refused", &encrypt.RecipientError{Err: errors.New("expired")}, exitNoCert},
		{"not for us", &encrypt.NotForUsError{}, exitFailed},
		{"does not decrypt", &encrypt.DecryptError{Err: cms.ErrDecrypt}, exitFailed},
		{"malformed encrypted", &encrypt.MalformedError{Err: errors.New("truncated")}, exitFailed},
		{"not encrypted", fmt.Errorf("%w: its type is text/plain", encrypt.ErrNotEncrypted), exitFailed},
		// Issue #11 item 15: a fault of this machine is never 1, whatever
		// the library wrapped it in; 75 where trying again can help.
		{"spool full inside malformed", &verify.MalformedError{Err: fmt.Errorf("mime: multipart/signed: first part: %w", spoolErr("write", syscall.ENOSPC))}, exitTempFail},
		{"spool quota", spoolErr("write", syscall.EDQUOT), exitTempFail},
		{"spool I/O error", fmt.Errorf("decrypt: %w", spoolErr("read", syscall.EIO)), exitTempFail},
		{"spool directory missing", &verify.MalformedError{Err: spoolErr("create", syscall.ENOENT)}, exitUsage},
		{"spool directory read-only", &encrypt.MalformedError{Err: spoolErr("create", syscall.EROFS)}, exitUsage},
		{"spool inside a layer", &verify.LayerError{Depth: 2, Err: &verify.MalformedError{Err: spoolErr("write", syscall.ENOSPC)}}, exitTempFail},
		{"input unreadable inside malformed", &verify.MalformedError{Err: &fs.PathError{Op: "read", Path: "/dev/stdin", Err: syscall.EIO}}, exitTempFail},
		{"stdout full", fmt.Errorf("writing the result: %w", &fs.PathError{Op: "write", Path: "/dev/stdout", Err: syscall.ENOSPC}), exitTempFail},
		{"out directory full", &os.LinkError{Op: "rename", Old: "a", New: "b", Err: syscall.ENOSPC}, exitTempFail},
		{"too many open files", &fs.PathError{Op: "open", Path: "x", Err: syscall.EMFILE}, exitTempFail},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := exitCode(tc.err); got != tc.want {
				t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

// TestExitCodesTopic checks that "smimectl help exit-codes" documents every status.
func TestExitCodesTopic(t *testing.T) {
	stdout, stderr, code := runArgs(t, "help", "exit-codes")
	if code != exitOK || stderr != "" {
		t.Fatalf("help exit-codes: status %d, stderr %q", code, stderr)
	}
	for _, c := range []int{exitOK, exitFailed, exitUsage, exitNoCert, exitTempFail} {
		re := regexp.MustCompile(`(?m)^\s+` + strconv.Itoa(c) + `\s+\S`)
		if !re.MatchString(stdout) {
			t.Errorf("help exit-codes does not document status %d:\n%s", c, stdout)
		}
	}
	if len(exitStatuses) != 5 {
		t.Errorf("exitStatuses has %d entries, want the 5 constants", len(exitStatuses))
	}
}

// spoolErr is a spool failure of the given operation and errno, as
// internal/mime reports it.
func spoolErr(op string, errno syscall.Errno) error {
	return &mime.SpoolError{Op: op, Dir: "/tmp", Err: &fs.PathError{Op: op, Path: "/tmp/#123", Err: errno}}
}
