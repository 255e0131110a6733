package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// TestLibraryNamesNoFlag is issue #17 item 4 ("keep flag names in the CLI
// layer"): no string literal of a non-test Go file under pkg/ names a
// command-line flag (--word); what pkg/ says about an option names its
// Options field, and option_names.go gives the flags. A MIME boundary
// delimiter is written "--" + boundary, which this does not match.
func TestLibraryNamesNoFlag(t *testing.T) {
	flag := regexp.MustCompile(`--[a-z]`)
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(filepath.Join(repoRoot, "pkg"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Errorf("%s: %v", fset.Position(lit.Pos()), err)
			}
			if m := flag.FindString(s); m != "" {
				t.Errorf("%s: a library text names a flag (%q...): name the Options field, and give the flag in cmd/smimectl/option_names.go",
					fset.Position(lit.Pos()), m)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 20 {
		t.Fatalf("read %d Go files under pkg/: not the library", files)
	}
}

// TestEveryOptionHasAFlag is issue #17 item 4: every option the library's
// texts name (the Option constants of pkg/verify, pkg/sign and pkg/revocation) has a flag
// here, so that smimectl's output never falls back to a Go name.
func TestEveryOptionHasAFlag(t *testing.T) {
	for _, pkg := range []struct {
		dir  string
		min  int // how many constants the package has at least
		name func(string) string
	}{
		{"verify", 4, func(v string) string { return verifyOptionName(verify.Option(v)) }},
		{"sign", 4, func(v string) string { return signOptionName(sign.Option(v)) }},
		{"revocation", 1, func(v string) string { return revocationOptionName(revocation.Option(v)) }},
	} {
		consts := optionConstants(t, filepath.Join(repoRoot, "pkg", pkg.dir))
		if len(consts) < pkg.min {
			t.Fatalf("pkg/%s: found the Option constants %q, too few: was the type renamed?", pkg.dir, consts)
		}
		for _, v := range consts {
			if n := pkg.name(v); !strings.HasPrefix(n, "--") {
				t.Errorf("pkg/%s: Option %q has no flag (%q) in option_names.go", pkg.dir, v, n)
			}
		}
	}
	for _, o := range []verify.Option{verify.OptionContent, verify.OptionRoots} {
		if n := otherCommandName(o); !strings.Contains(n, " --") {
			t.Errorf("otherCommandName(%q) = %q, want a command and its flag", o, n)
		}
	}
}

// optionConstants returns the values of the constants of type Option
// declared in the non-test Go files of dir.
func optionConstants(t *testing.T, dir string) []string {
	t.Helper()
	fset := token.NewFileSet()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Option" {
					continue
				}
				for _, v := range vs.Values {
					lit, ok := v.(*ast.BasicLit)
					if !ok {
						t.Fatalf("%s: an Option constant that is not a string literal", fset.Position(v.Pos()))
					}
					s, _ := strconv.Unquote(lit.Value)
					out = append(out, s)
				}
			}
		}
	}
	return out
}
