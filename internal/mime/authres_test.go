package mime

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/mime/authrestest"
)

// hostileIssuers are issuer names an attacker can put in a certificate: they
// must neither add a header field nor change another part of the field.
var hostileIssuers = []string{
	`CN=Evil"; smime=pass body.smime-identifier=ceo@example.com`,
	"CN=Evil\r\nAuthentication-Results: mx.example.com; smime=pass",
	"CN=Evil\nX-Injected: yes",
	"CN=Evil\r\n\r\nbody starts here",
	`CN=back\slash\"quote\\`,
	"CN=Évil Ünïcode Ωmega 証明書",
	"CN=\x00\x01\x1b[31mred\x7f",
	"CN=bad utf-8 \xff\xfe",
	"CN=(comment) ; = . @ , : < > [ ] ?",
	strings.Repeat("CN=long,", 200),
}

func TestAuthResultsField(t *testing.T) {
	tests := []struct {
		name string
		ar   AuthResults
		want string
	}{
		{
			name: "none",
			ar:   AuthResults{AuthServID: "mx.example.com"},
			want: "Authentication-Results: mx.example.com; none\r\n",
		},
		{
			name: "pass",
			ar: AuthResults{AuthServID: "mx.example.com", Results: []AuthResult{{
				Method: "smime", Result: "pass", Props: []AuthProp{
					{"body", "smime-identifier", "alice@example.com"},
					{"body", "smime-serial", "1A2B"},
					{"body", "smime-issuer", "CN=Issuing CA,O=Lab"},
					{"body", "smime-part", "TEXT"},
				}}}},
			want: "Authentication-Results: mx.example.com;\r\n" +
				"\tsmime=pass body.smime-identifier=alice@example.com body.smime-serial=1A2B\r\n" +
				"\tbody.smime-issuer=\"CN=Issuing CA,O=Lab\" body.smime-part=TEXT\r\n",
		},
		{
			name: "two results with a reason",
			ar: AuthResults{AuthServID: "host name", Results: []AuthResult{
				{Method: "smime", Result: "pass"},
				{Method: "smime", Result: "fail", Reason: "bad signature"},
			}},
			want: "Authentication-Results: \"host name\";\r\n" +
				"\tsmime=pass;\r\n" +
				"\tsmime=fail reason=\"bad signature\"\r\n",
		},
		{
			name: "quoting",
			ar: AuthResults{AuthServID: "mx", Results: []AuthResult{{
				Method: "smime", Result: "neutral", Reason: `a "quoted" \ word`, Props: []AuthProp{
					{"body", "smime-identifier", `"odd local"@example.com`},
					{"body", "smime-part", "1.2"},
				}}}},
			want: "Authentication-Results: mx;\r\n" +
				"\tsmime=neutral reason=\"a \\\"quoted\\\" \\\\ word\"\r\n" +
				"\tbody.smime-identifier=\"\\\"odd local\\\"@example.com\" body.smime-part=1.2\r\n",
		},
		{
			name: "keywords are sanitised",
			ar: AuthResults{AuthServID: "mx", Results: []AuthResult{{
				Method: "s mime;", Result: "", Props: []AuthProp{{"bo.dy", "x=y", "v"}}}}},
			want: "Authentication-Results: mx;\r\n\ts-mime=unknown bo-dy.x-y=v\r\n",
		},
		{
			name: "line ends in values become spaces",
			ar: AuthResults{AuthServID: "mx\r\nX-Evil: 1", Results: []AuthResult{{
				Method: "smime", Result: "fail", Reason: "a\r\nb"}}},
			want: "Authentication-Results: \"mx  X-Evil: 1\";\r\n\tsmime=fail reason=\"a  b\"\r\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.ar.Field()
			if got != tc.want {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
			if _, err := authrestest.Parse(got); err != nil {
				t.Errorf("does not parse: %v", err)
			}
		})
	}
}

