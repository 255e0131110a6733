package main

import (
	"io"
	"io/fs"
	"time"
)

// env is everything a command may take from the process: its streams, its clock and
// its environment. Main fills it from the os package; tests fill it with buffers, a
// fixed clock and a map, so no command touches os.Stdout, time.Now or os.Getenv.
type env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Now            func() time.Time
	Getenv         func(string) string
	// Hostname names this host (--annotate's default --authserv-id); nil
	// means it is unknown.
	Hostname func() (string, error)
	// Umask is the process's umask, taken from the output files' modes as
	// the kernel does for any file the user creates: the output is made
	// under a restrictive mode and given its own at commit by chmod, which
	// the umask does not limit (red team, attack3: under umask 077 a signed
	// message, its plaintext readable, came out world-readable). Zero in
	// tests.
	Umask fs.FileMode
	// temps records the named temporary files of the run, for Main to
	// remove when a signal stops it; nil records nothing.
	temps *tempFiles
	// ReadPIN asks the user for a smart card's PIN without echo; nil means
	// there is no terminal to ask on.
	ReadPIN func(prompt string) ([]byte, error)
	// Terminal reports whether descriptor fd (1: standard output, 2:
	// standard error) is a terminal, and its width in columns; nil means
	// neither is (a batch draws its progress bar only on a terminal).
	Terminal func(fd int) (width int, ok bool)
	// Confirm asks the user a yes-or-no question on the terminal (directory
	// clean and publish --apply); nil means there is no terminal to ask on.
	Confirm func(prompt string) (bool, error)

	// release holds what a command opened for its whole run (smart-card
	// sessions), closed by run when the command ends.
	release []func() error
}

// atExit registers f to run when the command ends, success or not.
func (e *env) atExit(f func() error) { e.release = append(e.release, f) }

// releaseAll runs the registered functions, the last registered first.
func (e *env) releaseAll() {
	for i := len(e.release) - 1; i >= 0; i-- {
		_ = e.release[i]() // a session the module lost is gone either way
	}
	e.release = nil
}
