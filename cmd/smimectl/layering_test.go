package main

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// repoRoot is the module root, relative to this package's directory.
const repoRoot = "../.."

// libraryDirs are the trees that must not depend on the command layer (STYLE rule 1).
var libraryDirs = []string{"pkg", "internal"}

// TestLibraryDeps checks that no library package imports Cobra, pflag or cmd/.
func TestLibraryDeps(t *testing.T) {
	var patterns []string
	for _, d := range libraryDirs {
		if fi, err := os.Stat(filepath.Join(repoRoot, d)); err == nil && fi.IsDir() {
			patterns = append(patterns, "./"+d+"/...")
		}
	}
	if len(patterns) == 0 {
		t.Skip("no pkg/ or internal/ yet")
	}
	cmd := exec.Command("go", append([]string{"list", "-deps"}, patterns...)...)
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list -deps %s: %v\n%s", strings.Join(patterns, " "), err, stderr)
	}
	if bad := forbiddenDeps(strings.Fields(string(out))); len(bad) > 0 {
		t.Errorf("pkg/ and internal/ depend on the command layer: %s", strings.Join(bad, ", "))
	}
}

// forbiddenDeps returns the import paths in deps that libraries must not use.
func forbiddenDeps(deps []string) []string {
	var bad []string
	for _, d := range deps {
		if strings.HasPrefix(d, "github.com/spf13/cobra") || strings.HasPrefix(d, "github.com/spf13/pflag") ||
			strings.Contains(d, "/cmd/") || strings.HasSuffix(d, "/cmd") {
			bad = append(bad, d)
		}
	}
	return bad
}

func TestForbiddenDeps(t *testing.T) {
	deps := []string{
		"crypto/x509", "github.com/smimectl/smimectl/pkg/sign", "github.com/spf13/pflag",
		"github.com/smimectl/smimectl/cmd/smimectl", "github.com/spf13/cobra/doc",
	}
	got := forbiddenDeps(deps)
	want := []string{"github.com/spf13/pflag", "github.com/smimectl/smimectl/cmd/smimectl", "github.com/spf13/cobra/doc"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestLibraryCalls greps pkg/ and internal/ for process access libraries must leave to
// the command (STYLE rule 1).
func TestLibraryCalls(t *testing.T) {
	var found []string
	for _, d := range libraryDirs {
		v, err := forbiddenCalls(filepath.Join(repoRoot, d))
		if err != nil {
			t.Fatal(err)
		}
		found = append(found, v...)
	}
	for _, v := range found {
		t.Error(v)
	}
}

// forbiddenCalls are the strings no non-test Go file under pkg/ or internal/ may
// contain. time.Now() is allowed on a line that says "// default": the documented
// default of an Options field.
var forbiddenCalls = func() func(dir string) ([]string, error) {
	banned := []string{"os.Exit(", "os.Stdout", "os.Stderr", "os.Stdin", "os.Getenv(", "time.Now()"}
	return func(dir string) ([]string, error) {
		var found []string
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) && path == dir {
					return filepath.SkipDir
				}
				return err
			}
			// internal/testpeer drives peer programs for tests only; it may read CI.
			if d.IsDir() && (d.Name() == "testdata" || d.Name() == "testpeer" || strings.HasPrefix(d.Name(), ".")) && path != dir {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			sc := bufio.NewScanner(f)
			sc.Buffer(nil, 1<<20)
			for n := 1; sc.Scan(); n++ {
				line := sc.Text()
				for _, b := range banned {
					if !strings.Contains(line, b) {
						continue
					}
					if b == "time.Now()" && strings.Contains(line, "// default") {
						continue
					}
					found = append(found, fmt.Sprintf("%s:%d: %s in a library package", path, n, b))
				}
			}
			return sc.Err()
		})
		return found, err
	}
}()

func TestForbiddenCalls(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"pkg/a/a.go":            "package a\n\nfunc f() { os.Exit(1) }\n",
		"pkg/a/ok.go":           "package a\n\nvar now = time.Now() // default: Options.Now\n",
		"pkg/a/a_test.go":       "package a\n\nfunc g() { os.Exit(1) }\n",
		"pkg/a/testdata/x.go":   "package x\n\nvar _ = os.Stdout\n",
		"pkg/b/b.go":            "package b\n\nvar (\n\t_ = os.Getenv(\"X\")\n\t_ = time.Now()\n)\n",
		"pkg/b/README.md":       "os.Exit(1)\n",
		"pkg/c/nested/stdin.go": "package nested\n\nvar r = os.Stdin\n",
	}
	for name, body := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := forbiddenCalls(filepath.Join(dir, "pkg"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		filepath.Join(dir, "pkg/a/a.go") + ":3: os.Exit( in a library package",
		filepath.Join(dir, "pkg/b/b.go") + ":4: os.Getenv( in a library package",
		filepath.Join(dir, "pkg/b/b.go") + ":5: time.Now() in a library package",
		filepath.Join(dir, "pkg/c/nested/stdin.go") + ":3: os.Stdin in a library package",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got, err := forbiddenCalls(filepath.Join(dir, "missing")); err != nil || len(got) != 0 {
		t.Errorf("missing directory: got %q, %v; want nothing", got, err)
	}
}
