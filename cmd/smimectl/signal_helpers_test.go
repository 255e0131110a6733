//go:build linux

package main

// Helpers of the tests that run the real command and stop or signal it
// mid-message (signal, attack3, local fault, progress and PIN prompt tests).

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// makeBigMessages makes a lab in dir and a message with size bytes of
// content, signed by alice and encrypted for bob.
func makeBigMessages(dir string, size int) (*bigMessages, error) {
	big := &bigMessages{dir: dir}
	var err error
	runIn := func(args ...string) error {
		e, _, stderr := testEnv("", nil)
		e.Now = time.Now // as the runs under test see it
		if code := run(e, args); code != exitOK {
			return fmt.Errorf("smimectl %s: exit %d: %s", strings.Join(args, " "), code, stderr)
		}
		return nil
	}
	if err := runIn("lab", "init", filepath.Join(dir, "lab")); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("From: alice@example.com\r\nTo: bob@example.com\r\nSubject: big\r\nContent-Type: text/plain\r\n\r\n")
	line := strings.Repeat("plaintext that must not be left on disk ", 2)[:78] + "\r\n"
	for b.Len() < size {
		b.WriteString(line)
	}
	big.plain = b.Bytes()
	bcc := bytes.Replace(big.plain, []byte("To: bob@example.com\r\n"), []byte("To: bob@example.com\r\nBcc: carol@example.com\r\n"), 1)
	big.bcc = bcc
	for name, data := range map[string][]byte{"plain.eml": big.plain, "bcc.eml": bcc} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return nil, err
		}
	}
	lab := filepath.Join(dir, "lab")
	if err := runIn("sign", "--key", lab+"/alice-sign.key", "--cert", lab+"/alice-sign.crt",
		"--in", filepath.Join(dir, "plain.eml"), "--out", filepath.Join(dir, "signed.eml")); err != nil {
		return nil, err
	}
	if err := runIn("encrypt", "--recipient-cert", lab+"/bob.crt", "--no-self",
		"--in", filepath.Join(dir, "plain.eml"), "--out", filepath.Join(dir, "enc.eml")); err != nil {
		return nil, err
	}
	if big.signed, err = os.ReadFile(filepath.Join(dir, "signed.eml")); err != nil {
		return nil, err
	}
	big.enc, err = os.ReadFile(filepath.Join(dir, "enc.eml"))
	return big, err
}

// openIn returns the files of pid's open descriptors that are in dir: the
// spool in TMPDIR, the --out file beside F ("/dir/#123 (deleted)" for an
// O_TMPFILE file), each as the /proc path of its descriptor and its target.
func openIn(t *testing.T, pid int, dir string) map[string]string {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return nil // exited
	}
	files := map[string]string{}
	for _, fd := range fds {
		p := fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())
		link, err := os.Readlink(p)
		if err == nil && strings.HasPrefix(link, dir+"/") {
			files[p] = link
		}
	}
	return files
}

// unnamed checks that every file of pid in dir has no name there, and that dir
// shows nothing, while the run is blocked mid-message.
func unnamed(t *testing.T, pid int, dir, what string) {
	t.Helper()
	for _, link := range openIn(t, pid, dir) {
		if !strings.HasSuffix(link, " (deleted)") {
			t.Errorf("%s file %q has a name while the run writes it", what, link)
		}
	}
	if got := names(t, dir); len(got) != 0 {
		t.Errorf("%s holds %q while the run is blocked mid-message, want nothing", what, got)
	}
}

// names lists the names in dir.
func names(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		out = append(out, de.Name())
	}
	return out
}

// waitFor polls cond every 20ms for up to a minute (a loaded machine).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting until %s", what)
}

// exitStatus is the status a shell would report: the exit code, or -1 if
// the process was killed by a signal rather than exiting.
func exitStatus(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	ee, ok := err.(*exec.ExitError)
	if !ok {
		t.Fatal(err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Errorf("killed by %v instead of exiting with 128+n", ws.Signal())
	}
	return ee.ExitCode()
}
