package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/smimectl/smimectl/pkg/verify"
)

// schemaBase is the $id prefix of the published JSON Schemas in docs/schema.
const schemaBase = "https://github.com/smimectl/smimectl/docs/schema/"

// compileSchemas compiles every schema of docs/schema, by name ("verify").
func compileSchemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "docs", "schema", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no schemas in docs/schema (%v)", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, f := range files {
		doc := readJSON(t, f)
		if id, _ := doc.(map[string]any)["$id"].(string); id != schemaBase+filepath.Base(f) {
			t.Fatalf("%s: $id %q, want %q", f, id, schemaBase+filepath.Base(f))
		}
		if err := c.AddResource(schemaBase+filepath.Base(f), doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	schemas := map[string]*jsonschema.Schema{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		s, err := c.Compile(schemaBase + filepath.Base(f))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		schemas[name] = s
	}
	return schemas
}

func readJSON(t *testing.T, path string) any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// schemaFor names the schema of a golden file by the command that printed
// it: its name's prefix. decrypt with --trust prints verify's object; only
// decrypt-plain* is decrypt's own.
func schemaFor(name string) string {
	for _, p := range []string{"cert-verify", "cert-match", "encrypt-plan", "encrypt", "inspect", "verify", "directory-list", "directory-clean", "directory-publish"} {
		if strings.HasPrefix(name, p) {
			return p
		}
	}
	if strings.HasPrefix(name, "decrypt-plain") {
		return "decrypt"
	}
	if strings.HasPrefix(name, "decrypt") {
		return "verify"
	}
	return ""
}

// TestSchemaGolden validates every golden file (one object, or JSON Lines)
// in testdata/golden against the published JSON Schema of its command
// (issue #13 item 6). The schemas forbid fields they do not list, so a field
// added to the output without documenting it fails here.
func TestSchemaGolden(t *testing.T) {
	schemas := compileSchemas(t)
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.json*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files (%v)", err)
	}
	used := map[string]bool{}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			s := schemas[schemaFor(name)]
			if s == nil {
				t.Fatalf("no schema for %s: name golden files after their command (verify-..., cert-match-...)", name)
			}
			used[schemaFor(name)] = true
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var docs [][]byte
			if strings.HasSuffix(name, ".jsonl") {
				for line := range bytes.SplitSeq(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
					docs = append(docs, line)
				}
			} else {
				docs = [][]byte{data}
			}
			for i, d := range docs {
				v, err := jsonschema.UnmarshalJSON(bytes.NewReader(d))
				if err != nil {
					t.Fatalf("object %d: %v", i+1, err)
				}
				if err := s.Validate(v); err != nil {
					t.Errorf("object %d does not match docs/schema/%s.json:\n%v", i+1, schemaFor(name), err)
				}
			}
		})
	}
	for name := range schemas {
		if name != "defs" && !used[name] {
			t.Errorf("docs/schema/%s.json has no golden file to validate", name)
		}
	}
}

// TestSchemaRejects makes sure the validation can fail: a golden object
// without "schema", with a field the schema does not document, or with an
// unknown reason code is refused.
func TestSchemaRejects(t *testing.T) {
	s := compileSchemas(t)["verify"]
	for _, tc := range []struct {
		name   string
		change func(map[string]any)
	}{
		{"no schema", func(m map[string]any) { delete(m, "schema") }},
		{"schema 2", func(m map[string]any) { m["schema"] = 2 }},
		{"no input", func(m map[string]any) { delete(m, "input") }},
		{"undocumented field", func(m map[string]any) { m["certified_by"] = "trust me" }},
		{"unknown reason", func(m map[string]any) { m["reason"] = "bad-vibes" }},
		{"fingerprint not hex", func(m map[string]any) {
			m["signers"].([]any)[0].(map[string]any)["fingerprint_sha256"] = "not-a-fingerprint"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := readJSON(t, filepath.Join("testdata", "golden", "verify-untrusted.json")).(map[string]any)
			if err := s.Validate(m); err != nil {
				t.Fatalf("the golden file itself does not validate: %v", err)
			}
			tc.change(m)
			if err := s.Validate(m); err == nil {
				t.Errorf("validated, want a failure")
			}
		})
	}
}

// TestSchemaReasons checks that the reason codes of the schemas and of
// docs/json.md are verify.Reasons(), the one list (issue #13 item 6), and
// that the schemas' version is jsonSchemaVersion.
func TestSchemaReasons(t *testing.T) {
	defs := readJSON(t, filepath.Join("..", "..", "docs", "schema", "defs.json")).(map[string]any)["$defs"].(map[string]any)
	var inSchema []string
	for _, c := range defs["reason"].(map[string]any)["enum"].([]any) {
		inSchema = append(inSchema, c.(string))
	}
	var codes []string
	for _, r := range verify.Reasons() {
		codes = append(codes, r.Code.String())
	}
	if !slices.Equal(inSchema, codes) {
		t.Errorf("docs/schema/defs.json reason enum:\n%v\nwant verify.Reasons():\n%v", inSchema, codes)
	}
	if v, _ := defs["schema"].(map[string]any)["const"].(json.Number); v.String() != "1" || jsonSchemaVersion != 1 {
		t.Errorf("schema version: docs/schema/defs.json says %v, jsonSchemaVersion is %d", v, jsonSchemaVersion)
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "json.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range verify.Reasons() {
		if !bytes.Contains(doc, []byte("| `"+r.Code+"` |")) {
			t.Errorf("docs/json.md does not list reason %q in its table of reason codes", r.Code)
		}
	}
}
