package apicheck_test

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
)

// repoRoot is the module's root, from this package's directory.
const repoRoot = "../.."

// goTool returns the go command on PATH (go test puts its own toolchain's
// first). Without one, the test is skipped, except under CI=true, where that
// is a failure.
func goTool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the go command is missing (%v), and CI=true forbids skipping: run the tests with a full Go toolchain", err)
		}
		t.Skipf("the go command is missing: %v", err)
	}
	return path
}

// runGo runs the go command in dir with env added to the environment and
// returns its standard output; on failure the test fails with its stderr.
func runGo(t *testing.T, dir string, env []string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(goTool(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go %v in %s: %v\n%s", args, dir, err, stderr.Bytes())
	}
	return stdout.Bytes()
}
