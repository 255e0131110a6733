package mime

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
)

// Issue #13 (performance): an in-memory Spool grows in chunks of 4 KiB
// doubling to 64 KiB, and its readers have Len and WriteTo. Readers of one
// Spool must stay independent, read exactly what was written, and Len must
// say what is left (ReadEntity sizes its buffer to it).
func TestSpoolChunkReaders(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, 4095, 4096, 4097, 12 << 10, 300 << 10} {
		want := make([]byte, size)
		for i := range want {
			want[i] = byte(rng.IntN(256))
		}
		s := &Spool{Threshold: 1 << 20}
		for rest := want; len(rest) > 0; {
			n := min(len(rest), 1+rng.IntN(9000))
			if _, err := s.Write(rest[:n]); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		for i, c := range s.chunks {
			if i < len(s.chunks)-1 && len(c) != cap(c) {
				t.Fatalf("size %d: chunk %d of %d not full", size, i, len(s.chunks))
			}
			if cap(c) > spoolChunkSize {
				t.Fatalf("size %d: chunk %d has %d bytes", size, i, cap(c))
			}
		}
		r1, _ := s.Open()
		r2, _ := s.Open()
		var got1, got2 bytes.Buffer
		buf := make([]byte, 777)
		for {
			if l := r1.(interface{ Len() int }).Len(); l != size-got1.Len() {
				t.Fatalf("size %d: Len %d after reading %d", size, l, got1.Len())
			}
			n, err := r1.Read(buf)
			got1.Write(buf[:n])
			if err == io.EOF {
				break
			}
			// Read r2 in between, in other pieces.
			m, _ := r2.Read(buf[:rng.IntN(len(buf))+1])
			got2.Write(buf[:m])
		}
		if _, err := io.Copy(&got2, r2); err != nil { // WriteTo
			t.Fatal(err)
		}
		if !bytes.Equal(got1.Bytes(), want) || !bytes.Equal(got2.Bytes(), want) {
			t.Fatalf("size %d: readers gave %d and %d bytes, not what was written", size, got1.Len(), got2.Len())
		}
		r3, _ := s.Open()
		if all, _ := io.ReadAll(r3); !bytes.Equal(all, want) {
			t.Fatalf("size %d: a third reader after two others gave other bytes", size)
		}
		s.Close()
	}
}
