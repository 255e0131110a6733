package mime

import (
	"bytes"
	"crypto/sha256"
	"io"
	"strings"
	"testing"
)

// zeroRand is a deterministic boundary source for tests.
type zeroRand struct{}

func (zeroRand) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 0
	}
	return len(p), nil
}

// canon turns bare LF into CRLF.
func canon(b []byte) []byte {
	var out bytes.Buffer
	cw := NewCanonicalWriter(&out)
	cw.Write(b)
	cw.Close()
	return out.Bytes()
}

// crlfToLF turns every CRLF into LF.
func crlfToLF(b []byte) []byte {
	return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
}

func testOuter() Header {
	var h Header
	h.Add("From", "Alice <alice@Example.COM>")
	h.Add("To", "bob@example.net")
	h.Add("Subject", "test")
	return h
}

// signMessage builds a multipart/signed message around content with
// SignedWriter and returns the message and the bytes given to the digest.
func signMessage(t *testing.T, content, sig []byte) (msg, digested []byte) {
	t.Helper()
	var out, dig bytes.Buffer
	sw, err := NewSignedWriter(&out, testOuter(), "sha-256", &dig, zeroRand{})
	if err != nil {
		t.Fatalf("NewSignedWriter: %v", err)
	}
	// Write in odd-sized chunks to exercise chunk boundaries.
	for rest := content; len(rest) > 0; {
		n := min(7, len(rest))
		if _, err := sw.Write(rest[:n]); err != nil {
			t.Fatalf("Write: %v", err)
		}
		rest = rest[n:]
	}
	if err := sw.Finish(sig); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	return out.Bytes(), dig.Bytes()
}

func readSignedBytes(t *testing.T, msg []byte, spool Spool) (*SignedParts, []byte) {
	t.Helper()
	e, err := ReadEntity(bytes.NewReader(msg))
	if err != nil {
		t.Fatalf("ReadEntity: %v", err)
	}
	p, err := ReadSigned(e, spool)
	if err != nil {
		t.Fatalf("ReadSigned: %v", err)
	}
	r, err := p.Content.Open()
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("reading content: %v", err)
	}
	return p, got
}

var nestedMultipart = "Content-Type: multipart/mixed; boundary=\"inner\"\r\n" +
	"\r\n" +
	"preamble of the inner part\r\n" +
	"--inner\r\n" +
	"Content-Type: text/plain\r\n" +
	"\r\n" +
	"hello\r\n" +
	"--inner\r\n" +
	"Content-Type: application/octet-stream\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"AAECAwQF\r\n" +
	"--inner--\r\n" +
	"inner epilogue\r\n"

