package apicheck_test

import (
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const modulePath = "github.com/smimectl/smimectl"

// importerProgram is a program of another module that uses the library as
// an importer would: it verifies bob's signed report and encrypts its
// content to bob's certificate, both read from the Example fixtures.
const importerProgram = `// Command importer uses smimectl as a library: pkg/verify and pkg/encrypt only.
package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/smimectl/smimectl/pkg/encrypt"
	"github.com/smimectl/smimectl/pkg/verify"
)

func main() {
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "importer:", err)
		os.Exit(1)
	}
}

func certs(path string) ([]*x509.Certificate, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return verify.ReadCertificates(f)
}

func run(dir string) error {
	at := func() time.Time { return time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC) }
	roots, err := certs(filepath.Join(dir, "root.crt"))
	if err != nil {
		return err
	}
	bob, err := certs(filepath.Join(dir, "bob.crt"))
	if err != nil {
		return err
	}
	msg, err := os.Open(filepath.Join(dir, "bob-signed.eml"))
	if err != nil {
		return err
	}
	defer msg.Close()
	var content bytes.Buffer
	res, err := verify.Verify(context.Background(), &content, msg, verify.Options{Roots: roots, Now: at})
	if err != nil {
		return err
	}
	var sealed bytes.Buffer
	if err := encrypt.Encrypt(&sealed, &content, encrypt.Options{Recipients: bob, Now: at}); err != nil {
		return err
	}
	fmt.Printf("verified: %v %v\nencrypted: %d bytes for %s\n", res.Valid, res.Signers[0].Emails, sealed.Len(), bob[0].EmailAddresses[0])
	return nil
}
`

// TestImporterModule (issue #17 item 1, "Must show") builds a program that
// imports only pkg/verify and pkg/encrypt in a module of its own, where the
// go command refuses any import of smimectl's internal/ packages: that it
// compiles and runs shows the public API is enough to verify and encrypt.
// It works offline: the repository's go.sum and the module cache the main
// build filled (GOPROXY=off).
func TestImporterModule(t *testing.T) {
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	fixtures, err := filepath.Abs(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	goMod := "module example.com/importer\n\ngo 1.26.0\n\nrequire " + modulePath + " v0.0.0\n\nreplace " +
		modulePath + " => " + strconv.Quote(root) + "\n"
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"go.mod": []byte(goMod), "go.sum": sum, "main.go": []byte(importerProgram)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := importsOnly(filepath.Join(dir, "main.go"), modulePath+"/pkg/verify", modulePath+"/pkg/encrypt"); err != nil {
		t.Fatal(err)
	}
	env := []string{"GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "GO111MODULE=on"}
	bin := filepath.Join(dir, "importer")
	runGo(t, dir, env, "build", "-o", bin, ".")

	deps := strings.Fields(string(runGo(t, dir, env, "list", "-deps", ".")))
	var own []string
	for _, d := range deps {
		if d == modulePath || strings.HasPrefix(d, modulePath+"/") {
			own = append(own, strings.TrimPrefix(d, modulePath+"/"))
		}
		// The library must not drag the command line in.
		for _, cli := range []string{"github.com/spf13/cobra", "github.com/spf13/pflag", modulePath + "/cmd/"} {
			if strings.HasPrefix(d, cli) {
				t.Errorf("the importer depends on %s: a library package imports the command layer", d)
			}
		}
	}
	t.Logf("go list -deps: %d packages, of smimectl: %s", len(deps), strings.Join(own, " "))

	// The proof rests on the go command refusing internal/ across modules:
	// a program of the same module that imports one must not build.
	refused := filepath.Join(dir, "refused")
	if err := os.Mkdir(refused, 0o755); err != nil {
		t.Fatal(err)
	}
	src := "package main\n\nimport _ \"" + modulePath + "/internal/certinfo\"\n\nfunc main() {}\n"
	if err := os.WriteFile(filepath.Join(refused, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goTool(t), "build", "-o", os.DevNull, "./refused")
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "use of internal package") {
		t.Errorf("building a program that imports internal/certinfo from another module: %v, %s; want the go command's refusal", err, out)
	}

	out, err := exec.Command(bin, fixtures).CombinedOutput()
	if err != nil {
		t.Fatalf("running the importer: %v\n%s", err, out)
	}
	want := "verified: true [bob@example.com]\n"
	if !strings.HasPrefix(string(out), want) || !strings.Contains(string(out), " bytes for bob@example.com\n") {
		t.Errorf("the importer printed %q, want %q then the encrypted size for bob", out, want)
	}
}

// importsOnly checks that the Go file at path imports nothing from this
// module but the packages allowed, and no internal package of anyone: the
// types it names come from the standard library and those packages.
func importsOnly(path string, allowed ...string) error {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
	if err != nil {
		return err
	}
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		first, _, _ := strings.Cut(p, "/")
		switch {
		case strings.Contains(p, "/internal/") || strings.HasPrefix(p, "internal/"):
			return fmt.Errorf("%s imports %s, an internal package", path, p)
		case strings.HasPrefix(p, modulePath):
			if !slices.Contains(allowed, p) {
				return fmt.Errorf("%s imports %s; the importer may use only %s", path, p, strings.Join(allowed, ", "))
			}
		case strings.Contains(first, "."):
			return fmt.Errorf("%s imports %s, outside the standard library and smimectl", path, p)
		}
	}
	return nil
}
