package mime

import (
	"bytes"
	"crypto"
	_ "crypto/sha256"
	_ "crypto/sha512"
	"io"
	"os"
	"strings"
	"testing"
)

// Issue #13 (performance): ReadSignedInto spools the first part into the
// caller's Spool and digests it on the way. The digests must be those of
// exactly the bytes the Spool holds (after bare LF became CRLF), in memory
// and in a file, for every hash asked for and no other; content must be
// the caller's Spool, written once.
func TestReadSignedIntoDigests(t *testing.T) {
	// Bare LF (canonicalised) and CRLF lines; the large body is digested
	// on a goroutine (asyncHashFrom).
	small := strings.Repeat("a line of the signed part\n", 3000)
	large := strings.Repeat("a line of the signed part\r\n", 60000) + small
	for _, tc := range []struct {
		body      string
		threshold int64
	}{{small, 1 << 20}, {small, 1 << 10}, {large, 8 << 20}, {large, 1 << 20}} {
		body, threshold := tc.body, tc.threshold
		msg := hdrSigned("") + "--b1\r\nContent-Type: text/plain\r\n\r\n" + body + "\r\n--b1\r\n" + sigPart + "--b1--\r\n"
		for _, hashes := range [][]crypto.Hash{nil, {crypto.SHA256}, {crypto.SHA512, crypto.SHA256, crypto.SHA512}} {
			e, err := ReadEntity(strings.NewReader(msg))
			if err != nil {
				t.Fatal(err)
			}
			content := &Spool{Threshold: threshold, Dir: t.TempDir()}
			p, err := ReadSignedInto(e, content, hashes)
			if err != nil {
				t.Fatalf("ReadSignedInto: %v", err)
			}
			if p.Content != content {
				t.Fatal("the content is not in the caller's Spool")
			}
			if (content.file != nil) != (threshold < int64(len(body))+30) {
				t.Errorf("threshold %d: in a file %v", threshold, content.file != nil)
			}
			r, err := content.Open()
			if err != nil {
				t.Fatal(err)
			}
			spooled, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			want := "Content-Type: text/plain\r\n\r\n" + strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\n", "\r\n")
			if string(spooled) != want {
				t.Fatalf("spooled %d bytes, want %d canonical bytes", len(spooled), len(want))
			}
			distinct := map[crypto.Hash]bool{}
			for _, h := range hashes {
				distinct[h] = true
				hh := h.New()
				hh.Write(spooled)
				if got := p.Digests[h]; !bytes.Equal(got, hh.Sum(nil)) {
					t.Errorf("threshold %d: the %v digest is not that of the spooled bytes", threshold, h)
				}
			}
			if len(p.Digests) != len(distinct) {
				t.Errorf("threshold %d: %d digests, want %d (those asked for)", threshold, len(p.Digests), len(distinct))
			}
			p.Close()
		}
	}
}

// A failing message leaves what was read in the caller's Spool, which the
// caller closes: nothing else is left open or on disk.
func TestReadSignedIntoFailureLeavesCallerSpool(t *testing.T) {
	dir := t.TempDir()
	msg := hdrSigned("") + "--b1\r\nContent-Type: text/plain\r\n\r\n" + strings.Repeat("x\r\n", 2000) + "--b1\r\n" + sigPart // no close delimiter
	e, err := ReadEntity(strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	content := &Spool{Threshold: 100, Dir: dir}
	if _, err := ReadSignedInto(e, content, []crypto.Hash{crypto.SHA256}); err == nil {
		t.Fatal("a message without its close delimiter was accepted")
	}
	if err := content.Close(); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("%d files left in the spool directory", len(ents))
	}
}
