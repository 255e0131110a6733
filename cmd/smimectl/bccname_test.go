package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestBccFileName (issue #11 item 16): the file name of a Bcc recipient's
// message comes from a header address an attacker may choose; it must stay
// in --out-dir, be bounded, and differ for different addresses.
func TestBccFileName(t *testing.T) {
	long := strings.Repeat("a", 300) + "@example.com"
	tests := []struct {
		addr string
		want string // "" when only the properties are checked
	}{
		{"carol@example.com", "bcc-carol@example.com.eml"},
		{"first.last+tag@sub-domain.example.com", "bcc-first.last+tag@sub-domain.example.com.eml"},
		{"../../x@example.com", "bcc-.._.._x@example.com~"},
		{"/etc/passwd@x", "bcc-_etc_passwd@x~"},
		{"a/b@example.com", ""},
		{`a\b@example.com`, ""},
		{"..", "bcc-..~"},
		{".hidden@example.com", ""},
		{"", "bcc-~"},
		{"nul\x00@example.com", ""},
		{"new\nline@example.com", ""},
		{"Ünïcode@exämple.com", "bcc-_n_code@ex_mple.com~"},
		{"\u212a@example.com", ""}, // KELVIN SIGN, which lowercases to "k"
		{"k@example.com", "bcc-k@example.com.eml"},
		{"Carol@example.com", "bcc-carol@example.com~"},
		{long, "bcc-" + strings.Repeat("a", 64) + "~"},
		{long + "x", "bcc-" + strings.Repeat("a", 64) + "~"},
		{strings.Repeat("b", 64), "bcc-" + strings.Repeat("b", 64) + ".eml"},
		{strings.Repeat("b", 65), "bcc-" + strings.Repeat("b", 64) + "~"},
		// Different addresses that transform to the same text.
		{"a:b@example.com", "bcc-a_b@example.com~"},
		{"a;b@example.com", "bcc-a_b@example.com~"},
		{"a b@example.com", "bcc-a_b@example.com~"},
		{"a_b@example.com", "bcc-a_b@example.com.eml"},
		// A plain address that looks like a transformed one.
		{"a_b@example.com~0123456789abcdef", ""},
	}
	safe := regexp.MustCompile(`^bcc-[a-z0-9._@+-]{0,64}(~[0-9a-f]{16})?\.eml$`)
	seen := map[string]string{}
	for _, tc := range tests {
		name := bccFileName(tc.addr)
		if tc.want != "" && !strings.HasPrefix(name, tc.want) || strings.HasSuffix(tc.want, ".eml") && name != tc.want {
			t.Errorf("bccFileName(%q) = %q, want %q...", tc.addr, name, tc.want)
		}
		if !safe.MatchString(name) || strings.ContainsAny(name, `/\`) || len(name) > 4+64+1+16+4 {
			t.Errorf("bccFileName(%q) = %q: not a safe file name", tc.addr, name)
		}
		if bccFileName(tc.addr) != name {
			t.Errorf("bccFileName(%q) is not deterministic", tc.addr)
		}
		if other, ok := seen[name]; ok {
			t.Errorf("bccFileName(%q) = bccFileName(%q) = %q", tc.addr, other, name)
		}
		seen[name] = tc.addr
	}
}
