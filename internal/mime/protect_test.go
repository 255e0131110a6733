package mime

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func header(t *testing.T, s string) Header {
	t.Helper()
	h, err := ReadHeader(bufio.NewReader(strings.NewReader(s)))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func text(h Header) string {
	var b bytes.Buffer
	h.WriteTo(&b)
	return b.String()
}

func TestProtect(t *testing.T) {
	msg := "From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nBcc: eve@example.com\r\n" +
		"Subject: Plans\r\nKeywords: secret\r\nMIME-Version: 1.0\r\n"
	tests := []struct {
		name       string
		msg        string
		opts       ProtectOptions
		wantOuter  string
		wantEntity string
		wantErr    string
	}{
		{
			name: "signed", msg: msg + "Content-Type: text/plain; charset=utf-8\r\n",
			wantOuter: "From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nBcc: eve@example.com\r\nSubject: Plans\r\nKeywords: secret\r\nMIME-Version: 1.0\r\n",
			wantEntity: "From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nSubject: Plans\r\nKeywords: secret\r\n" +
				"Content-Type: text/plain; charset=utf-8; hp=\"clear\"\r\n",
		},
		{
			name: "encrypted", msg: msg + "Content-Type: multipart/mixed; boundary=\"b 1\"\r\nContent-Transfer-Encoding: 7bit\r\n",
			opts:      ProtectOptions{Encrypted: true},
			wantOuter: "From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nBcc: eve@example.com\r\nSubject: [...]\r\nMIME-Version: 1.0\r\n",
			wantEntity: "From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nSubject: Plans\r\nKeywords: secret\r\n" +
				"HP-Outer: From: Alice <alice@example.com>\r\nHP-Outer: To: bob@example.com\r\nHP-Outer: Subject: [...]\r\n" +
				"Content-Type: multipart/mixed; boundary=\"b 1\"; hp=\"cipher\"\r\nContent-Transfer-Encoding: 7bit\r\n",
		},
		{
			name: "encrypted, subject kept, no content type", msg: msg,
			opts:      ProtectOptions{Encrypted: true, KeepSubject: true},
			wantOuter: "From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nBcc: eve@example.com\r\nSubject: Plans\r\nMIME-Version: 1.0\r\n",
			wantEntity: "From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nSubject: Plans\r\nKeywords: secret\r\n" +
				"HP-Outer: From: Alice <alice@example.com>\r\nHP-Outer: To: bob@example.com\r\nHP-Outer: Subject: Plans\r\n" +
				"Content-Type: text/plain; charset=us-ascii; hp=\"cipher\"\r\n",
		},
		{name: "protected already", msg: msg + "Content-Type: text/plain; hp=clear\r\n", wantErr: "protected already"},
		{name: "bad content type", msg: msg + "Content-Type: text/\r\n", wantErr: "malformed Content-Type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := header(t, tc.msg+"\r\n")
			before := text(h)
			outer, entity := h.Split()
			o, e, err := Protect(outer, entity, tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := text(o); got != tc.wantOuter {
				t.Errorf("outer:\ngot  %q\nwant %q", got, tc.wantOuter)
			}
			if got := text(e); got != tc.wantEntity {
				t.Errorf("entity:\ngot  %q\nwant %q", got, tc.wantEntity)
			}
			if text(h) != before {
				t.Errorf("Protect changed its input")
			}
			// What was written reads back with no differences.
			p := ReadProtection(o, e)
			if p == nil || p.HP != map[bool]string{false: HPClear, true: HPCipher}[tc.opts.Encrypted] {
				t.Fatalf("read back %+v", p)
			}
			for _, d := range p.Differences {
				if IsFault(d) {
					t.Errorf("fresh message has difference %+v", d)
				}
			}
		})
	}
}

func TestReadProtection(t *testing.T) {
	clearEntity := "From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nSubject: Plans\r\nContent-Type: text/plain; hp=clear\r\n"
	cipherEntity := "From: Alice <alice@example.com>\r\nSubject: Plans\r\nComments: c\r\n" +
		"HP-Outer: From: Alice <alice@example.com>\r\nHP-Outer:Subject:[...]\r\nContent-Type: text/plain; hp=\"cipher\"\r\n"
	tests := []struct {
		name, outer, entity string
		want                string // field:kind ...
	}{
		{"clear, same", "From: alice@example.com\r\nTo: bob@example.com\r\nSubject:  Plans\r\nReceived: x\r\nX-Spam: yes\r\n", clearEntity, ""},
		{"clear, changed", "From: mallory@example.com\r\nTo: bob@example.com\r\nSubject: Other\r\n", clearEntity, "From:changed Subject:changed"},
		{"clear, missing and added", "From: alice@example.com\r\nSubject: Plans\r\nCc: eve@example.com\r\n", clearEntity, "To:missing Cc:added"},
		{"cipher, as sent", "From: Alice <alice@example.com>\r\nSubject: [...]\r\n", cipherEntity, "Subject:obscured Comments:removed"},
		{"cipher, changed in transit", "From: Alice <alice@example.com>\r\nSubject: Hello\r\nTo: eve@example.com\r\n", cipherEntity, "Subject:changed Comments:removed To:added"},
		{"cipher, removed in transit", "Subject: [...]\r\n", cipherEntity, "From:missing Subject:obscured Comments:removed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := ReadProtection(header(t, tc.outer+"\r\n"), header(t, tc.entity+"\r\n"))
			if p == nil {
				t.Fatal("no protection read")
			}
			var got []string
			for _, d := range p.Differences {
				got = append(got, d.Field+":"+d.Kind)
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("got %q, want %q", strings.Join(got, " "), tc.want)
			}
		})
	}
	if p := ReadProtection(Header{}, header(t, "Subject: x\r\nContent-Type: text/plain\r\n\r\n")); p != nil {
		t.Errorf("got %+v for an entity without hp", p)
	}
	// HP-Outer means nothing in a payload that was only signed.
	p := ReadProtection(Header{}, header(t, "Subject: x\r\nHP-Outer: Subject: y\r\nContent-Type: text/plain; hp=clear\r\n\r\n"))
	if p == nil || len(p.Outer) != 0 || len(p.Fields) != 1 {
		t.Errorf("got %+v", p)
	}
}

