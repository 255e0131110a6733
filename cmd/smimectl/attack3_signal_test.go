//go:build linux

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Red team (attack3), issue #11 items 14 and 16: a run of encrypt --bcc
// separate that is stopped after it has made --out-dir (by SIGTERM while
// encrypting, or here, deterministically, by a --json reader that has gone:
// the report is written after the files, before they are put in place)
// left the --out-dir it had created, empty. The files went; the directory
// stayed.
func TestStoppedBccRunLeavesNoOutDir(t *testing.T) {
	root := t.TempDir()
	labDir := bccLab(t, root)
	in := filepath.Join(root, "msg.eml")
	if err := os.WriteFile(in, []byte(bccMessage("carol@example.com")), 0o644); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close() // the reader of the report has gone
	cmd := exec.Command("smimectl", "encrypt", "--certs", labDir, "--bcc", "separate",
		"--out-dir", filepath.Join(work, "out", "new"), "--json", "--in", in)
	cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
	cmd.Stdout = w
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	w.Close()
	if got := exitStatus(t, err); got != 141 {
		t.Errorf("exit status %d, want 141 (stderr: %s)", got, stderr.String())
	}
	if got := tree(t, work); len(got) != 0 {
		t.Errorf("left behind: %q, want nothing (not even the --out-dir the run made)", got)
	}
}
