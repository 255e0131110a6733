package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// docDir is where the generated man pages are committed, at the repository root.
const docDir = "../../doc"

// TestManPages regenerates the man pages and compares them with the committed doc/.
// Run "go test ./cmd/smimectl -run TestManPages -update" to rewrite doc/.
func TestManPages(t *testing.T) {
	e, _, _ := testEnv("", nil)
	tmp := t.TempDir()
	if err := genManPages(newRootCmd(e), tmp); err != nil {
		t.Fatal(err)
	}
	gen := dirNames(t, tmp)
	if !slices.Contains(gen, "smimectl.1") || len(gen) < 3 {
		t.Fatalf("generated %q, want smimectl.1 and a page per command", gen)
	}
	if *update {
		if err := os.MkdirAll(docDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range dirNames(t, docDir) {
			if filepath.Ext(name) == ".1" && !slices.Contains(gen, name) {
				if err := os.Remove(filepath.Join(docDir, name)); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for _, name := range gen {
		want, err := os.ReadFile(filepath.Join(tmp, name))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(docDir, name)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%v; run go test ./cmd/smimectl -run TestManPages -update", err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("doc/%s is stale; run go test ./cmd/smimectl -run TestManPages -update", name)
		}
	}
	for _, name := range dirNames(t, docDir) {
		if filepath.Ext(name) == ".1" && !slices.Contains(gen, name) {
			t.Errorf("doc/%s has no command; run go test ./cmd/smimectl -run TestManPages -update", name)
		}
	}
}

func TestManPageExitStatus(t *testing.T) {
	e, _, _ := testEnv("", nil)
	tmp := t.TempDir()
	if err := genManPages(newRootCmd(e), tmp); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(tmp, "smimectl.1"))
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(page, []byte("\n.SH EXIT STATUS\n"))
	if i < 0 || !bytes.Contains(page[i:], []byte("\n.SH SEE ALSO")) {
		t.Fatalf("smimectl.1 has no EXIT STATUS section before SEE ALSO:\n%s", page)
	}
	for _, s := range exitStatuses {
		if !bytes.Contains(page[i:], []byte("\\fB"+strconv.Itoa(s.code)+"\\fP\n")) {
			t.Errorf("EXIT STATUS lacks %d", s.code)
		}
	}
	if !bytes.Contains(page, []byte("smimectl <command> [flags]")) {
		t.Errorf("SYNOPSIS lost its <command> placeholder:\n%s", page)
	}
}

// TestReadmeExitStatus checks that the README's exit status table matches the
// constants (STYLE rule 3).
func TestReadmeExitStatus(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range exitStatuses {
		row := "| " + strconv.Itoa(s.code) + " | " + strings.ReplaceAll(s.text, "\n", " ") + " |"
		if !bytes.Contains(readme, []byte(row)) {
			t.Errorf("README.md lacks the row %q", row)
		}
	}
}

// TestReadmeInstall (issue #16 item 16): the README says how to install with the
// Go version go.mod needs, without cgo, with the man pages and completions, where
// Go 1.26 comes from on Debian 12, and maps every entry of bench/ and docs/.
func TestReadmeInstall(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	var goVersion string
	for line := range strings.Lines(string(gomod)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "go "); ok {
			goVersion = v
		}
	}
	// "go 1.26.0" needs Go 1.26; the README names the minor release.
	parts := strings.Split(goVersion, ".")
	if len(parts) < 2 {
		t.Fatalf("go.mod has no go line (%q)", goVersion)
	}
	minor := parts[0] + "." + parts[1]
	text := string(readme)
	for _, want := range []string{
		"## Install",
		"go install github.com/smimectl/smimectl/cmd/smimectl@latest",
		"needs Go " + minor + " or later",
		"CGO_ENABLED=0 go install github.com/smimectl/smimectl/cmd/smimectl@latest",
		"install -m 644 doc/*.1 ~/.local/share/man/man1/",
		"smimectl completion bash > ",
		"smimectl completion zsh > ",
		"smimectl completion fish > ",
		"with Go " + minor + " from the Go distribution\n(<https://go.dev/dl/>",
		"Debian 12's own `golang` package",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("README.md lacks %q", want)
		}
	}
	for _, dir := range []string{"bench", "docs"} {
		for _, name := range dirNames(t, filepath.Join(repoRoot, dir)) {
			entry := "| `" + dir + "/" + name
			if !strings.Contains(text, entry) {
				t.Errorf("README.md's map lacks %s/%s (a row starting %q)", dir, name, entry)
			}
		}
	}
}
