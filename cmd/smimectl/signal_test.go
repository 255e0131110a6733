//go:build linux

package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// Issue #11 item 14: a run killed mid-message leaves nothing on disk — no
// ".NAME.tmp*" beside --out, no spool file (with decrypted plaintext) in
// TMPDIR — and exits with 128+n. These tests run the real command (the test
// binary as "smimectl", as the scripts do), feed it a large message through a
// pipe and stop feeding part-way, so that it is blocked mid-message with its
// spool on disk; they look at it through /proc, then signal it.

// bigMessages are a large message signed (clear) and encrypted for bob, made
// once: their content is larger than the in-memory spool threshold (8 MiB),
// so verify and decrypt spool it to disk.
type bigMessages struct {
	dir                     string // the lab and the messages
	plain, signed, enc, bcc []byte
}

// bigContentSize is the size of the messages' content.
const bigContentSize = 24 << 20

// TestKilledRunLeavesNothing (issue #11 item 14) makes the messages once for
// its subtests.
func TestKilledRunLeavesNothing(t *testing.T) {
	m, err := makeBigMessages(t.TempDir(), bigContentSize)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("signal", func(t *testing.T) { testSignalLeavesNothing(t, m) })
	t.Run("timeout", func(t *testing.T) { testTimeoutLeavesNothing(t, m) })
	t.Run("broken pipe", func(t *testing.T) { testBrokenPipeLeavesNothing(t, m) })
}

// testSignalLeavesNothing (issue #11 item 14): SIGTERM, SIGINT and SIGHUP
// stop a run mid-message with status 128+n, no ".F.tmp*" beside --out, no F,
// and nothing in TMPDIR; while the run is blocked, its spool and its --out
// file are already on disk yet have no name, so SIGKILL leaves nothing too.
func testSignalLeavesNothing(t *testing.T, m *bigMessages) {
	lab := filepath.Join(m.dir, "lab")
	bob := []string{"--key", lab + "/bob.key", "--cert", lab + "/bob.crt"}
	tests := []struct {
		name  string
		args  []string
		input []byte
		feed  int  // bytes fed before the run is left blocked
		spool bool // the run has its spool on disk by then
		sig   syscall.Signal
	}{
		{"decrypt SIGTERM", append([]string{"decrypt", "--out", "F"}, bob...), m.enc, 20 << 20, true, syscall.SIGTERM},
		{"decrypt --trust SIGINT", append([]string{"decrypt", "--out", "F", "--trust", lab + "/root.crt", "--require", "encrypted"}, bob...), m.enc, 20 << 20, true, syscall.SIGINT},
		{"verify SIGTERM", []string{"verify", "--trust", lab + "/root.crt", "--intermediates", lab + "/intermediate.crt", "--out", "F"}, m.signed, 16 << 20, true, syscall.SIGTERM},
		{"verify --annotate SIGHUP", []string{"verify", "--annotate", "--authserv-id", "mx", "--trust", lab + "/root.crt", "--out", "F"}, m.signed, 16 << 20, true, syscall.SIGHUP},
		{"encrypt SIGINT", []string{"encrypt", "--recipient-cert", lab + "/bob.crt", "--out", "F"}, m.plain, 12 << 20, false, syscall.SIGINT},
		// SIGKILL can't be caught: nothing has a name to be left.
		{"decrypt SIGKILL", append([]string{"decrypt", "--out", "F"}, bob...), m.enc, 20 << 20, true, syscall.SIGKILL},
		{"encrypt SIGKILL", []string{"encrypt", "--recipient-cert", lab + "/bob.crt", "--out", "F"}, m.plain, 12 << 20, false, syscall.SIGKILL},
		{"encrypt --bcc separate SIGTERM", []string{"encrypt", "--certs", lab, "--bcc", "separate", "--out-dir", "out"}, m.bcc, 12 << 20, true, syscall.SIGTERM},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			work, tmp := t.TempDir(), t.TempDir()
			cmd := exec.Command("smimectl", tc.args...)
			cmd.Dir = work
			cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			// Feed part of the message, then leave the run blocked on
			// its input: mid-message.
			fed := make(chan error, 1)
			go func() { _, err := stdin.Write(tc.input[:tc.feed]); fed <- err }()
			defer stdin.Close()
			if err := <-fed; err != nil {
				t.Fatalf("feeding the message: %v (stderr: %s)", err, stderr.String())
			}
			pid := cmd.Process.Pid
			if tc.spool {
				waitFor(t, "the spool is on disk", func() bool { return len(openIn(t, pid, tmp)) > 0 })
				unnamed(t, pid, tmp, "TMPDIR")
			}
			if slices.Contains(tc.args, "--out") && !slices.Contains(tc.args, "--annotate") {
				// (--annotate opens --out only once the verdict is in.)
				// Mid-message, the --out file is open: without a name
				// (O_TMPFILE), so even SIGKILL leaves nothing.
				waitFor(t, "the --out file is being written", func() bool {
					for fd := range openIn(t, pid, work) {
						if fi, err := os.Stat(fd); err == nil && (fi.Size() > 1<<20 || tc.name != "encrypt SIGINT") {
							return true
						}
					}
					return false
				})
				unnamed(t, pid, work, "the --out directory")
			}
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			err = cmd.Wait()
			if tc.sig == syscall.SIGKILL {
				if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
					t.Errorf("got %v, want killed by SIGKILL", err)
				}
			} else if got, want := exitStatus(t, err), 128+int(tc.sig); got != want {
				t.Errorf("exit status %d, want %d (stderr: %s)", got, want, stderr.String())
			}
			if got := names(t, work); len(got) != 0 {
				t.Errorf("left beside --out: %q, want nothing", got)
			}
			if got := names(t, tmp); len(got) != 0 {
				t.Errorf("left in TMPDIR: %q, want nothing", got)
			}
		})
	}
}

