//go:build linux

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Red team (attack3): --out naming a descriptor of the process. With
// standard output redirected to a file (smimectl ... --out /dev/stdout >
// out.eml), /dev/stdout is a link to /proc/self/fd/1 and that to a regular
// file, so the output was treated as a file name: a temporary file was
// renamed over the link itself — as root, over the system's /dev/stdout —
// and out.eml stayed empty. A link to such a name did the same to the link,
// and /dev/fd/1 failed to create a temporary file in /proc. Now the
// descriptor is written.
func TestOutNamesADescriptor(t *testing.T) {
	root := t.TempDir()
	labDir := bccLab(t, root)
	in := filepath.Join(root, "msg.eml")
	if err := os.WriteFile(in, []byte("From: bob@example.com\r\nSubject: hi\r\n\r\nhello\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, "stdout-link")
	if err := os.Symlink("/proc/self/fd/1", link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, out string
		fd3       bool // the output goes to descriptor 3, not standard output
	}{
		{"link to /proc/self/fd/1", link, false},
		{"/dev/fd/1", "/dev/fd/1", false},
		{"/proc/self/fd/1", "/proc/self/fd/1", false},
		{"/dev/fd/3", "/dev/fd/3", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			captured := filepath.Join(t.TempDir(), "out.eml")
			f, err := os.Create(captured)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			cmd := exec.Command("smimectl", "clear-sign", "--key", labDir+"/bob.key", "--cert", labDir+"/bob.crt",
				"--in", in, "--out", tc.out)
			cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if tc.fd3 {
				cmd.ExtraFiles = []*os.File{f}
			} else {
				cmd.Stdout = f
			}
			if err := cmd.Run(); err != nil {
				t.Fatalf("%v: %s", err, stderr.String())
			}
			got, err := os.ReadFile(captured)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(got), "application/pkcs7-signature") {
				t.Errorf("the redirected file holds %d bytes, want the signed message", len(got))
			}
			if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Errorf("the link was replaced: %v %v", fi.Mode(), err)
			}
		})
	}
}

// Red team (attack3): the output's mode honours the umask. The file is made
// 0600 and given its mode by chmod at commit, which the umask does not
// limit, so under umask 077 a clear-signed message (its text readable) and
// every --bcc separate file came out 0644, readable by all.
func TestOutputModeHonoursUmask(t *testing.T) {
	root := t.TempDir()
	labDir := bccLab(t, root)
	in := filepath.Join(root, "msg.eml")
	if err := os.WriteFile(in, []byte(bccMessage("carol@example.com")), 0o644); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	for _, args := range [][]string{
		{"clear-sign", "--key", labDir + "/alice-sign.key", "--cert", labDir + "/alice-sign.crt", "--out", "signed.eml"},
		{"encrypt", "--certs", labDir, "--bcc", "separate", "--out-dir", "out"},
	} {
		cmd := exec.Command("sh", "-c", `umask 077 && exec smimectl "$@"`, "sh")
		cmd.Args = append(cmd.Args, append(args, "--in", in)...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", args[0], err, out)
		}
	}
	for _, f := range []string{"signed.eml", "out/message.eml", "out/bcc-carol@example.com.eml"} {
		fi, err := os.Stat(filepath.Join(work, f))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s: mode %v under umask 077, want -rw-------", f, fi.Mode())
		}
	}
}
