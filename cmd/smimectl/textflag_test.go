package main

import (
	"encoding"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/smimectl/smimectl/pkg/directory"
	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/sign"
)

// textEnum is a library type the flags bind with TextVar.
type textEnum interface {
	encoding.TextMarshaler
	encoding.TextUnmarshaler
}

// TestTextEnumFlags (issue #17 item 4): each library type the CLI binds with
// TextVar reads every value its flag lists and writes it back unchanged, refuses
// another with an error that names its package once, and the flag keeps the
// enum flags' help type and error.
func TestTextEnumFlags(t *testing.T) {
	tests := []struct {
		name    string
		p       textEnum
		def     encoding.TextMarshaler
		allowed []string
		prefix  string
	}{
		{"sign mode", new(sign.Mode), sign.Clear, signModes, "sign: unknown mode "},
		{"sign include", new(sign.Include), sign.IncludeChain, includes, "sign: unknown certificate set "},
		{"revocation mode", new(revocation.Mode), revocation.Soft, []string{"soft", "hard", "off"}, "revocation: unknown mode "},
		{"directory only", new(directory.Only), directory.OnlyUntrusted, []string{"untrusted", "expired", "all"}, "directory: unknown selection "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range tc.allowed {
				if err := tc.p.UnmarshalText([]byte(v)); err != nil {
					t.Fatalf("UnmarshalText(%q): %v", v, err)
				}
				if got, _ := tc.p.MarshalText(); string(got) != v {
					t.Errorf("MarshalText after UnmarshalText(%q) = %q", v, got)
				}
			}
			err := tc.p.UnmarshalText([]byte("Bogus"))
			if err == nil || !strings.HasPrefix(err.Error(), tc.prefix+`"Bogus" (want `) || strings.Count(err.Error(), ":") != 1 {
				t.Errorf("UnmarshalText(Bogus) = %v, want %s\"Bogus\" (want ...)", err, tc.prefix)
			}
			fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
			f := textEnumFlag(fs, tc.p, "flag", tc.def, tc.allowed, "usage")
			if want := "{" + strings.Join(tc.allowed, "|") + "}"; f.Value.Type() != want {
				t.Errorf("help type %q, want %q", f.Value.Type(), want)
			}
			if def, _ := tc.def.MarshalText(); f.DefValue != string(def) {
				t.Errorf("default %q, want %q", f.DefValue, def)
			}
			want := `invalid argument "Bogus" for "--flag" flag: want one of ` + strings.Join(tc.allowed, ", ")
			if err := fs.Set("flag", "Bogus"); err == nil || err.Error() != want {
				t.Errorf("Set(Bogus) = %v, want %q", err, want)
			}
			last := tc.allowed[len(tc.allowed)-1]
			if err := fs.Set("flag", last); err != nil || f.Value.String() != last {
				t.Errorf("Set(%q) = %v, value %q", last, err, f.Value.String())
			}
		})
	}
}
