package authrestest

import (
	"reflect"
	"testing"
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		name  string
		field string
		want  *Field
	}{
		{"none", "Authentication-Results: example.org; none\r\n",
			&Field{AuthServID: "example.org", None: true}},
		{"version and comment", "authentication-results: example.com 1 (checked here); spf=pass smtp.mailfrom=example.net\r\n",
			&Field{AuthServID: "example.com", Version: "1", Results: []Result{{Method: "spf", Result: "pass",
				Props: []Prop{{"smtp", "mailfrom", "example.net"}}}}}},
		{"folded, two results, reason", "Authentication-Results: mx.example.com;\r\n" +
			"  dkim=pass reason=\"good signature\"\r\n\theader.i=@mail-router.example.net;\r\n" +
			"  smime/1=fail (bad) body.smime-issuer=\"CN=a\\\\, b\" body.smime-part=TEXT\r\n",
			&Field{AuthServID: "mx.example.com", Results: []Result{
				{Method: "dkim", Result: "pass", Reason: "good signature", HasReason: true,
					Props: []Prop{{"header", "i", "@mail-router.example.net"}}},
				{Method: "smime", MethodVersion: "1", Result: "fail",
					Props: []Prop{{"body", "smime-issuer", `CN=a\, b`}, {"body", "smime-part", "TEXT"}}},
			}}},
		{"quoted authserv-id, address", "Authentication-Results: \"my host\"; smime=pass body.smime-identifier=a.b+c@example.com\r\n",
			&Field{AuthServID: "my host", Results: []Result{{Method: "smime", Result: "pass",
				Props: []Prop{{"body", "smime-identifier", "a.b+c@example.com"}}}}}},
		{"UTF-8 in a quoted-string", "Authentication-Results: mx; smime=pass body.smime-issuer=\"CN=Ωmega\"\r\n",
			&Field{AuthServID: "mx", Results: []Result{{Method: "smime", Result: "pass",
				Props: []Prop{{"body", "smime-issuer", "CN=Ωmega"}}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.field)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	for _, field := range []string{
		"Received: x\r\n",
		"Authentication-Results: mx; none",                                  // no CRLF
		"Authentication-Results: mx\r\n",                                    // no result
		"Authentication-Results: mx smime=pass\r\n",                         // no ";"
		"Authentication-Results: mx; smime=\r\n",                            // no result
		"Authentication-Results: mx; smime=pass;\r\n",                       // empty resinfo
		"Authentication-Results: mx; smime=pass reason=a b\r\n",             // unquoted space
		"Authentication-Results: mx; smime=pass reason=\"open\r\n",          // unterminated
		"Authentication-Results: mx; smime=pass smime-serial=1\r\n",         // no ptype
		"Authentication-Results: mx; smime=pass body.smime-issuer=CN=a\r\n", // "=" is a tspecial
		"Authentication-Results: mx; smime=pass\r\nX-Evil: 1\r\n",           // a second field
		"Authentication-Results: mx; smime=pass\nX-Evil: 1\r\n",             // bare LF
		"Authentication-Results: mx; smime=pass reason=\"a\x01\"\r\n",       // control character
		"Authentication-Results: mx; smime=pass reason=\"\xff\"\r\n",        // not UTF-8
		"Authentication-Results: mx; smime=pass (unclosed\r\n",
		"Authentication-Results: mx; smime-=pass\r\n", // Keyword ends in a hyphen
		"Authentication-Results: mx; smime=pass body.smime-identifier=a@b@example.com\r\n",
	} {
		if f, err := Parse(field); err == nil {
			t.Errorf("%q parsed as %+v", field, f)
		}
	}
}

func TestFind(t *testing.T) {
	msg := "Authentication-Results: a; none\nAuthentication-Results: b;\n\tsmime=pass\nFrom: x\n\nAuthentication-Results: c; none\n"
	got := Find(msg)
	want := []string{"Authentication-Results: a; none\r\n", "Authentication-Results: b;\r\n\tsmime=pass\r\n"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