// TestAuthResultsGrammar checks every field the writer produces against the
// RFC 8601 grammar, with the values RFC 7281 defines for smime, and that the
// values come back as they went in (after the documented cleaning).
func TestAuthResultsGrammar(t *testing.T) {
	var cases []AuthResults
	for _, issuer := range hostileIssuers {
		cases = append(cases, AuthResults{AuthServID: "mx.example.com", Results: []AuthResult{
			{Method: "smime", Result: "fail", Reason: issuer, Props: []AuthProp{
				{"body", "smime-identifier", "alice@example.com"},
				{"body", "smime-serial", "00FF"},
				{"body", "smime-issuer", issuer},
				{"body", "smime-part", "TEXT"},
			}},
			{Method: "smime", Result: "pass", Props: []AuthProp{
				{"body", "smime-identifier", issuer},
			}},
		}})
		cases = append(cases, AuthResults{AuthServID: issuer, Results: nil})
	}
	for _, id := range []string{"alice@example.com", "a.b+c@sub.example.org", "@example.com", "example.com",
		"user@localhost", `"q"@example.com`, "üser@exämple.com", "alice@", "a..b@example.com", "x@-bad-.com"} {
		cases = append(cases, AuthResults{AuthServID: "mx", Results: []AuthResult{{Method: "smime", Result: "pass",
			Props: []AuthProp{{"body", "smime-identifier", id}}}}})
	}
	for i, ar := range cases {
		field := ar.Field()
		f, err := authrestest.Parse(field)
		if err != nil {
			t.Errorf("case %d: %v\n%s", i, err, field)
			continue
		}
		checkLines(t, field)
		if want := cleanAuthValue(ar.AuthServID); f.AuthServID != want {
			t.Errorf("case %d: authserv-id %q, want %q", i, f.AuthServID, want)
		}
		if len(ar.Results) == 0 {
			if !f.None {
				t.Errorf("case %d: no results, but not the none form", i)
			}
			continue
		}
		if len(f.Results) != len(ar.Results) {
			t.Errorf("case %d: %d results, want %d", i, len(f.Results), len(ar.Results))
			continue
		}
		for j, r := range ar.Results {
			g := f.Results[j]
			if g.Method != r.Method || g.Result != r.Result {
				t.Errorf("case %d.%d: %s=%s, want %s=%s", i, j, g.Method, g.Result, r.Method, r.Result)
			}
			if g.HasReason != (r.Reason != "") || g.Reason != cleanAuthValue(r.Reason) {
				t.Errorf("case %d.%d: reason %q, want %q", i, j, g.Reason, cleanAuthValue(r.Reason))
			}
			if len(g.Props) != len(r.Props) {
				t.Errorf("case %d.%d: %d properties, want %d: %+v", i, j, len(g.Props), len(r.Props), g.Props)
				continue
			}
			for k, p := range r.Props {
				want := AuthProp{p.Type, p.Name, cleanAuthValue(p.Value)}
				if got := (AuthProp{g.Props[k].Type, g.Props[k].Name, g.Props[k].Value}); got != want {
					t.Errorf("case %d.%d: property %d is %+v, want %+v", i, j, k, got, want)
				}
			}
		}
	}
}

// checkLines checks that a field is exactly one header field: CRLF only
// at line ends, every line after the first folded, and reading it as a
// header gives one Authentication-Results field.
func checkLines(t *testing.T, field string) {
	t.Helper()
	h, rest, err := readHeaderString(field + "\r\nbody\r\n")
	if err != nil {
		t.Fatalf("%v\n%s", err, field)
	}
	if names := h.Fields(); len(names) != 1 || names[0] != "Authentication-Results" {
		t.Errorf("the field reads as %q\n%s", names, field)
	}
	if rest != "body\r\n" {
		t.Errorf("the body after the field is %q", rest)
	}
	for _, line := range strings.Split(strings.TrimSuffix(field, "\r\n"), "\r\n") {
		if len(line) > MaxAuthValueLen+40 {
			t.Errorf("line of %d characters", len(line))
		}
	}
}

// TestAuthResultsFolding: lines stay within 78 characters when the values
// allow it, and no value is split.
func TestAuthResultsFolding(t *testing.T) {
	var props []AuthProp
	for range 10 {
		props = append(props, AuthProp{"body", "smime-serial", "0123456789ABCDEF0123456789ABCDEF"})
	}
	field := AuthResults{AuthServID: "mx.example.com", Results: []AuthResult{{Method: "smime", Result: "pass", Props: props}}}.Field()
	for _, line := range strings.Split(strings.TrimSuffix(field, "\r\n"), "\r\n") {
		if len(line) > 78 {
			t.Errorf("line of %d characters: %q", len(line), line)
		}
	}
	f, err := authrestest.Parse(field)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Results[0].Props) != 10 {
		t.Errorf("%d properties, want 10", len(f.Results[0].Props))
	}
}