func TestWriteEffective(t *testing.T) {
	outer := header(t, "Received: from a\r\nFrom: Alice <alice@example.com>\r\nSubject: [...]\r\nMIME-Version: 1.0\r\nX-Filter: ok\r\nCc: eve@example.com\r\n\r\n")
	payload := "MIME-Version: 1.0\r\nFrom: Alice <alice@example.com>\r\nSubject: Plans\r\nHP-Outer: Subject: [...]\r\n" +
		"Content-Type: text/plain; hp=\"cipher\"\r\n\r\nbody\r\n"
	var b bytes.Buffer
	if err := WriteEffective(&b, outer, strings.NewReader(payload)); err != nil {
		t.Fatal(err)
	}
	// Cc was not protected: an unprotected addressee is dropped, not trusted.
	want := "Received: from a\r\nMIME-Version: 1.0\r\nX-Filter: ok\r\nFrom: Alice <alice@example.com>\r\nSubject: Plans\r\n" +
		"Content-Type: text/plain; hp=\"cipher\"\r\n\r\nbody\r\n"
	if b.String() != want {
		t.Errorf("got  %q\nwant %q", b.String(), want)
	}
}

// BenchmarkReadProtection reads the protection of payloads of growing
// field counts, up to the most a header may have: time per field should
// stay flat (the comparison looks only at the dozen user-facing names).
func BenchmarkReadProtection(b *testing.B) {
	for _, n := range []int{10, 1000, MaxHeaderFields - 1} {
		var sb strings.Builder
		for i := range n {
			fmt.Fprintf(&sb, "X-F%d: v\r\n", i)
		}
		sb.WriteString("Content-Type: text/plain; hp=clear\r\n\r\n")
		entity, err := ReadHeader(bufio.NewReader(strings.NewReader(sb.String())))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("fields=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if p := ReadProtection(entity, entity); p == nil || len(p.Fields) != n {
					b.Fatal("protection not read")
				}
			}
		})
	}
}
