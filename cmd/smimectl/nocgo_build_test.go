package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuildWithoutCGO builds smimectl with CGO_ENABLED=0, as `CGO_ENABLED=0 go
// install` does, and checks that its --pkcs11 says plainly that this build has
// no PKCS#11 support, with a usage-class exit status and no output (issue #12:
// the PKCS#11 code sits behind a cgo build constraint). CI builds with cgo, so
// without this test the cgo-free build would go unchecked.
func TestBuildWithoutCGO(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build smimectl without cgo: %v", err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "smimectl")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
	pin := filepath.Join(dir, "pin")
	if err := os.WriteFile(pin, []byte("123456\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"sign", "--pkcs11", "pkcs11:token=lab;object=alice?module-path=/usr/lib/softhsm/libsofthsm2.so", "--pin-file", pin},
		{"decrypt", "--pkcs11", "pkcs11:token=lab;object=bob?module-path=/usr/lib/softhsm/libsofthsm2.so", "--pin-file", pin},
	} {
		cmd := exec.Command(bin, args...)
		cmd.Stdin = strings.NewReader("From: alice@example.com\r\n\r\nhello\r\n")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitUsage {
			t.Errorf("%s: %v, want exit status %d\n%s", args[0], err, exitUsage, stderr.String())
		}
		if stdout.Len() != 0 {
			t.Errorf("%s: wrote %d bytes to standard output", args[0], stdout.Len())
		}
		if !strings.Contains(stderr.String(), "this build has no PKCS#11 support") {
			t.Errorf("%s: stderr %q does not say the build has no PKCS#11 support", args[0], stderr.String())
		}
		if strings.Contains(stderr.String(), "123456") {
			t.Errorf("%s: stderr shows the PIN", args[0])
		}
	}
}