func TestSignedRoundTrip(t *testing.T) {
	sig := bytes.Repeat([]byte{0x30, 0x82, 0x01, 0xff}, 100)
	tests := []struct {
		name    string
		content string
	}{
		{"crlf", "Content-Type: text/plain\r\n\r\nline one\r\nline two\r\n"},
		{"crlf no trailing line end", "Content-Type: text/plain\r\n\r\nline one\r\nline two"},
		{"lf", "Content-Type: text/plain\n\nline one\nline two\n"},
		{"lf no trailing line end", "Content-Type: text/plain\n\nline one\nline two"},
		{"mixed line ends", "Content-Type: text/plain\r\n\nline one\nline two\r\n\r\n"},
		{"empty body", "Content-Type: text/plain\r\n\r\n"},
		{"trailing blank lines", "Content-Type: text/plain\r\n\r\nbody\r\n\r\n\r\n"},
		{"dash lines", "Content-Type: text/plain\r\n\r\n--\r\n-- \r\n--not the boundary\r\n----=_smimectl_\r\n----=_smimectl_0000\r\n"},
		{"boundary prefix inside line", "Content-Type: text/plain\r\n\r\nx----=_smimectl_" + strings.Repeat("00", 24) + "\r\n"},
		{"nested multipart", nestedMultipart},
		{"bare CR kept", "Content-Type: text/plain\r\n\r\na\rb\r\n"},
		{"no header", "\r\nbody only\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg, digested := signMessage(t, []byte(tc.content), sig)
			want := canon([]byte(tc.content))
			if !bytes.Equal(digested, want) {
				t.Fatalf("digested %q, want %q", digested, want)
			}
			p, got := readSignedBytes(t, msg, Spool{})
			defer p.Close()
			if !bytes.Equal(got, want) {
				t.Errorf("content %q, want %q", got, want)
			}
			if !bytes.Equal(p.Signature, sig) {
				t.Errorf("signature differs: got %d bytes, want %d", len(p.Signature), len(sig))
			}
			if p.Protocol != "application/pkcs7-signature" || p.Micalg != "sha-256" {
				t.Errorf("protocol %q micalg %q", p.Protocol, p.Micalg)
			}
			if p.SignatureType != "application/pkcs7-signature" {
				t.Errorf("signature type %q", p.SignatureType)
			}
			if got := p.Outer.Get("Subject"); got != "test" {
				t.Errorf("outer Subject %q, want %q", got, "test")
			}
			if got := p.Outer.Get("MIME-Version"); got != "1.0" {
				t.Errorf("outer MIME-Version %q, want 1.0", got)
			}
			if p.Outer.Has("Content-Type") {
				t.Error("outer header has Content-Type")
			}

			// The whole message with CRLF turned into LF (as a Unix
			// mailbox stores it) still yields the original signed bytes.
			pLF, gotLF := readSignedBytes(t, crlfToLF(msg), Spool{})
			defer pLF.Close()
			if !bytes.Equal(gotLF, want) {
				t.Errorf("LF message content %q, want original signed bytes %q", gotLF, want)
			}
			if !bytes.Equal(pLF.Signature, sig) {
				t.Error("LF message signature differs")
			}
		})
	}
}

