package apicheck_test

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// goPackage is one package as go list describes it.
type goPackage struct {
	ImportPath, Name, Dir string
	Files                 []string // the non-test Go files of the build
}

// listPackages runs go list on pattern in the repository.
func listPackages(t *testing.T, pattern string) []goPackage {
	t.Helper()
	out := runGo(t, repoRoot, nil, "list", "-f", "{{.ImportPath}} {{.Name}} {{.Dir}} {{join .GoFiles \",\"}},{{join .CgoFiles \",\"}}", pattern)
	var pkgs []goPackage
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) != 4 {
			t.Fatalf("go list printed %q: want import path, name, directory and files", line)
		}
		p := goPackage{ImportPath: f[0], Name: f[1], Dir: f[2]}
		for _, name := range strings.Split(f[3], ",") {
			if name != "" {
				p.Files = append(p.Files, filepath.Join(p.Dir, name))
			}
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// qualified finds identifiers written as pkg.Name in documentation text;
// the qualifier must not follow a letter, digit, dot or slash (so
// "foo.chain.X" and "internal/chain.X" are judged by their last part and
// the path rule), and Name must start upper case, as exported names do (so
// "the chain. The" is prose).
var qualified = regexp.MustCompile(`(?:^|[^\w./])([a-z][a-z0-9]*)\.([A-Z]\w*)`)

// TestSealedAPI (issue #17 item 1) fails for every line of `go doc -all`
// of a package under pkg/ that mentions "internal/" or an exported name of
// an internal package by its qualifier (mime.Protection, cms.MaxRecipients,
// chain.Reason: stdlib names such as mime.TypeByExtension are not taken
// for internal/mime's), and for every exported declaration whose type,
// signature or value names an internal package's identifier, found
// through each file's imports, renamed ones included.
func TestSealedAPI(t *testing.T) {
	internals := map[string]map[string]bool{} // package name -> its exported names
	for _, p := range listPackages(t, "./internal/...") {
		names := internals[p.Name]
		if names == nil {
			names = map[string]bool{}
			internals[p.Name] = names
		}
		for _, d := range exportedNames(t, p) {
			names[d] = true
		}
	}
	for _, p := range listPackages(t, "./pkg/...") {
		t.Run(strings.TrimPrefix(p.ImportPath, modulePath+"/"), func(t *testing.T) {
			doc := runGo(t, repoRoot, nil, "doc", "-all", p.ImportPath)
			for _, v := range docLeaks(doc, internals) {
				t.Errorf("go doc -all %s: %s", p.ImportPath, v)
			}
			for _, v := range declLeaks(t, p) {
				t.Error(v)
			}
		})
	}
}

// docLeaks returns the lines of doc that mention internal packages.
func docLeaks(doc []byte, internals map[string]map[string]bool) []string {
	var leaks []string
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		var why []string
		if strings.Contains(line, "internal/") {
			why = append(why, `"internal/"`)
		}
		for _, m := range qualified.FindAllStringSubmatch(line, -1) {
			if internals[m[1]][m[2]] {
				why = append(why, m[1]+"."+m[2])
			}
		}
		if why != nil {
			leaks = append(leaks, fmt.Sprintf("line %d names %s: %s", n, strings.Join(why, ", "), strings.TrimSpace(line)))
		}
	}
	return leaks
}

// exportedNames lists the exported top-level identifiers of p.
func exportedNames(t *testing.T, p goPackage) []string {
	var names []string
	for _, f := range parseFiles(t, p) {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.IsExported() {
					names = append(names, d.Name.Name)
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						names = append(names, s.Name.Name)
					case *ast.ValueSpec:
						for _, n := range s.Names {
							names = append(names, n.Name)
						}
					}
				}
			}
		}
	}
	return names
}

func parseFiles(t *testing.T, p goPackage) []*ast.File {
	t.Helper()
	fset := token.NewFileSet()
	var files []*ast.File
	for _, path := range p.Files {
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return files
}

// declLeaks returns the exported declarations of p (what go doc shows:
// signatures, types with their exported fields and methods, constants and
// variables with their values) that name an identifier of an internal
// package.
func declLeaks(t *testing.T, p goPackage) []string {
	var leaks []string
	fset := token.NewFileSet()
	for _, path := range p.Files {
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		internal := map[string]string{} // local name -> import path
		for _, imp := range f.Imports {
			ip, _ := strconv.Unquote(imp.Path.Value)
			if !strings.Contains(ip, "/internal/") {
				continue
			}
			name := ip[strings.LastIndex(ip, "/")+1:]
			if imp.Name != nil {
				name = imp.Name.Name
			}
			internal[name] = ip
		}
		if len(internal) == 0 {
			continue
		}
		report := func(what string, nodes ...ast.Node) {
			for _, n := range nodes {
				for _, sel := range internalRefs(n, internal) {
					leaks = append(leaks, fmt.Sprintf("%s: %s names %s", fset.Position(sel.Pos()), what, sel.X.(*ast.Ident).Name+"."+sel.Sel.Name))
				}
			}
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Name.IsExported() && (d.Recv == nil || exportedRecv(d.Recv)) {
					report("func "+d.Name.Name, d.Type)
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						if s.Name.IsExported() {
							report("type "+s.Name.Name, visibleType(s)...)
						}
					case *ast.ValueSpec:
						if slicesAny(s.Names, (*ast.Ident).IsExported) {
							var nodes []ast.Node
							if s.Type != nil {
								nodes = append(nodes, s.Type)
							}
							for _, v := range s.Values {
								nodes = append(nodes, v)
							}
							report(d.Tok.String()+" "+s.Names[0].Name, nodes...)
						}
					}
				}
			}
		}
	}
	return leaks
}