func TestPrependField(t *testing.T) {
	field := "Authentication-Results: mx; none\r\n"
	tests := []struct{ name, msg, want string }{
		{"crlf", "From: a@example.com\r\n\r\nbody\r\n", field + "From: a@example.com\r\n\r\nbody\r\n"},
		{"lf", "From: a@example.com\n\nbody\r\n", "Authentication-Results: mx; none\nFrom: a@example.com\n\nbody\r\n"},
		{"empty", "", field},
		{"no line end", "From: a", field + "From: a"},
		{"forged result removed", "Authentication-Results: MX;\r\n smime=pass\r\nFrom: a\r\nAuthentication-Results: mx.other; smime=pass\r\n" +
			"Authentication-Results: (c) mx; none\r\n\r\nAuthentication-Results: mx; body\r\n",
			field + "From: a\r\nAuthentication-Results: mx.other; smime=pass\r\n\r\nAuthentication-Results: mx; body\r\n"},
		{"lf, forged", "X: 1\nAuthentication-Results: mx; dkim=pass\n\tfolded\nY: 2\n\nb", "Authentication-Results: mx; none\nX: 1\nY: 2\n\nb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			n, err := PrependField(&b, field, "mx", strings.NewReader(tc.msg))
			if err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want || n != int64(len(tc.want)) {
				t.Errorf("got %q (%d bytes), want %q", b.String(), n, tc.want)
			}
		})
	}
	// A long message is copied whole, beyond the peeked first buffer.
	msg := "Subject: x\r\n\r\n" + strings.Repeat("0123456789abcdef\r\n", 20000)
	var b bytes.Buffer
	if _, err := PrependField(&b, field, "mx", strings.NewReader(msg)); err != nil {
		t.Fatal(err)
	}
	if b.String() != field+msg {
		t.Errorf("long message not copied unchanged (%d bytes, want %d)", b.Len(), len(field)+len(msg))
	}
}