func TestSignedWriterOutput(t *testing.T) {
	msg, _ := signMessage(t, []byte("Content-Type: text/plain\n\nhi\n"), bytes.Repeat([]byte{1}, 300))
	if bytes.Contains(bytes.ReplaceAll(msg, []byte("\r\n"), nil), []byte("\n")) {
		t.Error("output has bare LF")
	}
	e, err := ReadEntity(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := e.Header.MediaType()
	if err != nil {
		t.Fatal(err)
	}
	if mt != "multipart/signed" || params["protocol"] != "application/pkcs7-signature" || params["micalg"] != "sha-256" {
		t.Errorf("got %q %v", mt, params)
	}
	if want := "----=_smimectl_" + strings.Repeat("00", 24); params["boundary"] != want {
		t.Errorf("boundary %q, want %q", params["boundary"], want)
	}
	if !bytes.Contains(msg, []byte("\r\n\r\nThis is an S/MIME signed message\r\n--")) {
		t.Error("preamble missing")
	}
	if !bytes.HasSuffix(msg, []byte("\r\n--"+params["boundary"]+"--\r\n")) {
		t.Error("close delimiter missing")
	}
	checkBase64Lines(t, msg[bytes.Index(msg, []byte("smime.p7s\"\r\n\r\n"))+len("smime.p7s\"\r\n\r\n"):bytes.LastIndex(msg, []byte("\r\n--"))])
}

func TestSignedWriterMIMEVersionKept(t *testing.T) {
	var h Header
	h.Add("MIME-Version", "1.0 (produced by test)")
	h.Add("Content-Type", "text/plain") // must not reach the outer header
	var out bytes.Buffer
	sw, err := NewSignedWriter(&out, h, "sha-256", nil, zeroRand{})
	if err != nil {
		t.Fatal(err)
	}
	sw.Write([]byte("\r\nx"))
	if err := sw.Finish([]byte{1}); err != nil {
		t.Fatal(err)
	}
	e, err := ReadEntity(&out)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Header.Values("MIME-Version"); len(got) != 1 || got[0] != "1.0 (produced by test)" {
		t.Errorf("MIME-Version %q", got)
	}
	if got := e.Header.Values("Content-Type"); len(got) != 1 || !strings.HasPrefix(got[0], "multipart/signed") {
		t.Errorf("Content-Type %q", got)
	}
}

func TestSignedWriterErrors(t *testing.T) {
	if _, err := NewSignedWriter(io.Discard, Header{}, "sha 256", nil, zeroRand{}); err == nil {
		t.Error("invalid micalg accepted")
	}
	if _, err := NewSignedWriter(io.Discard, Header{}, "sha-256", nil, strings.NewReader("short")); err == nil {
		t.Error("short random source accepted")
	}
	sw, err := NewSignedWriter(io.Discard, Header{}, "sha-256", nil, zeroRand{})
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.Finish([]byte{1}); err != nil {
		t.Fatal(err)
	}
	if err := sw.Finish([]byte{1}); err == nil {
		t.Error("second Finish succeeded")
	}
	if _, err := sw.Write([]byte("x")); err == nil {
		t.Error("Write after Finish succeeded")
	}
}

const sigPart = "Content-Type: application/pkcs7-signature; name=smime.p7s\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"MIIB\r\n" +
	"AQID\r\n"

func hdrSigned(extra string) string {
	return "From: a@example.com\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=SHA-256; boundary=\"b1\"" + extra + "\r\n\r\n"
}

func TestReadSignedHandWritten(t *testing.T) {
	tests := []struct {
		name    string
		msg     string
		content string
	}{
		{
			name: "preamble and epilogue",
			msg: hdrSigned("") + "preamble\r\n-- b1 not a delimiter\r\n--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1\r\n" +
				sigPart + "--b1--\r\nepilogue\r\n-b1\r\nmore epilogue",
			content: "Content-Type: text/plain\r\n\r\nhi",
		},
		{
			name:    "no preamble",
			msg:     hdrSigned("") + "--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1\r\n" + sigPart + "--b1--\r\n",
			content: "Content-Type: text/plain\r\n\r\nhi",
		},
		{
			name:    "transport padding",
			msg:     hdrSigned("") + "--b1 \t \r\nContent-Type: text/plain\r\n\r\nhi\r\n\r\n--b1\t\r\n" + sigPart + "--b1--  \r\n",
			content: "Content-Type: text/plain\r\n\r\nhi\r\n",
		},
		{
			name:    "close delimiter at eof without line end",
			msg:     hdrSigned("") + "--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1\r\n" + sigPart + "--b1--",
			content: "Content-Type: text/plain\r\n\r\nhi",
		},
		{
			name:    "lf only",
			msg:     string(crlfToLF([]byte(hdrSigned("") + "--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\nthere\r\n--b1\r\n" + sigPart + "--b1--\r\n"))),
			content: "Content-Type: text/plain\r\n\r\nhi\r\nthere",
		},
		{
			name:    "x-pkcs7-signature",
			msg:     strings.Replace(hdrSigned("")+"--b1\r\n\r\nhi\r\n--b1\r\n"+sigPart+"--b1--\r\n", "application/pkcs7-signature\"", "application/x-pkcs7-signature\"", 1),
			content: "\r\nhi",
		},
		{
			name:    "lines like the boundary but not starting with it",
			msg:     hdrSigned("") + "--b1\r\n\r\n-b1\r\n --b1\r\n--b\r\nx--b1\r\n--b1\r\n" + sigPart + "--b1--\r\n",
			content: "\r\n-b1\r\n --b1\r\n--b\r\nx--b1",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, got := readSignedBytes(t, []byte(tc.msg), Spool{})
			defer p.Close()
			if string(got) != tc.content {
				t.Errorf("content %q, want %q", got, tc.content)
			}
			if !bytes.Equal(p.Signature, []byte{0x30, 0x82, 0x01, 0x01, 0x02, 0x03}) {
				t.Errorf("signature %x", p.Signature)
			}
			if p.Micalg != "sha-256" {
				t.Errorf("micalg %q, want sha-256", p.Micalg)
			}
		})
	}
}

