package mime

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the fuzz seed corpora under testdata/fuzz")

// signedSeeds returns multipart/signed messages for FuzzReadSigned.
func signedSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	for _, content := range []string{
		"Content-Type: text/plain\r\n\r\nhello\r\n",
		"Content-Type: text/plain\n\nhello\n--x\n",
		nestedMultipart,
	} {
		var out bytes.Buffer
		sw, err := NewSignedWriter(&out, testOuter(), "sha-256", nil, zeroRand{})
		if err != nil {
			t.Fatal(err)
		}
		sw.Write([]byte(content))
		if err := sw.Finish([]byte{0x30, 0x03, 0x02, 0x01, 0x01}); err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, out.Bytes(), crlfToLF(out.Bytes()))
	}
	seeds = append(seeds,
		[]byte(hdrSigned("")+"pre\r\n--b1 \r\n\r\nhi\r\n--b1\r\n"+sigPart+"--b1--\r\nepilogue"),
		[]byte(hdrSigned("")+"--b1\r\n\r\nhi\r\n--b1\r\n"+sigPart),
		[]byte("Content-Type: multipart/signed; boundary=x; protocol=application/x-pkcs7-signature\n\n--x\n\n--x\nContent-Transfer-Encoding: quoted-printable\n\n=30\n--x--"),
	)
	return seeds
}

func headerSeeds() [][]byte {
	return [][]byte{
		[]byte("From: a@example.com\r\nSubject: hi\r\n\r\nbody"),
		[]byte("Subject: a\n  folded\n\tmore\nTo: b\n\n"),
		[]byte("Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\";\r\n\tmicalg=sha-256; boundary=\"b\"\r\n\r\n"),
		[]byte("X: y"),
		[]byte(" bad\r\n"),
		[]byte("Bad Name: x\r\n\r\n"),
	}
}

// writeSeedCorpus writes seeds in the "go test fuzz v1" format.
func writeSeedCorpus(t *testing.T, name string, seeds [][]byte) {
	dir := filepath.Join("testdata", "fuzz", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, s := range seeds {
		data := "go test fuzz v1\n[]byte(" + strconv.Quote(string(s)) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFuzzSeeds writes the committed seed corpora with -update-seeds and
// otherwise checks that they exist, so a renamed target cannot leave its
// corpus behind unnoticed.
func TestFuzzSeeds(t *testing.T) {
	if *updateSeeds {
		writeSeedCorpus(t, "FuzzReadSigned", signedSeeds(t))
		writeSeedCorpus(t, "FuzzReadHeader", headerSeeds())
		writeSeedCorpus(t, "FuzzProtection", protectionSeeds())
	}
	for _, name := range []string{"FuzzReadSigned", "FuzzReadHeader", "FuzzProtection"} {
		m, err := filepath.Glob(filepath.Join("testdata", "fuzz", name, "*"))
		if err != nil || len(m) == 0 {
			t.Errorf("no seed corpus for %s (run go test -run TestFuzzSeeds -update-seeds)", name)
		}
	}
}

// FuzzReadSigned checks that ReadSigned never panics or hangs and that on
// success the content is the canonical form of a piece of the input and
// survives a SignedWriter round trip unchanged.
func FuzzReadSigned(f *testing.F) {
	for _, s := range signedSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ReadEntity(bytes.NewReader(data))
		if err != nil {
			return
		}
		p, err := ReadSigned(e, Spool{})
		if err != nil {
			if p != nil {
				t.Fatal("parts returned with an error")
			}
			return
		}
		defer p.Close()
		r, err := p.Content.Open()
		if err != nil {
			t.Fatal(err)
		}
		content, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(content)) != p.Content.Size() {
			t.Fatalf("read %d bytes, Size %d", len(content), p.Content.Size())
		}
		if !bytes.Contains(canon(data), content) {
			t.Fatalf("content %q is not in the canonical input", content)
		}
		if bytes.Contains(content, []byte("\n")) && bytes.Count(content, []byte("\n")) != bytes.Count(content, []byte("\r\n")) {
			t.Fatalf("content has a bare LF: %q", content)
		}
		if len(p.Signature) == 0 || len(p.Signature) > MaxSignatureSize {
			t.Fatalf("signature of %d bytes", len(p.Signature))
		}

		var out bytes.Buffer
		sw, err := NewSignedWriter(&out, p.Outer, "sha-256", nil, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		sw.Write(content)
		if err := sw.Finish(p.Signature); err != nil {
			t.Fatal(err)
		}
		e2, err := ReadEntity(&out)
		if err != nil {
			t.Fatalf("rereading written message: %v", err)
		}
		p2, err := ReadSigned(e2, Spool{})
		if err != nil {
			t.Fatalf("rereading written message: %v\n%q", err, out.Bytes())
		}
		defer p2.Close()
		r2, _ := p2.Content.Open()
		content2, _ := io.ReadAll(r2)
		if !bytes.Equal(content, content2) || !bytes.Equal(p.Signature, p2.Signature) {
			t.Fatalf("round trip changed the content: %q -> %q", content, content2)
		}
	})
}

// FuzzReadHeader checks that ReadHeader never panics and that a header it
// accepts is written and read back with the same fields and values.
func FuzzReadHeader(f *testing.F) {
	for _, s := range headerSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ReadHeader(bufio.NewReader(bytes.NewReader(data)))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if _, err := h.WriteTo(&out); err != nil {
			t.Fatal(err)
		}
		written := out.Bytes()
		if bytes.Count(written, []byte("\n")) != bytes.Count(written, []byte("\r\n")) {
			t.Fatalf("WriteTo wrote a bare LF: %q", written)
		}
		out.WriteString("\r\n")
		h2, err := ReadHeader(bufio.NewReader(&out))
		if err != nil {
			t.Fatalf("rereading %q: %v", written, err)
		}
		if h2.Len() != h.Len() {
			t.Fatalf("reread %d fields, want %d", h2.Len(), h.Len())
		}
		for i, f := range h.fields {
			if h2.fields[i].name != f.name || h2.fields[i].value() != f.value() {
				t.Fatalf("field %d: reread %q: %q, want %q: %q", i, h2.fields[i].name, h2.fields[i].value(), f.name, f.value())
			}
		}
		outer, entity := h.Split()
		if outer.Len()+entity.Len() != h.Len() {
			t.Fatal("Split lost fields")
		}
	})
}

