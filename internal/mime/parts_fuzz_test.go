package mime

import (
	"bytes"
	"io"
	"testing"
)

// FuzzReadParts states ReadParts's claims on any input (issue #15 item 5): it never
// panics, hands fn at most the bound of parts, and every part it hands over is a
// byte-exact piece of the input (a list's wrapper is passed on, never rewritten).
func FuzzReadParts(f *testing.F) {
	for _, s := range []string{
		"Content-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\nsigned\r\n--m\r\n\r\nfooter\r\n--m--\r\n",
		"Content-Type: multipart/mixed; boundary=m\n\npre\n--m\n\na\n--m \n\nb\n--m--\nepilogue\n",
		"Content-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\n\r\n--m--\r\n--m\r\n",
		"Content-Type: multipart/alternative; boundary=\"a b\"\r\n\r\n--a b\r\n\r\nx\r\n--a b--",
		"Content-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\n\r\ntruncated",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ReadEntity(bytes.NewReader(data))
		if err != nil {
			return
		}
		n := 0
		_ = ReadParts(e, Spool{}, 5, func(i int, part *Spool) error {
			if i != n {
				t.Fatalf("part index %d, want %d", i, n)
			}
			n++
			r, err := part.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(data, b) {
				t.Fatalf("part %d is not a piece of the input: %q", i, b)
			}
			return nil
		})
		if n > 5 {
			t.Fatalf("%d parts handed over past a bound of 5", n)
		}
	})
}
