package main

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestGoModTestDependencies (issue #17 item 6): go.mod keeps the modules only
// tests need in the require block under "// Test dependencies.", and the
// smimectl binary and pkg/ need none of them, while each module they do need
// is required outside that block.
func TestGoModTestDependencies(t *testing.T) {
	data, err := os.ReadFile(repoRoot + "/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	mod := string(data)
	i := strings.Index(mod, "\n// Test dependencies.")
	if i < 0 {
		t.Fatal(`go.mod has no "// Test dependencies." require block`)
	}
	block, _, ok := strings.Cut(mod[i:], "\n)")
	_, block, ok2 := strings.Cut(block, "require (\n")
	if !ok || !ok2 {
		t.Fatal("the test dependencies are not one require ( ... ) block")
	}
	var testMods []string
	for _, line := range strings.Split(block, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			testMods = append(testMods, f[0])
		}
	}
	cmd := exec.Command("go", "list", "-deps", "-f", "{{with .Module}}{{.Path}}{{end}}", "./cmd/...", "./pkg/...")
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, m := range strings.Fields(string(out)) {
		switch {
		case m == "github.com/smimectl/smimectl":
		case slices.Contains(testMods, m):
			t.Errorf("%s is under // Test dependencies. but the binary or pkg/ builds it", m)
		case !strings.Contains(mod[:i], "\t"+m+" "):
			t.Errorf("%s is built by the binary or pkg/ but not required before the test dependencies", m)
		}
	}
	if !slices.Contains(testMods, "go.mozilla.org/pkcs7") || !slices.Contains(testMods, "github.com/rogpeppe/go-internal") {
		t.Errorf("test dependencies %v lack pkcs7 or go-internal (testscript)", testMods)
	}
}
