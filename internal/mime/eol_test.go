package mime

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// TestLineEnds is issue #15 item 10's conversion: LF input is recognised, and CRLF
// output turns into LF however the writes split it, bare CRs kept.
func TestLineEnds(t *testing.T) {
	for _, tc := range []struct {
		in string
		lf bool
	}{
		{"From: a\nSubject: b\n\nbody\n", true},
		{"From: a\r\nSubject: b\r\n\r\nbody\r\n", false},
		{"\nbody", true},
		{"no line end", false},
		{"", false},
	} {
		if got := LFLineEnds(bufio.NewReader(strings.NewReader(tc.in))); got != tc.lf {
			t.Errorf("LFLineEnds(%q) = %v, want %v", tc.in, got, tc.lf)
		}
	}
	in := []byte("a\r\nb\rc\r\n\r\nd\r")
	want := "a\nb\rc\n\nd\r"
	for split := 0; split <= len(in); split++ {
		var out bytes.Buffer
		w := NewLFWriter(&out)
		w.Write(in[:split])
		w.Write(in[split:])
		w.Close()
		if out.String() != want {
			t.Errorf("split at %d: got %q, want %q", split, out.String(), want)
		}
	}
}
