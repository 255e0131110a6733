package mime

import (
	"bytes"
	"runtime"
	"testing"
)

func totalAlloc() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// checkBase64Lines checks that b is base64 in CRLF lines of exactly 76
// characters except a shorter last line.
func checkBase64Lines(t *testing.T, b []byte) {
	t.Helper()
	if len(b) == 0 {
		t.Fatal("no base64 lines")
	}
	if !bytes.HasSuffix(b, []byte("\r\n")) {
		t.Fatalf("base64 does not end in CRLF: %q", b[max(0, len(b)-10):])
	}
	lines := bytes.Split(b[:len(b)-2], []byte("\r\n"))
	for i, l := range lines {
		if i < len(lines)-1 && len(l) != 76 {
			t.Errorf("line %d has %d characters, want 76", i, len(l))
		}
		if len(l) == 0 || len(l) > 76 {
			t.Errorf("line %d has %d characters", i, len(l))
		}
		if bytes.ContainsAny(l, "\r\n") {
			t.Errorf("line %d has a bare line end", i)
		}
	}
}
