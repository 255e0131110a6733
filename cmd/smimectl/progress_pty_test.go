//go:build linux

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal: the master (the user's side) and the
// slave (the program's terminal).
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 100}); err != nil {
		t.Fatal(err)
	}
	return master, slave
}

// screen plays terminal output back as a terminal shows it: a carriage
// return goes back to the start of the line, a line feed ends it, other
// bytes overwrite the line from the cursor on. It returns the lines, the
// last one unfinished (where the cursor is).
func screen(out string) []string {
	var lines []string
	var line []byte
	col := 0
	for i := 0; i < len(out); i++ {
		switch c := out[i]; c {
		case '\r':
			col = 0
		case '\n':
			lines = append(lines, strings.TrimRight(string(line), " "))
			line, col = nil, 0
		default:
			if col < len(line) {
				line[col] = c
			} else {
				line = append(line, c)
			}
			col++
		}
	}
	return append(lines, strings.TrimRight(string(line), " "))
}

// Issue #13 item 5: a batch draws its progress bar on standard error when
// that is a terminal, and only then: never when it is a pipe, never with
// --quiet; on a terminal it never shares a line with a result or a warning
// and is wiped before the summary line. Run on a pseudo-terminal.
func TestProgressBarPTY(t *testing.T) {
	m, err := makeBigMessages(t.TempDir(), 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	fx := t.TempDir()
	var want strings.Builder
	for i := range 60 {
		name := filepath.Join(fx, fmt.Sprintf("%02d.eml", i))
		if err := os.WriteFile(name, m.signed, 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&want, "%s\tpass\tsmimectl lab <alice@example.com>\t-\n", name)
	}
	lab := filepath.Join(m.dir, "lab")
	args := []string{"verify", "--trust", lab + "/root.crt", "--intermediates", lab + "/intermediate.crt", "--revocation", "off", "--jobs", "1", fx}
	const summary = "smimectl: 60 passed, 0 failed"

	// run runs smimectl with standard error (and standard output, if
	// stdoutTTY) on a pseudo-terminal, and returns what the terminal got
	// and what standard output's pipe got.
	run := func(t *testing.T, stdoutTTY bool, extra ...string) (tty, stdout string) {
		master, slave := openPTY(t)
		defer master.Close()
		cmd := exec.Command("smimectl", append(args, extra...)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, slave
		if stdoutTTY {
			cmd.Stdout = slave
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		slave.Close() // the child has it: EOF (EIO) once it exits
		var got bytes.Buffer
		done := make(chan struct{})
		go func() {
			io.Copy(&got, master)
			close(done)
		}()
		if err := cmd.Wait(); err != nil {
			t.Fatalf("smimectl %s: %v", strings.Join(cmd.Args[1:], " "), err)
		}
		<-done
		return got.String(), out.String()
	}
	signer := func(s string) string { return strings.ReplaceAll(s, "smimectl lab <", "Alice <") }

	t.Run("terminal", func(t *testing.T) {
		tty, stdout := run(t, false)
		if stdout != signer(want.String()) {
			t.Errorf("standard output:\n%s\nwant:\n%s", stdout, signer(want.String()))
		}
		if !strings.Contains(tty, "\rsmimectl: ") || !strings.Contains(tty, " messages  ") && !strings.Contains(tty, " message  ") {
			t.Errorf("no progress bar on the terminal: %q", tty)
		}
		if lines := screen(tty); strings.Join(lines, "\n") != summary+"\n" {
			t.Errorf("the terminal shows %q, want only %q: the bar was not wiped before it", lines, summary)
		}
	})
	t.Run("stdout on the terminal too", func(t *testing.T) {
		tty, _ := run(t, true)
		if !strings.Contains(tty, " message") {
			t.Errorf("no progress bar on the terminal: %q", tty)
		}
		// Every line the terminal shows is a result or the summary,
		// never a bar's remains; the cursor ends on an empty line.
		wantLines := strings.Split(signer(want.String())+summary+"\n", "\n")
		if got := screen(tty); strings.Join(got, "\n") != strings.Join(wantLines, "\n") {
			t.Errorf("the terminal shows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantLines, "\n"))
		}
	})
	t.Run("quiet", func(t *testing.T) {
		tty, stdout := run(t, false, "--quiet")
		if tty != "" {
			t.Errorf("--quiet wrote %q on the terminal, want nothing", tty)
		}
		if stdout != signer(want.String()) {
			t.Errorf("standard output:\n%s\nwant:\n%s", stdout, signer(want.String()))
		}
	})
	t.Run("pipe", func(t *testing.T) {
		cmd := exec.Command("smimectl", args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		if stderr.String() != summary+"\n" {
			t.Errorf("standard error %q, want only the summary %q", stderr.String(), summary+"\n")
		}
	})
}