func TestReadSignedErrors(t *testing.T) {
	good := "--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1\r\n" + sigPart + "--b1--\r\n"
	tests := []struct {
		name string
		msg  string
		want string // substring of the error
	}{
		{"not multipart/signed", "Content-Type: text/plain\r\n\r\nhi\r\n", "not multipart/signed"},
		{"no content type", "Subject: x\r\n\r\nhi\r\n", "not multipart/signed"},
		{"missing boundary", "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"\r\n\r\n" + good, "boundary"},
		{"empty boundary", "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=\"\"\r\n\r\n" + good, "boundary"},
		{"missing protocol", "Content-Type: multipart/signed; boundary=b1\r\n\r\n" + good, "protocol"},
		{"pgp protocol", "Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=b1\r\n\r\n" + good, "unsupported"},
		{"bad content type", "Content-Type: multipart/signed; boundary=\r\n\r\n" + good, "Content-Type"},
		{"no delimiter", hdrSigned("") + "just text\r\n", "no delimiter"},
		{"empty body", hdrSigned(""), "no delimiter"},
		{"close delimiter first", hdrSigned("") + "--b1--\r\n", "close delimiter before"},
		{"first part not closed", hdrSigned("") + "--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n", "truncated"},
		{"first part not closed no line end", hdrSigned("") + "--b1\r\nhi", "truncated"},
		{"no second part", hdrSigned("") + "--b1\r\n\r\nhi\r\n--b1--\r\n", "no second part"},
		{"second part truncated", hdrSigned("") + "--b1\r\n\r\nhi\r\n--b1\r\n" + sigPart, "truncated"},
		{"delimiter at eof", hdrSigned("") + "--b1\r\n\r\nhi\r\n--b1", "truncated"},
		{"three parts", hdrSigned("") + "--b1\r\n\r\nhi\r\n--b1\r\n" + sigPart + "--b1\r\n\r\nx\r\n--b1--\r\n", "more than two parts"},
		{"bad base64", hdrSigned("") + "--b1\r\n\r\nhi\r\n--b1\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!\r\n--b1--\r\n", "decoding signature"},
		{"empty signature", hdrSigned("") + "--b1\r\n\r\nhi\r\n--b1\r\nContent-Transfer-Encoding: base64\r\n\r\n--b1--\r\n", "empty signature"},
		{"unknown encoding", hdrSigned("") + "--b1\r\n\r\nhi\r\n--b1\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nAA\r\n--b1--\r\n", "Content-Transfer-Encoding"},
		{"bad signature header", hdrSigned("") + "--b1\r\n\r\nhi\r\n--b1\r\nnot a header\r\n\r\nAA\r\n--b1--\r\n", "signature part header"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := ReadEntity(strings.NewReader(tc.msg))
			if err != nil {
				t.Fatalf("ReadEntity: %v", err)
			}
			p, err := ReadSigned(e, Spool{})
			if err == nil {
				p.Close()
				t.Fatalf("got no error, want one containing %q", tc.want)
			}
			if p != nil {
				t.Error("got parts with an error")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "mime: ") {
				t.Errorf("error %q, want one starting \"mime: \" and containing %q", err, tc.want)
			}
		})
	}
}

