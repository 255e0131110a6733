package mime

import (
	"bufio"
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"
)

func readHeaderString(s string) (Header, string, error) {
	br := bufio.NewReader(strings.NewReader(s))
	h, err := ReadHeader(br)
	rest, _ := io.ReadAll(br)
	return h, string(rest), err
}

func TestReadHeader(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		fields []string // names in order
		get    map[string]string
		body   string
		out    string // WriteTo output
	}{
		{
			name:   "crlf",
			in:     "From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n",
			fields: []string{"From", "Subject"},
			get:    map[string]string{"from": "a@example.com", "SUBJECT": "hi"},
			body:   "body\r\n",
			out:    "From: a@example.com\r\nSubject: hi\r\n",
		},
		{
			name:   "lf",
			in:     "From: a@example.com\nSubject: hi\n\nbody\n",
			fields: []string{"From", "Subject"},
			get:    map[string]string{"From": "a@example.com"},
			body:   "body\n",
			out:    "From: a@example.com\r\nSubject: hi\r\n",
		},
		{
			name:   "folded",
			in:     "Subject: a\r\n  long\r\n\tsubject  \r\nTo: b\n\n",
			fields: []string{"Subject", "To"},
			get:    map[string]string{"Subject": "a  long\tsubject"},
			out:    "Subject: a\r\n  long\r\n\tsubject  \r\nTo: b\r\n",
		},
		{
			name:   "space before colon",
			in:     "Subject : x\r\n\r\n",
			fields: []string{"Subject"},
			get:    map[string]string{"Subject": "x"},
			out:    "Subject : x\r\n",
		},
		{
			name:   "empty value",
			in:     "X-Empty:\r\n\r\n",
			fields: []string{"X-Empty"},
			get:    map[string]string{"X-Empty": "", "Missing": ""},
			out:    "X-Empty:\r\n",
		},
		{
			name:   "no blank line before eof",
			in:     "From: a\r\nTo: b\r\n",
			fields: []string{"From", "To"},
			out:    "From: a\r\nTo: b\r\n",
		},
		{
			name:   "last line without line end",
			in:     "From: a\r\nTo: b",
			fields: []string{"From", "To"},
			get:    map[string]string{"To": "b"},
			out:    "From: a\r\nTo: b\r\n",
		},
		{
			name:   "folded last line at eof",
			in:     "To: b\r\n c",
			fields: []string{"To"},
			get:    map[string]string{"To": "b c"},
			out:    "To: b\r\n c\r\n",
		},
		{
			name: "empty input",
			in:   "",
		},
		{
			name: "blank line only",
			in:   "\r\nbody",
			body: "body",
		},
		{
			name:   "eight-bit value",
			in:     "Subject: caf\xc3\xa9\n\n",
			fields: []string{"Subject"},
			get:    map[string]string{"Subject": "caf\xc3\xa9"},
			out:    "Subject: caf\xc3\xa9\r\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, body, err := readHeaderString(tc.in)
			if err != nil {
				t.Fatalf("ReadHeader: %v", err)
			}
			if got := h.Fields(); !reflect.DeepEqual(got, tc.fields) && (len(got) != 0 || len(tc.fields) != 0) {
				t.Errorf("fields %q, want %q", got, tc.fields)
			}
			if h.Len() != len(tc.fields) {
				t.Errorf("Len %d, want %d", h.Len(), len(tc.fields))
			}
			for k, v := range tc.get {
				if got := h.Get(k); got != v {
					t.Errorf("Get(%q) = %q, want %q", k, got, v)
				}
			}
			if body != tc.body {
				t.Errorf("body %q, want %q", body, tc.body)
			}
			var out bytes.Buffer
			n, err := h.WriteTo(&out)
			if err != nil || n != int64(out.Len()) {
				t.Fatalf("WriteTo: %d, %v", n, err)
			}
			if out.String() != tc.out {
				t.Errorf("WriteTo wrote %q, want %q", out.String(), tc.out)
			}
		})
	}
}

func TestReadHeaderErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"leading continuation", " folded: x\r\n\r\n", "continuation"},
		{"no colon", "From a@example.com\r\n\r\n", "malformed header line"},
		{"empty name", ": x\r\n\r\n", "malformed header line"},
		{"space in name", "Bad Name: x\r\n\r\n", "malformed header line"},
		{"control in name", "Bad\x01: x\r\n\r\n", "malformed header line"},
		{"mbox from line", "From alice@example.com Mon Jan  1 00:00:00 2024\n\n", "malformed header line"},
		{"too large", "X: " + strings.Repeat("a", MaxHeaderBytes) + "\r\n\r\n", "larger than"},
		{"too large folded", "X: a\r\n" + strings.Repeat(" aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", MaxHeaderBytes/32) + "\r\n", "larger than"},
		{"too many fields", strings.Repeat("X: a\n", MaxHeaderFields+1) + "\n", "more than"},
		// Red team (attack2): a bare CR ends a line for some parsers
		// (Thunderbird), not for this one: "X-A: x<CR>From: ..." would be
		// a From field only there.
		{"bare CR", "X-A: x\rFrom: alice@example.com\r\nFrom: carol@example.com\r\n\r\n", "bare CR"},
		{"bare CR in a continuation line", "Subject: a\r\n b\rFrom: alice@example.com\r\n\r\n", "bare CR"},
		{"CR CR LF", "X-A: x\r\r\nFrom: a@example.com\r\n\r\n", "bare CR"},
		{"bare CR, LF line ends", "X-A: x\rFrom: a@example.com\n\n", "bare CR"},
		{"LF CR LF", "X-A: x\nFrom: a@example.com\n\r\nFrom: b@example.com\r\n\r\n", "LF CR LF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readHeaderString(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "mime: ") {
				t.Errorf("got error %v, want one containing %q", err, tc.want)
			}
		})
	}
	// Exactly at the limits is fine.
	if _, _, err := readHeaderString(strings.Repeat("X: a\n", MaxHeaderFields) + "\n"); err != nil {
		t.Errorf("%d fields: %v", MaxHeaderFields, err)
	}
	line := "X: " + strings.Repeat("a", MaxHeaderBytes-3-2-2) + "\r\n"
	if _, _, err := readHeaderString(line + "\r\n"); err != nil {
		t.Errorf("header of exactly %d bytes: %v", MaxHeaderBytes, err)
	}
}

func TestHeaderEdit(t *testing.T) {
	h, _, err := readHeaderString("Received: one\r\nFrom: a\r\nreceived: two\r\nContent-Type: text/plain\r\nTo: b\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Values("RECEIVED"); !reflect.DeepEqual(got, []string{"one", "two"}) {
		t.Errorf("Values = %q", got)
	}
	tests := []struct {
		name string
		edit func(h *Header)
		want string
	}{
		{"set replaces at first position", func(h *Header) { h.Set("Received", "new") },
			"Received: new\r\nFrom: a\r\nContent-Type: text/plain\r\nTo: b\r\n"},
		{"set appends when absent", func(h *Header) { h.Set("Subject", "s") },
			"Received: one\r\nFrom: a\r\nreceived: two\r\nContent-Type: text/plain\r\nTo: b\r\nSubject: s\r\n"},
		{"del removes all", func(h *Header) { h.Del("received") },
			"From: a\r\nContent-Type: text/plain\r\nTo: b\r\n"},
		{"add appends", func(h *Header) { h.Add("X-A", "1") },
			"Received: one\r\nFrom: a\r\nreceived: two\r\nContent-Type: text/plain\r\nTo: b\r\nX-A: 1\r\n"},
		{"add sanitises line ends", func(h *Header) { h.Del("Received"); h.Add("X-A", "1\r\nBcc: evil@example.com\n\tmore") },
			"From: a\r\nContent-Type: text/plain\r\nTo: b\r\nX-A: 1 Bcc: evil@example.com more\r\n"},
		{"add sanitises name", func(h *Header) { h.Del("Received"); h.Add("X Bad:\n", "v") },
			"From: a\r\nContent-Type: text/plain\r\nTo: b\r\nX-Bad--: v\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := h.Clone()
			tc.edit(&c)
			var out bytes.Buffer
			c.WriteTo(&out)
			if out.String() != tc.want {
				t.Errorf("got %q, want %q", out.String(), tc.want)
			}
		})
	}
	// The edits above worked on copies.
	if h.Len() != 5 {
		t.Errorf("original header changed: %d fields", h.Len())
	}
}