// testTimeoutLeavesNothing (issue #11 item 14): timeout(1) stops a run with
// SIGTERM; with --preserve-status it reports the run's own status, 143, and
// nothing is left.
func testTimeoutLeavesNothing(t *testing.T, m *bigMessages) {
	lab := filepath.Join(m.dir, "lab")
	timeout, err := exec.LookPath("timeout")
	if err != nil {
		t.Fatalf("timeout(1) of coreutils is needed: %v", err)
	}
	work, tmp := t.TempDir(), t.TempDir()
	cmd := exec.Command(timeout, "--preserve-status", "-s", "TERM", "3", "smimectl",
		"decrypt", "--key", lab+"/bob.key", "--cert", lab+"/bob.crt", "--out", "F")
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	go stdin.Write(m.enc[:20<<20]) // and never the rest: timeout stops it
	defer stdin.Close()
	if got := exitStatus(t, cmd.Wait()); got != 143 {
		t.Errorf("exit status %d, want 143", got)
	}
	if got := names(t, work); len(got) != 0 {
		t.Errorf("left beside --out: %q, want nothing", got)
	}
	if got := names(t, tmp); len(got) != 0 {
		t.Errorf("left in TMPDIR: %q, want nothing", got)
	}
}

// testBrokenPipeLeavesNothing (issue #11 item 14): a standard output whose
// reader has gone ends the run with status 141 (128+SIGPIPE), silently, and
// removes the --out temporary file: Go's default (death by SIGPIPE at the
// first write to stdout) left ".F.tmp*" behind.
func testBrokenPipeLeavesNothing(t *testing.T, m *bigMessages) {
	lab := filepath.Join(m.dir, "lab")
	tests := []struct {
		name     string
		args     []string
		readSome int // bytes the reader takes before it goes; -1: gone before the run starts
	}{
		// The JSON result goes to stdout before --out is committed.
		{"decrypt --json --out", []string{"decrypt", "--key", lab + "/bob.key", "--cert", lab + "/bob.crt",
			"--json", "--out", "F", "--in", filepath.Join(m.dir, "enc.eml")}, -1},
		{"encrypt --json --out", []string{"encrypt", "--recipient-cert", lab + "/bob.crt",
			"--json", "--out", "F", "--in", filepath.Join(m.dir, "plain.eml")}, -1},
		// verify ... | head -c 100
		{"verify | head", []string{"verify", "--trust", lab + "/root.crt", "--intermediates", lab + "/intermediate.crt",
			"--in", filepath.Join(m.dir, "signed.eml")}, 100},
		// verify --out FIFO, and the reader of the FIFO goes.
		{"verify --out fifo", []string{"verify", "--trust", lab + "/root.crt", "--intermediates", lab + "/intermediate.crt",
			"--in", filepath.Join(m.dir, "signed.eml"), "--out", "FIFO"}, 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			work, tmp := t.TempDir(), t.TempDir()
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			args := slices.Clone(tc.args)
			var fifoReader chan *os.File
			if i := slices.Index(args, "FIFO"); i >= 0 {
				// The command writes to a named pipe; its reader is
				// the one that goes.
				fifo := filepath.Join(t.TempDir(), "fifo")
				if err := syscall.Mkfifo(fifo, 0o600); err != nil {
					t.Fatal(err)
				}
				args[i] = fifo
				fifoReader = make(chan *os.File, 1)
				go func() {
					f, err := os.Open(fifo) // until the command opens it
					if err != nil {
						t.Error(err)
					}
					fifoReader <- f
				}()
			}
			cmd := exec.Command("smimectl", args...)
			cmd.Dir = work
			cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
			cmd.Stdout = w
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if tc.readSome < 0 {
				r.Close()
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			w.Close()
			if fifoReader != nil {
				defer r.Close()
				r = <-fifoReader
			}
			if tc.readSome >= 0 {
				if _, err := io.ReadFull(r, make([]byte, tc.readSome)); err != nil {
					t.Fatal(err)
				}
				r.Close()
			}
			if got := exitStatus(t, cmd.Wait()); got != 141 {
				t.Errorf("exit status %d, want 141", got)
			}
			if stderr.Len() != 0 {
				t.Errorf("stderr %q, want nothing", stderr.String())
			}
			if got := names(t, work); len(got) != 0 {
				t.Errorf("left beside --out: %q, want nothing", got)
			}
			if got := names(t, tmp); len(got) != 0 {
				t.Errorf("left in TMPDIR: %q, want nothing", got)
			}
		})
	}
}
