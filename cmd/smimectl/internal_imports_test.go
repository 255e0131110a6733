package main

import (
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// internalImportsSection is the heading of docs/ARCHITECTURE.md that lists,
// one line each with its reason, the internal packages this command imports.
const internalImportsSection = "## What cmd/smimectl imports from internal/"

// documentedLine is one entry of that section: "- `internal/NAME`: reason".
var documentedLine = regexp.MustCompile("^- `internal/([a-z0-9/]+)`: (.+)$")

// TestInternalImportsDocumented (issue #17 item 1): the command needs
// internal/ only for plumbing, and docs/ARCHITECTURE.md names each package it
// still imports with the reason. It fails when a non-test file of this
// directory (whatever its build tags) imports an internal package the section
// does not list, when the section lists one no file imports, or when an entry
// gives no reason.
func TestInternalImportsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented, err := documentedInternalImports(string(doc))
	if err != nil {
		t.Fatal(err)
	}
	imported := map[string][]string{} // package -> the files importing it
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	const prefix = "github.com/smimectl/smimectl/internal/"
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				t.Fatal(err)
			}
			if pkg, ok := strings.CutPrefix(path, prefix); ok {
				imported[pkg] = append(imported[pkg], name)
			}
		}
	}
	for pkg, files := range imported {
		if _, ok := documented[pkg]; !ok {
			t.Errorf("%s import internal/%s, which %q in docs/ARCHITECTURE.md does not list: use pkg/ instead, or list it there with the reason it is CLI plumbing",
				strings.Join(files, ", "), pkg, internalImportsSection)
		}
	}
	for pkg := range documented {
		if _, ok := imported[pkg]; !ok {
			t.Errorf("docs/ARCHITECTURE.md lists internal/%s, which no non-test file of cmd/smimectl imports: take it off the list", pkg)
		}
	}
}

// documentedInternalImports reads the packages of the section of doc that
// internalImportsSection heads, each with its reason.
func documentedInternalImports(doc string) (map[string]string, error) {
	_, rest, ok := strings.Cut(doc, "\n"+internalImportsSection+"\n")
	if !ok {
		return nil, fmt.Errorf("docs/ARCHITECTURE.md has no section %q", internalImportsSection)
	}
	if i := strings.Index(rest, "\n## "); i >= 0 {
		rest = rest[:i]
	}
	out := map[string]string{}
	for _, line := range strings.Split(rest, "\n") {
		if !strings.HasPrefix(line, "- ") {
			continue
		}
		m := documentedLine.FindStringSubmatch(line)
		if m == nil || strings.TrimSpace(m[2]) == "" {
			return nil, fmt.Errorf("%q: want \"- `internal/NAME`: the reason it is CLI plumbing\"", line)
		}
		if _, dup := out[m[1]]; dup {
			return nil, fmt.Errorf("internal/%s is listed twice", m[1])
		}
		out[m[1]] = m[2]
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("section %q lists no package", internalImportsSection)
	}
	return out, nil
}

// TestDocumentedInternalImportsParse shows the section reader fails on what
// would let TestInternalImportsDocumented pass without meaning it.
func TestDocumentedInternalImportsParse(t *testing.T) {
	head := "intro\n" + internalImportsSection + "\ntext\n\n"
	for _, tc := range []struct {
		name, doc string
		want      []string // nil: an error
	}{
		{"two entries, then another section", head + "- `internal/keys`: key files\n- `internal/lab/labtest`: tests\n\n## Next\n- `internal/mime`: not this section\n",
			[]string{"keys", "lab/labtest"}},
		{"no section", "intro\n## Other\n- `internal/keys`: key files\n", nil},
		{"no reason", head + "- `internal/keys`:\n", nil},
		{"not an internal package", head + "- `pkg/verify`: the library\n", nil},
		{"listed twice", head + "- `internal/keys`: a\n- `internal/keys`: b\n", nil},
		{"empty", head + "## Next\n", nil},
	} {
		got, err := documentedInternalImports(tc.doc)
		if tc.want == nil {
			if err == nil {
				t.Errorf("%s: read %v, want an error", tc.name, got)
			}
			continue
		}
		var names []string
		for pkg := range got {
			names = append(names, pkg)
		}
		slices.Sort(names)
		if err != nil || !slices.Equal(names, tc.want) {
			t.Errorf("%s: got %v, %v; want %v", tc.name, names, err, tc.want)
		}
	}
}
