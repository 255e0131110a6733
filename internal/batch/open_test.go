//go:build unix

package batch

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Red team (session 21): Open never waits on a FIFO (what a local user can
// put where Walk saw a regular file) and refuses what is no regular file.
func TestOpenRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "a.eml")
	write(t, reg, "x")
	fifo := filepath.Join(dir, "fifo.eml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mkfifo: %v (CI=true forbids skipping)", err)
		}
		t.Skipf("no FIFOs here: %v", err)
	}
	for _, tc := range []struct {
		path    string
		wantErr error
	}{
		{reg, nil},
		{fifo, ErrNotRegular},
		{dir, ErrNotRegular},
		{"/dev/null", ErrNotRegular},
		{filepath.Join(dir, "missing.eml"), os.ErrNotExist},
	} {
		done := make(chan error, 1)
		go func() {
			f, err := Open(tc.path)
			if err == nil {
				f.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("Open(%q) = %v, want %v", tc.path, err, tc.wantErr)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Open(%q) blocked", tc.path)
		}
	}
}