func TestHeaderSplit(t *testing.T) {
	h, _, err := readHeaderString("Received: x\r\nMIME-Version: 1.0\r\nContent-Type: text/plain;\r\n charset=utf-8\r\nFrom: a\r\n" +
		"Content-Transfer-Encoding: 8bit\r\nSubject: s\r\ncontent-disposition: inline\r\nContent: not mime\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	outer, entity := h.Split()
	if got, want := outer.Fields(), []string{"Received", "MIME-Version", "From", "Subject", "Content"}; !reflect.DeepEqual(got, want) {
		t.Errorf("outer %q, want %q", got, want)
	}
	if got, want := entity.Fields(), []string{"Content-Type", "Content-Transfer-Encoding", "content-disposition"}; !reflect.DeepEqual(got, want) {
		t.Errorf("entity %q, want %q", got, want)
	}
	var out bytes.Buffer
	entity.WriteTo(&out)
	if want := "Content-Type: text/plain;\r\n charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\ncontent-disposition: inline\r\n"; out.String() != want {
		t.Errorf("entity bytes %q, want %q", out.String(), want)
	}
	// Editing one half leaves the original alone.
	entity.Set("Content-Type", "application/octet-stream")
	if got := h.Get("Content-Type"); got != "text/plain; charset=utf-8" {
		t.Errorf("original Content-Type %q", got)
	}
}

func TestMediaType(t *testing.T) {
	tests := []struct {
		name    string
		header  string
		mt      string
		params  map[string]string
		wantErr bool
	}{
		{"absent", "Subject: x\r\n\r\n", "text/plain", map[string]string{"charset": "us-ascii"}, false},
		{"folded with params", "Content-Type: Multipart/Signed;\r\n\tprotocol=\"application/pkcs7-signature\";\r\n\tMICALG=sha-256; boundary=\"a b\"\r\n\r\n",
			"multipart/signed", map[string]string{"protocol": "application/pkcs7-signature", "micalg": "sha-256", "boundary": "a b"}, false},
		{"malformed", "Content-Type: /\r\n\r\n", "", nil, true},
		{"duplicate param", "Content-Type: text/plain; a=1; a=2\r\n\r\n", "", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, _, err := readHeaderString(tc.header)
			if err != nil {
				t.Fatal(err)
			}
			mt, params, err := h.MediaType()
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if mt != tc.mt || !reflect.DeepEqual(params, tc.params) && !(len(params) == 0 && len(tc.params) == 0) {
				t.Errorf("got %q %v, want %q %v", mt, params, tc.mt, tc.params)
			}
		})
	}
}

func TestFromAddress(t *testing.T) {
	tests := []struct {
		from    string
		want    string
		wantErr bool
	}{
		{"Alice <Alice@Example.COM>", "Alice@example.com", false},
		{"bob@EXAMPLE.net", "bob@example.net", false},
		{"\"Doe, John\" <john@example.org>, other@example.org", "john@example.org", false},
		{"=?utf-8?q?J=C3=BCrgen?= <j@example.de>", "j@example.de", false},
		{"", "", true},
		{"not an address", "", true},
		{"<@>", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.from, func(t *testing.T) {
			var h Header
			if tc.from != "" {
				h.Add("From", tc.from)
			}
			got, err := FromAddress(h)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestHeaderClone(t *testing.T) {
	var h Header
	h.Add("A", "1")
	h.Add("B", "2") // leaves spare capacity that copies would share
	c1, c2 := h.Clone(), h.Clone()
	c1.Add("C", "from c1")
	c2.Add("C", "from c2")
	c1.Set("A", "changed")
	if got := c1.Get("C"); got != "from c1" {
		t.Errorf("c1 C = %q, want %q", got, "from c1")
	}
	if h.Len() != 2 || h.Get("A") != "1" {
		t.Errorf("original changed: %d fields, A=%q", h.Len(), h.Get("A"))
	}
}
