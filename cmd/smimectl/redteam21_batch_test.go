//go:build unix

package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/batch"
)

// Red team (session 21): the walk sees a regular file, but a worker opens
// it later; whoever can write the directory swaps a FIFO in meanwhile.
// os.Open of a FIFO waits for a writer for ever, and the run with it. The
// worker must fail that input at once and go on.
func TestRedteamBatchWorkOnFIFOSwapped(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.eml")
	if err := os.WriteFile(p, []byte("Subject: x\r\n\r\nbody\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var inputs []batch.Input
	batch.Walk([]string{dir}, batch.Options{}, func(in batch.Input) bool {
		inputs = append(inputs, in)
		return true
	})
	if len(inputs) != 1 || inputs[0].Err != nil || inputs[0].Skipped != "" {
		t.Fatalf("walk: %+v, want one readable input", inputs)
	}
	// The swap, between the walk and the worker.
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mkfifo: %v (CI=true forbids skipping)", err)
		}
		t.Skipf("no FIFOs here: %v", err)
	}
	t.Cleanup(func() {
		// Release a worker stuck in open (the code before the fix).
		if f, err := os.OpenFile(p, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
	done := make(chan batchOutcome, 1)
	go func() {
		done <- workOn(&env{}, inputs[0], func(batch.Input, io.Reader) batchOutcome {
			return batchOutcome{}
		})
	}()
	select {
	case out := <-done:
		if !errors.Is(out.err, batch.ErrNotRegular) {
			t.Fatalf("workOn on a FIFO: err %v, want batch.ErrNotRegular", out.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("workOn blocked opening a FIFO swapped in after the walk")
	}
}