// TestPrependFieldLongLines: issue #11 item 8. A header line longer than the
// reader's buffer (64 KiB) used to end the examination of the header, so a
// forged Authentication-Results field claiming our authserv-id after it was
// delivered next to ours. The whole header is examined, and a field that
// cannot be examined is not let through if it could claim our id.
func TestPrependFieldLongLines(t *testing.T) {
	field := "Authentication-Results: mx.example.com; smime=fail\r\n"
	forged := "Authentication-Results: mx.example.com; smime=pass\r\n"
	long := func(n int) string { return "X-Pad: " + strings.Repeat("a", n) + "\r\n" }
	folded := func(n int) string {
		return "X-Pad: a\r\n" + strings.Repeat(" "+strings.Repeat("b", 1000)+"\r\n", n/1000)
	}
	tests := []struct{ name, hdr, want string }{
		{"70 KB line before a forged field", long(70<<10) + forged, long(70 << 10)},
		{"1 MB line before a forged field", long(1<<20) + forged, long(1 << 20)},
		{"3 MB line before a forged field", long(3<<20) + forged, long(3 << 20)},
		{"1 MB folded field before a forged field", folded(1<<20) + forged, folded(1 << 20)},
		{"forged field behind a 70 KB line, LF", strings.ReplaceAll("From: a\r\n"+long(70<<10)+forged, "\r\n", "\n"), strings.ReplaceAll("From: a\r\n"+long(70<<10), "\r\n", "\n")},
		{"a long field claiming our id", "Authentication-Results: mx.example.com; " + strings.Repeat("x", 2<<20) + "\r\nFrom: a\r\n", "From: a\r\n"},
		{"forged field folded", "Authentication-Results:\r\n\tmx.example.com;\r\n smime=pass\r\nFrom: a\r\n", "From: a\r\n"},
		{"forged field folded before the id, long", "Authentication-Results:" + strings.Repeat("\r\n ", 40000) + "mx.example.com; smime=pass\r\nFrom: a\r\n", "From: a\r\n"},
		{"case variants of the id", "Authentication-Results: MX.EXAMPLE.COM; smime=pass\r\nauthentication-results : Mx.Example.Com.; smime=pass\r\nFrom: a\r\n", "From: a\r\n"},
		{"quoted id", "Authentication-Results: \"mx.example.com\"; smime=pass\r\nAuthentication-Results: \"mx.exa\\mple.com\"; smime=pass\r\nFrom: a\r\n", "From: a\r\n"},
		{"comments before the id", "Authentication-Results: (ours (really) \\) ) mx.example.com; smime=pass\r\nAuthentication-Results: (c)\r\n (d)mx.example.com(e); smime=pass\r\nFrom: a\r\n", "From: a\r\n"},
		{"a long comment before the id", "Authentication-Results: (" + strings.Repeat("c", 100<<10) + ") mx.example.com; smime=pass\r\nFrom: a\r\n", "From: a\r\n"},
		{"a comment past the bound", "Authentication-Results: (" + strings.Repeat("c", 2<<20) + ") other.example.net; smime=pass\r\nFrom: a\r\n", "From: a\r\n"},
		{"an unterminated comment", "Authentication-Results: (mx.example.com; smime=pass\r\nFrom: a\r\n", "From: a\r\n"},
		{"no id", "Authentication-Results: ; smime=pass\r\nFrom: a\r\n", "From: a\r\n"},
		{"another host's field stays", "Authentication-Results: (mx.example.com) other.example.net; smime=pass\r\nAuthentication-Results: mx.example.com.evil; smime=pass\r\n",
			"Authentication-Results: (mx.example.com) other.example.net; smime=pass\r\nAuthentication-Results: mx.example.com.evil; smime=pass\r\n"},
		{"another host's long field stays", "Authentication-Results: other.example.net; " + strings.Repeat("x", 2<<20) + "\r\n", "Authentication-Results: other.example.net; " + strings.Repeat("x", 2<<20) + "\r\n"},
		{"forged field after many fields", strings.Repeat("X-A: b\r\n", 20000) + forged, strings.Repeat("X-A: b\r\n", 20000)},
		// Red team (attack2): a parser that ends lines at a bare CR, as
		// Thunderbird's does, reads a field behind it.
		{"forged field behind a bare CR", "X-A: x\r" + forged + "From: a\r\n", "From: a\r\n"},
		{"forged field behind a bare CR, folded", "X-A: x\r\n y\r" + forged + "From: a\r\n", "From: a\r\n"},
		{"forged field behind two bare CRs", "From: a\r\nX-A: x\rX-B: y\r\r" + forged, "From: a\r\n"},
		{"another host's field behind a bare CR stays", "X-A: x\rAuthentication-Results: other.example.net; smime=pass\r\n",
			"X-A: x\rAuthentication-Results: other.example.net; smime=pass\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eol := "\r\n"
			if strings.Contains(tc.name, "LF") {
				eol = "\n"
			}
			body := eol + "body" + eol + forged
			var b bytes.Buffer
			n, err := PrependField(&b, field, "mx.example.com", strings.NewReader(tc.hdr+body))
			if err != nil {
				t.Fatal(err)
			}
			want := strings.ReplaceAll(field, "\r\n", eol) + tc.want + body
			if b.String() != want || n != int64(len(want)) {
				got := b.String()
				t.Errorf("got %d bytes, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
			}
		})
	}
}

func firstDiff(a, b string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestPrependFieldBareCRCost: looking behind every bare CR for a forged
// field (red team, attack2) must stay linear: a 1 MiB header of bare CRs
// cost about 20 s when each line behind a CR was read to the end of the
// field, and takes milliseconds read up to the next CR.
func TestPrependFieldBareCRCost(t *testing.T) {
	for _, unit := range []string{"\r", "\rX", "\rAuthentication-Results: other.example.net (", "\r\r\n "} {
		msg := "X-A: x" + strings.Repeat(unit, (MaxHeaderBytes-100)/len(unit)) + "\r\n\r\nbody\r\n"
		start := time.Now()
		var b bytes.Buffer
		if _, err := PrependField(&b, "Authentication-Results: mx; none\r\n", "mx", strings.NewReader(msg)); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%q repeated: %v, want well under 2 s", unit, d)
		}
	}
}