// visibleType returns the parts of a type declaration go doc shows: all of
// it, but only the exported (or embedded) fields of a struct and the
// exported methods and embedded types of an interface.
func visibleType(s *ast.TypeSpec) []ast.Node {
	var nodes []ast.Node
	if s.TypeParams != nil {
		nodes = append(nodes, s.TypeParams)
	}
	var fields *ast.FieldList
	switch typ := s.Type.(type) {
	case *ast.StructType:
		fields = typ.Fields
	case *ast.InterfaceType:
		fields = typ.Methods
	default:
		return append(nodes, s.Type)
	}
	for _, f := range fields.List {
		if len(f.Names) == 0 || slicesAny(f.Names, (*ast.Ident).IsExported) {
			nodes = append(nodes, f.Type)
		}
	}
	return nodes
}

// exportedRecv reports whether a method's receiver type is exported.
func exportedRecv(recv *ast.FieldList) bool {
	typ := recv.List[0].Type
	for {
		switch x := typ.(type) {
		case *ast.StarExpr:
			typ = x.X
		case *ast.IndexExpr:
			typ = x.X
		case *ast.IndexListExpr:
			typ = x.X
		case *ast.Ident:
			return x.IsExported()
		default:
			return false
		}
	}
}

// internalRefs returns the selectors pkg.Name in n whose pkg is an
// internal import of the file.
func internalRefs(n ast.Node, internal map[string]string) []*ast.SelectorExpr {
	var out []*ast.SelectorExpr
	ast.Inspect(n, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && internal[id.Name] != "" {
				out = append(out, sel)
			}
		}
		return true
	})
	return out
}

func slicesAny(ids []*ast.Ident, f func(*ast.Ident) bool) bool {
	for _, id := range ids {
		if f(id) {
			return true
		}
	}
	return false
}

// TestSealRules shows what TestSealedAPI counts as a mention of an internal
// package and what it leaves alone.
func TestSealRules(t *testing.T) {
	internals := map[string]map[string]bool{
		"mime":  {"Form": true, "Protection": true},
		"chain": {"Reason": true},
		"cms":   {"MaxRecipients": true},
	}
	for _, c := range []struct {
		line string
		leak bool
	}{
		{"type ProtectedHeaders = mime.Protection", true},
		{"    Reason chain.Reason", true},
		{"recipient entries (the most [cms.MaxRecipients] lets through)", true},
		{"Addresses follow RFC 8398 through internal/certinfo.", true},
		{"func Select(ctx context.Context, purpose certinfo.Purpose)", false}, // not a name of internals above
		{"the standard library's mime.TypeByExtension", false},
		{"builds the chain. Then it checks", false},
		{"a field path such as res.chain.Reason is not a qualifier", false},
		{"see encrypt.InputForm and verify.Form", false},
	} {
		got := docLeaks([]byte(c.line+"\n"), internals)
		if (len(got) > 0) != c.leak {
			t.Errorf("%q: leaks %q, want a leak: %v", c.line, got, c.leak)
		}
	}

	dir := t.TempDir()
	src := `package p

import (
	ch "example.com/m/internal/chain"
	"example.com/m/internal/cms"
)

type T struct {
	R ch.Reason
	r ch.Reason
}

type hidden struct{ R ch.Reason }

func (hidden) Exported(ch.Reason) {}

func F(n int) (ch.Reason, error) { var x cms.Thing; _ = x; return 0, nil }

const Max = cms.MaxRecipients

var limit = cms.MaxRecipients
`
	path := filepath.Join(dir, "p.go")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	got := declLeaks(t, goPackage{ImportPath: "example.com/m/p", Name: "p", Dir: dir, Files: []string{path}})
	want := []string{"type T names ch.Reason", "func F names ch.Reason", "const Max names cms.MaxRecipients"}
	if len(got) != len(want) {
		t.Fatalf("declLeaks found %q, want %q", got, want)
	}
	for i := range want {
		if !strings.HasSuffix(got[i], want[i]) {
			t.Errorf("leak %d: %q, want one ending %q", i, got[i], want[i])
		}
	}
}
