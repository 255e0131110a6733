package mime

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestCanonicalWriter(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"lf", "a\nb\n", "a\r\nb\r\n"},
		{"crlf kept", "a\r\nb\r\n", "a\r\nb\r\n"},
		{"mixed", "a\nb\r\nc\n\n", "a\r\nb\r\nc\r\n\r\n"},
		{"bare cr kept", "a\rb\r", "a\rb\r"},
		{"cr cr lf", "a\r\r\n", "a\r\r\n"},
		{"leading lf", "\nx", "\r\nx"},
		{"no line end", "abc", "abc"},
		{"long", strings.Repeat("0123456789\n", 10000), strings.Repeat("0123456789\r\n", 10000)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Every way of cutting the input in two, and byte by byte.
			cuts := []int{}
			for i := 0; i <= len(tc.in) && i < 40; i++ {
				cuts = append(cuts, i)
			}
			for _, cut := range cuts {
				var out bytes.Buffer
				cw := NewCanonicalWriter(&out)
				for _, part := range []string{tc.in[:cut], tc.in[cut:]} {
					if n, err := cw.Write([]byte(part)); err != nil || n != len(part) {
						t.Fatalf("Write: %d, %v", n, err)
					}
				}
				if err := cw.Close(); err != nil {
					t.Fatal(err)
				}
				if out.String() != tc.want {
					t.Fatalf("cut at %d: got %q, want %q", cut, out.String(), tc.want)
				}
			}
			var out bytes.Buffer
			cw := NewCanonicalWriter(&out)
			for i := 0; i < len(tc.in); i++ {
				cw.Write([]byte{tc.in[i]})
			}
			cw.Close()
			if out.String() != tc.want {
				t.Errorf("byte by byte: got %q, want %q", out.String(), tc.want)
			}
		})
	}
}

type failWriter struct{}

func (failWriter) Write(p []byte) (int, error) { return 0, errors.New("disk full") }

func TestCanonicalWriterErrors(t *testing.T) {
	cw := NewCanonicalWriter(failWriter{})
	if _, err := cw.Write([]byte("abc")); err != nil {
		t.Fatalf("buffered write failed early: %v", err)
	}
	if err := cw.Close(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Close: %v, want the writer's error", err)
	}
	if _, err := cw.Write([]byte("x")); err == nil {
		t.Error("Write after error succeeded")
	}
	cw = NewCanonicalWriter(failWriter{})
	if _, err := cw.Write(make([]byte, 100<<10)); err == nil {
		t.Error("large write to failing writer succeeded")
	}

	var out bytes.Buffer
	cw = NewCanonicalWriter(&out)
	cw.Close()
	if _, err := cw.Write([]byte("x")); err == nil {
		t.Error("Write after Close succeeded")
	}
}
