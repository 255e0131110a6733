package batch

import (
	"path/filepath"
	"strings"
	"testing"
)

func known(r string) bool { return r == "bad-signature" || r == "untrusted" }

// Issue #13 item 4: the --expect manifest.
func TestParseManifest(t *testing.T) {
	in := "# fixtures\n\nbad.eml fail:bad-signature  # flipped byte\n  good.eml\tpass\nsub/box.mbox#1 fail:untrusted\nsub/box.mbox pass\n"
	m, err := ParseManifest(strings.NewReader(in), "fx", known)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path  string
		index int
		want  string
	}{
		{"fx/bad.eml", -1, "fail:bad-signature"},
		{"bad.eml", -1, "fail:bad-signature"}, // as given
		{"fx/./good.eml", -1, "pass"},
		{"fx/sub/box.mbox", 1, "fail:untrusted"},
		{"fx/sub/box.mbox", 0, "pass"},
		{"other.eml", -1, ""},
		{"fx/sub/other.mbox", 0, ""},
	} {
		e := m.Lookup(tc.path, tc.index)
		got := ""
		if e != nil {
			got = e.String()
		}
		if got != tc.want {
			t.Errorf("Lookup(%q, %d) = %q, want %q", tc.path, tc.index, got, tc.want)
		}
	}
	abs, _ := filepath.Abs("fx/bad.eml")
	if e := m.Lookup(abs, -1); e == nil || e.Reason != "bad-signature" {
		t.Errorf("Lookup(%q): got %v, want fail:bad-signature", abs, e)
	}
	m2, _ := ParseManifest(strings.NewReader(in), "fx", known)
	m2.Lookup("fx/bad.eml", -1)
	var unused []string
	for _, e := range m2.Unused() {
		unused = append(unused, e.Path)
	}
	if strings.Join(unused, " ") != "good.eml sub/box.mbox#1 sub/box.mbox" {
		t.Errorf("Unused: got %v", unused)
	}
}

func TestParseManifestErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a.eml fail:typo\n", `line 1: unknown reason "typo"`},
		{"a.eml\n", "line 1: want"},
		{"a.eml pass extra\n", "line 1: want"},
		{"\na.eml fail\n", `line 2: want pass or fail:REASON, got "fail"`},
		{"a.eml pass\n./a.eml pass\n", `line 2: "./a.eml" is already on line 1`},
	} {
		_, err := ParseManifest(strings.NewReader(tc.in), ".", known)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %s", tc.in, err, tc.want)
		}
	}
}
