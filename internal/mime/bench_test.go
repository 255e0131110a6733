package mime

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
)

// cycleReader repeats block forever.
type cycleReader struct {
	block []byte
	off   int
}

func (c *cycleReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := copy(p[n:], c.block[c.off:])
		n += k
		c.off = (c.off + k) % len(c.block)
	}
	return n, nil
}

// signedMessageReader streams a multipart/signed message whose first part
// has about size bytes of 78-byte text lines, without holding it in
// memory.
func signedMessageReader(size int64) io.Reader {
	line := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 2)[:76] + "\r\n"
	block := []byte(strings.Repeat(line, 840))
	head := hdrSigned("") + "--b1\r\nContent-Type: text/plain\r\n\r\n"
	tail := "\r\n--b1\r\n" + sigPart + "--b1--\r\n"
	return io.MultiReader(strings.NewReader(head),
		io.LimitReader(&cycleReader{block: block}, size),
		strings.NewReader(tail))
}

// BenchmarkReadSigned shows that memory stays flat as messages grow: the
// bytes allocated per operation are bounded by the spool threshold and
// the reader buffer, not by the message size.
func BenchmarkReadSigned(b *testing.B) {
	for _, size := range []int64{1 << 20, 100 << 20} {
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			dir := b.TempDir()
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				e, err := ReadEntity(signedMessageReader(size))
				if err != nil {
					b.Fatal(err)
				}
				p, err := ReadSigned(e, Spool{Dir: dir})
				if err != nil {
					b.Fatal(err)
				}
				if p.Content.Size() < size {
					b.Fatalf("content %d bytes, want at least %d", p.Content.Size(), size)
				}
				p.Close()
			}
		})
	}
}

// BenchmarkSignedWriter measures clear-signed output of a 10 MiB body.
func BenchmarkSignedWriter(b *testing.B) {
	const size = 10 << 20
	body := bytes.Repeat([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567\n"), size/73)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		sw, err := NewSignedWriter(io.Discard, Header{}, "sha-256", io.Discard, zeroRand{})
		if err != nil {
			b.Fatal(err)
		}
		sw.Write(body)
		if err := sw.Finish(make([]byte, 2000)); err != nil {
			b.Fatal(err)
		}
	}
}