// protectionSeeds are a message (outer header, blank line, payload root)
// as FuzzProtection splits them: protected, not, and odd.
func protectionSeeds() [][]byte {
	return [][]byte{
		[]byte("From: Alice <alice@example.com>\r\nSubject: [...]\r\n\r\nFrom: Alice <alice@example.com>\r\nSubject: Plans\r\n" +
			"HP-Outer: From: Alice <alice@example.com>\r\nHP-Outer: Subject: [...]\r\nContent-Type: text/plain; hp=\"cipher\"\r\n\r\nbody\r\n"),
		[]byte("From: mallory@example.com\nTo: a, b\n\nFrom: alice@example.com\nCc: x\nContent-Type: text/plain; hp=clear\n\nbody"),
		[]byte("Subject: x\r\n\r\nContent-Type: text/plain\r\n\r\n"),
		[]byte("\r\nHP-Outer:\r\nHP-Outer: :\r\nContent-Type: a/b; hp=cipher\r\n\r\n"),
	}
}

// FuzzProtection checks that reading header protection never panics, that
// the released header holds no HP-Outer field and the payload's body
// unchanged, and that Protect on any parsed header gives a payload that
// reads back with no difference from its own outer header.
func FuzzProtection(f *testing.F) {
	for _, s := range protectionSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReader(bytes.NewReader(data))
		outer, err := ReadHeader(br)
		if err != nil {
			return
		}
		payload, _ := io.ReadAll(br)
		if p := PeekProtection(outer, bytes.NewReader(payload)); p != nil {
			for _, d := range p.Differences {
				if d.Field == "" || d.Kind == "" {
					t.Fatalf("empty difference %+v", d)
				}
			}
		}
		var out bytes.Buffer
		if err := WriteEffective(&out, outer, bytes.NewReader(payload)); err == nil {
			released := bufio.NewReader(&out)
			h, err := ReadHeader(released)
			if err != nil {
				t.Fatalf("released header does not parse: %v", err)
			}
			if h.Has(hpOuter) {
				t.Fatal("HP-Outer released")
			}
			body, _ := io.ReadAll(released)
			if !bytes.HasSuffix(payload, body) {
				t.Fatalf("released body %q is not the payload's", body)
			}
		}
		o, e := outer.Split()
		for _, enc := range []bool{false, true} {
			o2, e2, err := Protect(o, e, ProtectOptions{Encrypted: enc})
			if err != nil {
				continue
			}
			var b bytes.Buffer
			e2.WriteTo(&b)
			b.WriteString("\r\n")
			e3, err := ReadHeader(bufio.NewReader(&b))
			if err != nil {
				t.Fatalf("protected entity does not parse: %v\n%q", err, b.Bytes())
			}
			p := ReadProtection(o2, e3)
			if p == nil {
				t.Fatal("protection not read back")
			}
			for _, d := range p.Differences {
				if IsFault(d) {
					t.Fatalf("fresh protection differs: %+v", d)
				}
			}
		}
	})
}

// scanParts runs copyPart over data until an error or four parts, with the
// block path for plain lines (plainMin 1) or without it (-1), through a
// reader of buffer size bufSize, and returns what it saw.
func scanParts(data []byte, boundary string, bufSize, plainMin int) string {
	sc := &partScanner{r: bufio.NewReaderSize(bytes.NewReader(data), bufSize),
		delim: []byte("--" + boundary), plainMin: plainMin}
	var out bytes.Buffer
	for i := 0; i < 4; i++ {
		var part bytes.Buffer
		closing, err := sc.copyPart(&part, 1<<20)
		fmt.Fprintf(&out, "part %d: %q closing %v err %v\n", i, part.Bytes(), closing, err)
		if err != nil || closing {
			break
		}
	}
	return out.String()
}

// Issue #13 (large messages): copyPart takes runs of complete lines that
// can't be or hold a delimiter in one piece (plainLines). It must see
// exactly what the line-at-a-time path sees: the same parts, the same
// close, the same error, whatever the line ends, bare CRs, dashes,
// boundary case and buffer size.
func FuzzPlainLines(f *testing.F) {
	for _, s := range []string{
		"pre\r\n--b\r\nA: b\r\n\r\nbody\r\n--b\r\nsig\r\n--b--\r\nepi",
		"--b\nx\n-- \n--B\n--b--\n",
		"--b\r\nline\rmore\r--b\r\n--b--",
		"--b\r\na\r\r\n--b \t\r\nz\r\n--b--x\r\n",
		"x\r\n--bb\r\n--b-\r\n--b\r\n\n\n\r\r\n--b--\n",
	} {
		f.Add([]byte(s), "b", uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, boundary string, size uint8) {
		if boundary == "" || len(boundary) > maxBoundaryLen {
			return
		}
		bufSize := 16 + int(size)
		slow := scanParts(data, boundary, bufSize, -1)
		if fast := scanParts(data, boundary, bufSize, 1); fast != slow {
			t.Fatalf("buffer %d, boundary %q:\nline at a time:\n%s\nwith plain blocks:\n%s", bufSize, boundary, slow, fast)
		}
	})
}
