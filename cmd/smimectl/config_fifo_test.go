//go:build unix

package main

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestConfigFIFO: a FIFO where the config file should be is refused at once
// as not a regular file; opening it for reading used to wait for a writer,
// stalling every command that reads the config.
func TestConfigFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo.toml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	done := make(chan struct{})
	var code int
	var stderr string
	go func() {
		defer close(done)
		e, _, errOut := testEnv("", nil)
		code = run(e, []string{"config", "show", "--config", fifo})
		stderr = errOut.String()
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("config show --config FIFO still waits after 10 s")
	}
	if code != exitUsage || !strings.Contains(stderr, "not a regular file") {
		t.Errorf("status %d, stderr %q; want %d and \"not a regular file\"", code, stderr, exitUsage)
	}
}
