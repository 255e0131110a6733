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

// lfReference is CRLF to LF over a whole stream, a byte at a time: what
// NewLFWriter must write however the stream is split into writes.
func lfReference(in []byte) []byte {
	var out []byte
	for i := 0; i < len(in); i++ {
		if in[i] == '\r' && i+1 < len(in) && in[i+1] == '\n' {
			continue
		}
		out = append(out, in[i])
	}
	return out
}

// FuzzLFWriter holds the run-at-a-time lfWriter (issue #13, large
// messages) to the byte-by-byte conversion of the whole stream, for any
// split into writes, empty ones included.
func FuzzLFWriter(f *testing.F) {
	f.Add([]byte("a\r\nb\rc\r\n\r\nd\r"), []byte{1, 0, 3})
	f.Add([]byte("\r\r\n\r"), []byte{0, 1, 0, 1})
	// An empty write between a CR and its LF: the old writer let the CR go.
	f.Add([]byte("a\r\nb"), []byte{2, 0})
	f.Add([]byte(strings.Repeat("line\r\n", 100)), []byte{7, 200, 13})
	f.Fuzz(func(t *testing.T, in, splits []byte) {
		var out bytes.Buffer
		w := NewLFWriter(&out)
		rest := in
		for _, s := range splits {
			n := min(int(s), len(rest))
			if n2, err := w.Write(rest[:n]); n2 != n || err != nil {
				t.Fatalf("Write = %d, %v; want %d, nil", n2, err, n)
			}
			rest = rest[n:]
		}
		w.Write(rest)
		w.Close()
		if want := lfReference(in); !bytes.Equal(out.Bytes(), want) {
			t.Fatalf("splits %v of %q: got %q, want %q", splits, in, out.Bytes(), want)
		}
	})
}
