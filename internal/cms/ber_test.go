package cms

import (
	"bytes"
	"testing"
)

// Definite lengths are written in the minimal form and read back the same.
func TestAppendLength(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want []byte
	}{
		{0, []byte{0x00}}, {0x7f, []byte{0x7f}}, {0x80, []byte{0x81, 0x80}}, {0xff, []byte{0x81, 0xff}},
		{0x100, []byte{0x82, 0x01, 0x00}}, {0x10000, []byte{0x83, 0x01, 0x00, 0x00}},
	} {
		got := appendLength(nil, tc.n)
		if !bytes.Equal(got, tc.want) {
			t.Errorf("appendLength(%#x) = % x, want % x", tc.n, got, tc.want)
		}
		h, err := newBERReader(bytes.NewReader(append([]byte{0x04}, got...))).readHeader()
		if err != nil || h.length != int64(tc.n) {
			t.Errorf("read back %#x: got %d, %v", tc.n, h.length, err)
		}
	}
}
