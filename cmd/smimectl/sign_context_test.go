package main

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"
)

// TestSignCommandContext (issue #17 item 6): sign hands its command's context
// to sign.Sign, so cancelling it (what Ctrl-C or a --timeout will do once the
// root runs with such a context) stops the revocation check of the signer's own
// certificate against a CRL server that never answers, with nothing written.
func TestSignCommandContext(t *testing.T) {
	lab := filepath.Join(t.TempDir(), "lab")
	mustRun(t, "lab", "init", "--crl-url", silentServer(t), lab)
	e, stdout, _ := testEnv("From: bob@example.com\r\nContent-Type: text/plain\r\n\r\nhi\r\n", nil)
	cmd := newSignCmd(e, nil)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SetArgs([]string{"--key", filepath.Join(lab, "bob.key"), "--cert", filepath.Join(lab, "bob.crt"),
		"--intermediates", filepath.Join(lab, "chain.pem"), "--revocation", "hard", "--crl-cache", "none",
		"--crl-timeout", "30s", "--crl-total-timeout", "30s", "--at", annotateAt})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(300*time.Millisecond, cancel) // by then the check waits for the server
	start := time.Now()
	err := cmd.ExecuteContext(ctx) // without the context: 30 s, then --crl-total-timeout's error
	if took := time.Since(start); !errors.Is(err, context.Canceled) || took > 10*time.Second {
		t.Errorf("got %v after %v, want context.Canceled soon after the cancel", err, took)
	}
	if stdout.Len() != 0 {
		t.Errorf("%d bytes written after the cancelled check", stdout.Len())
	}
}