func TestReadSignedSignatureTooLarge(t *testing.T) {
	var msg bytes.Buffer
	msg.WriteString(hdrSigned("") + "--b1\r\n\r\nhi\r\n--b1\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	bw := newBase64Writer(&msg)
	bw.Write(make([]byte, MaxSignatureSize+1))
	bw.Close()
	msg.WriteString("--b1--\r\n")
	e, err := ReadEntity(&msg)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := ReadSigned(e, Spool{}); err == nil || !strings.Contains(err.Error(), "larger than") {
		p.Close()
		t.Fatalf("got %v, want a size error", err)
	}

	// A raw part far over the limit is stopped while reading.
	msg.Reset()
	msg.WriteString(hdrSigned("") + "--b1\r\n\r\nhi\r\n--b1\r\n\r\n")
	msg.Write(bytes.Repeat([]byte("A"), maxSignaturePartRaw+1))
	e, err = ReadEntity(&msg)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := ReadSigned(e, Spool{}); err == nil || !strings.Contains(err.Error(), "larger than") {
		p.Close()
		t.Fatalf("got %v, want a size error", err)
	}
}

// hugeLineReader produces a multipart/signed message whose first part
// has one line of n bytes without a line end in the middle, without
// holding it in memory.
func hugeLineReader(n int64) io.Reader {
	head := hdrSigned("") + "--b1\r\nContent-Type: application/octet-stream\r\n\r\n"
	tail := "\r\n--b1\r\n" + sigPart + "--b1--\r\n"
	return io.MultiReader(strings.NewReader(head), io.LimitReader(repeatReader('x'), n), strings.NewReader(tail))
}

type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

func TestReadSignedHugeLine(t *testing.T) {
	const n = 10 << 20
	for _, name := range []string{"content", "preamble"} {
		t.Run(name, func(t *testing.T) {
			var r io.Reader = hugeLineReader(n)
			if name == "preamble" {
				r = io.MultiReader(strings.NewReader(hdrSigned("")), io.LimitReader(repeatReader('-'), n),
					strings.NewReader("\r\n--b1\r\n\r\nhi\r\n--b1\r\n"+sigPart+"--b1--\r\n"))
			}
			before := totalAlloc()
			e, err := ReadEntity(r)
			if err != nil {
				t.Fatal(err)
			}
			p, err := ReadSigned(e, Spool{Threshold: 1 << 20, Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			allocated := totalAlloc() - before
			if allocated > 6<<20 {
				t.Errorf("allocated %d bytes for a %d-byte line, want memory bounded by the spool threshold", allocated, n)
			}
			want := int64(len("Content-Type: application/octet-stream\r\n\r\n")) + n
			if name == "preamble" {
				want = 4
			}
			if p.Content.Size() != want {
				t.Errorf("content size %d, want %d", p.Content.Size(), want)
			}
			cr, _ := p.Content.Open()
			h := sha256.New()
			io.Copy(h, cr)
			wh := sha256.New()
			if name == "content" {
				io.WriteString(wh, "Content-Type: application/octet-stream\r\n\r\n")
				io.Copy(wh, io.LimitReader(repeatReader('x'), n))
			} else {
				io.WriteString(wh, "\r\nhi")
			}
			if !bytes.Equal(h.Sum(nil), wh.Sum(nil)) {
				t.Error("content differs")
			}
		})
	}
}

// TestReadSignedCRSplit checks a CRLF that straddles the reader's buffer
// end right before a delimiter: the whole CRLF belongs to the delimiter.
func TestReadSignedCRSplit(t *testing.T) {
	head := hdrSigned("") + "--b1\r\n"
	for _, lineLen := range []int{readerBufSize - 2, readerBufSize - 1, readerBufSize, readerBufSize + 1, 2*readerBufSize - 1} {
		line := strings.Repeat("y", lineLen)
		msg := head + line + "\r\n--b1\r\n" + sigPart + "--b1--\r\n"
		p, got := readSignedBytes(t, []byte(msg), Spool{})
		p.Close()
		if string(got) != line {
			t.Errorf("line length %d: content length %d, want %d (ends %q)", lineLen, len(got), len(line), got[max(0, len(got)-4):])
		}
		msg = head + line + "\r\nz\r\n--b1\r\n" + sigPart + "--b1--\r\n"
		p, got = readSignedBytes(t, []byte(msg), Spool{})
		p.Close()
		if string(got) != line+"\r\nz" {
			t.Errorf("line length %d with next line: content differs", lineLen)
		}
	}
}
