package mime

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
)

// Issue #13 (performance): ReadSigned checks the signed part while it
// spools it, with a signedPartChecker written in whatever pieces the
// canonical writer gives, instead of reading the spool again. These tests
// hold it to the reader it replaced, kept below as it was at 8cdbc46: the
// same verdict on every input, however the input is cut into writes.

// checkSignedPartReference is checkSignedPart as it was at 8cdbc46: it reads the signed part r (as spooled by ReadSigned) and
// refuses it if its header has more than one Content-Type or
// Content-Transfer-Encoding field, or if a Content-Type field anywhere in
// it declares a boundary that is a prefix of the outer one (a nested
// multipart whose delimiter lines the outer delimiter would also match,
// so that parsers disagree on where the signed part ends) or that the
// outer boundary is a prefix of (refused line by line already; checked
// here too), or a boundary in RFC 2231 form.
func checkSignedPartReference(r io.Reader, boundary string) error {
	br := bufio.NewReaderSize(r, readerBufSize)
	inHeader := true
	var ctypes, ctes int
	var field []byte // a Content-Type field being collected
	collecting := false
	check := func() error {
		collecting = false
		vals, ext := laxBoundaries(string(field[len("content-type:"):]))
		if ext {
			return ambiguous("a boundary parameter in RFC 2231 form inside the signed part")
		}
		for _, v := range vals {
			if v != "" && (strings.HasPrefix(boundary, v) || strings.HasPrefix(v, boundary)) {
				return ambiguous("a nested multipart reuses the boundary")
			}
		}
		return nil
	}
	atLineStart := true
	for {
		seg, err := br.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull && err != io.EOF {
			return err
		}
		if len(seg) > 0 {
			cont := atLineStart && (seg[0] == ' ' || seg[0] == '\t')
			if collecting && (!atLineStart || cont) {
				if len(field)+len(seg) > maxNestedField {
					return ambiguous("a Content-Type field too long to check")
				}
				field = append(field, seg...)
			} else if collecting {
				if err := check(); err != nil {
					return err
				}
			}
			if atLineStart && !cont {
				if inHeader && isBlankLine(seg) {
					inHeader = false
				}
				name, _, _ := bytes.Cut(seg, []byte(":"))
				name = bytes.TrimSpace(name)
				isCT := bytes.IndexByte(seg, ':') >= 0 && strings.EqualFold(string(name), "Content-Type")
				if inHeader && isCT {
					ctypes++
				}
				if inHeader && bytes.IndexByte(seg, ':') >= 0 && strings.EqualFold(string(name), "Content-Transfer-Encoding") {
					ctes++
				}
				if isCT {
					i := bytes.IndexByte(seg, ':')
					field = append(append(field[:0], "content-type:"...), seg[i+1:]...)
					collecting = true
				}
			}
			atLineStart = seg[len(seg)-1] == '\n'
		}
		if err == io.EOF {
			break
		}
	}
	if collecting {
		if err := check(); err != nil {
			return err
		}
	}
	switch {
	case ctypes > 1:
		return ambiguous("more than one Content-Type field in the signed part")
	case ctes > 1:
		return ambiguous("more than one Content-Transfer-Encoding field in the signed part")
	}
	return nil
}

// checkStreaming feeds the checker the part in writes of the given sizes,
// cycling through them.
func checkStreaming(part []byte, boundary string, sizes []int) error {
	c := newSignedPartChecker(boundary)
	for i := 0; len(part) > 0; i++ {
		n := min(max(sizes[i%len(sizes)], 1), len(part))
		if _, err := c.Write(part[:n]); err != nil {
			return err
		}
		part = part[n:]
	}
	return c.close()
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// signedPartCases are signed parts that pass and parts that fail the check
// for each reason, with long lines at and around the reader's buffer size.
func signedPartCases() map[string]string {
	long := strings.Repeat("x", readerBufSize)
	return map[string]string{
		"plain":                "Content-Type: text/plain\r\n\r\nhello\r\n",
		"two content types":    "Content-Type: text/plain\r\nContent-Type: text/html\r\n\r\nhi\r\n",
		"two encodings":        "Content-Transfer-Encoding: 7bit\r\ncontent-transfer-encoding: base64\r\n\r\nhi\r\n",
		"nested reuse":         "Content-Type: multipart/mixed; boundary=b1x\r\n\r\n--b1x\r\n\r\nx\r\n--b1x--\r\n",
		"nested prefix":        "Content-Type: multipart/mixed;\r\n boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n",
		"nested ok":            "Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n\r\nx\r\n--zz--\r\n",
		"rfc 2231 boundary":    "Content-Type: multipart/mixed; boundary*=us-ascii''zz\r\n\r\nx\r\n",
		"body content type":    "Content-Type: text/plain\r\n\r\nContent-Type: multipart/mixed; boundary=b1\r\n",
		"body only colon":      "Content-Type: text/plain\r\n\r\na: b\r\n c: d\r\n",
		"spaced name":          " Content-Type : text/plain\r\n\r\nx\r\n",
		"no line end":          "Content-Type: text/plain\r\n\r\nlast line",
		"long body line":       "Content-Type: text/plain\r\n\r\n" + long + "\r\n" + long + long[:100] + "\r\n",
		"long line at buffer":  "Content-Type: text/plain\r\n\r\n" + long[:readerBufSize-2] + "\r\nContent-Type: x; boundary=b1\r\n",
		"long line past":       "Content-Type: text/plain\r\n\r\n" + long[:readerBufSize-1] + "\r\nContent-Type: x; boundary=b1\r\n",
		"colon after buffer":   "Content-Type: text/plain\r\n\r\n" + long + "Content-Type: x; boundary=b1\r\n",
		"long field":           "Content-Type: multipart/mixed;\r\n" + strings.Repeat(" x=y;\r\n", readerBufSize/7+10) + " boundary=b1\r\n\r\n",
		"long folded boundary": "Content-Type: multipart/mixed; a=\"" + long[:readerBufSize-40] + "\";\r\n boundary=b1\r\n\r\n",
		"empty":                "",
		"bare lf":              "Content-Type: text/plain\n\nContent-Type: a; boundary=b1\n",
	}
}

func TestSignedPartCheckerMatchesReader(t *testing.T) {
	sizes := [][]int{{1}, {2, 3}, {7}, {64}, {1000, 1}, {readerBufSize - 1}, {readerBufSize}, {readerBufSize + 1}, {32 << 10}, {1 << 20}}
	for name, part := range signedPartCases() {
		want := errText(checkSignedPartReference(strings.NewReader(part), "b1"))
		for _, sz := range sizes {
			if got := errText(checkStreaming([]byte(part), "b1", sz)); got != want {
				t.Errorf("%s, writes of %v: got %s, want %s (the reader's)", name, sz, got, want)
			}
		}
	}
}

// FuzzSignedPartChecker: the checker written in pieces says what the
// reader it replaced says.
func FuzzSignedPartChecker(f *testing.F) {
	for _, part := range signedPartCases() {
		if len(part) < 4096 {
			f.Add([]byte(part), uint16(7), uint16(3))
		}
	}
	f.Fuzz(func(t *testing.T, part []byte, a, b uint16) {
		want := errText(checkSignedPartReference(bytes.NewReader(part), "b1"))
		if got := errText(checkStreaming(part, "b1", []int{int(a), int(b)})); got != want {
			t.Fatalf("writes of %d and %d: got %s, want %s (the reader's)", a, b, got, want)
		}
	})
}
