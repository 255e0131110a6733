package batch

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
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

// Issue #13, hostile input: an mbox of large messages is not held a
// window's worth at a time: a Budget keeps the bytes of the messages
// between the walk and their release under its limit (one message over
// the limit still goes through alone), in order, every message once.
func TestBudgetBoundsLargeMessages(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.mbox")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	body := bytes.Repeat([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n"), 1<<14) // 1 MiB
	const n = 24
	for i := range n {
		w.WriteString("From x\nSubject: big\n\n")
		if i == n-1 {
			w.Write(body) // the last one is larger than the budget
			w.Write(body)
			w.Write(body)
			w.Write(body)
		}
		w.Write(body)
		w.WriteString("\n")
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	const limit = 3 << 20
	b := NewBudget(limit)
	next := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(8, 64, b.Inputs(Inputs([]string{p}, Options{})), func(in Input) int { return len(in.Data) }, func(in Input, size int) {
			defer b.Release(in)
			if in.MboxIndex != next || in.Err != nil || size < 1<<20 {
				t.Errorf("message %d: got index %d, %d bytes, err %v", next, in.MboxIndex, size, in.Err)
			}
			next++
		})
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("Run with a Budget stalled")
	}
	if next != n {
		t.Fatalf("got %d messages, want %d", next, n)
	}
	if b.peak > 5<<20+1<<10 || b.peak < 1<<20 {
		t.Errorf("peak %d bytes held, want at most the 5 MiB message alone (limit %d)", b.peak, limit)
	}
	// Before the last (5 MiB) one, never more than the limit.
	b2 := NewBudget(limit)
	Run(8, 64, b2.Inputs(Inputs([]string{p}, Options{})), func(in Input) int { return 0 }, func(in Input, _ int) {
		if in.MboxIndex < n-1 {
			b2.mu.Lock()
			if b2.held > limit {
				t.Errorf("message %d: %d bytes held, over the limit %d", in.MboxIndex, b2.held, limit)
			}
			b2.mu.Unlock()
		}
		b2.Release(in)
	})
}
