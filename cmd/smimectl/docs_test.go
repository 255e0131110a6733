package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
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

// TestManPageSections (issue #16 item 11): every page is headed with its own
// name (SMIMECTL-VERIFY), has the sections of a man page in order, and lists in
// OPTIONS every flag as --help shows it, with the same text: a flag added,
// renamed or reworded without regenerating doc/ fails here and in TestManPages.
func TestManPageSections(t *testing.T) {
	e, _, _ := testEnv("", nil)
	root := newRootCmd(e)
	tmp := t.TempDir()
	if err := genManPages(newRootCmd(e), tmp); err != nil {
		t.Fatal(err)
	}
	order := []string{"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES", "SEE ALSO"}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || (c != root && (!c.IsAvailableCommand() || c.IsAdditionalHelpTopicCommand())) {
			return
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
		name := strings.ReplaceAll(c.CommandPath(), " ", "-")
		page, err := os.ReadFile(filepath.Join(tmp, name+".1"))
		if err != nil {
			t.Error(err)
			return
		}
		text := string(page)
		if th := `.TH "` + strings.ToUpper(name) + `" "1"`; !strings.Contains(text, th) {
			t.Errorf("%s.1 lacks the header %s", name, th)
		}
		at := 0
		for _, sec := range order {
			i := strings.Index(text, "\n.SH "+sec+"\n")
			if i < 0 {
				t.Errorf("%s.1 has no %s section", name, sec)
				continue
			}
			if i < at {
				t.Errorf("%s.1: %s is out of order", name, sec)
			}
			at = i
		}
		for _, fs := range []*pflag.FlagSet{c.LocalFlags(), c.InheritedFlags()} {
			for line := range strings.Lines(flagUsages(fs)) {
				flag, usage, _ := strings.Cut(strings.TrimSpace(line), "  ")
				want := ".TP\n\\fB" + flag + "\\fP\n" + strings.TrimSpace(usage) + "\n"
				if !strings.Contains(text, want) {
					t.Errorf("%s.1 does not show %s as --help does:\n%s", name, flag, want)
				}
			}
		}
		for _, want := range []string{"\\fBSMIMECTL_CONFIG\\fP", "\\fI/etc/smimectl/config.toml\\fP"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s.1 lacks %s", name, want)
			}
		}
	}
	walk(root)
	verify, err := os.ReadFile(filepath.Join(tmp, "smimectl-verify.1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\\fBSMIMECTL_TRUST\\fP", "\\fBSMIMECTL_AUTHSERV_ID\\fP", "\\fBHTTPS_PROXY, HTTP_PROXY, NO_PROXY\\fP", "\\fI$XDG_CACHE_HOME/smimectl/crl\\fP", "\\fB--json\\fP\n"} {
		if !strings.Contains(string(verify), want) {
			t.Errorf("smimectl-verify.1 lacks %q", want)
		}
	}
}
