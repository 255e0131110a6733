package batch

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Issue #13 item 2, hostile input: an mbox of very many tiny messages is
// streamed, not loaded: the heap stays flat while every message goes
// through Walk and Run in order.
func TestMboxManyMessagesFlatMemory(t *testing.T) {
	const n = 200_000
	p := filepath.Join(t.TempDir(), "big.mbox")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for range n {
		w.WriteString("From x\nSubject: tiny\n\nhi\n\n")
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	var before, peak runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	next := 0
	Run(2, 16, Inputs([]string{p}, Options{}), func(in Input) int { return len(in.Data) }, func(in Input, size int) {
		if in.MboxIndex != next || in.Err != nil || size != len("Subject: tiny\n\nhi\n") {
			t.Fatalf("message %d: got index %d, %d bytes, err %v", next, in.MboxIndex, size, in.Err)
		}
		next++
		if next%50_000 == 0 {
			var m runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.HeapInuse {
				peak = m
			}
		}
	})
	if next != n {
		t.Fatalf("got %d messages, want %d", next, n)
	}
	// The file is 5.4 MB; holding its messages would take far more than this.
	if grew := int64(peak.HeapInuse) - int64(before.HeapInuse); grew > 2<<20 {
		t.Errorf("heap grew by %d bytes over %d messages, want under 2 MiB", grew, n)
	}
}
