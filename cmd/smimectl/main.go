// Command smimectl signs, encrypts, decrypts and verifies S/MIME mail from a shell,
// following the steps of the S/MIME guide (Chapter 6) with today's algorithms
// (RFC 8551, RFC 5652).
//
// Every command reads a message from --in or standard input and writes the result to
// --out or standard output; with --out the file appears only when the command succeeds.
// Data goes to standard output, everything else to standard error, in one grammar:
//
//	smimectl: error: <what failed>
//	smimectl: hint: <what to do>
//	smimectl: warning: <a soft failure>
//
// The exit status says what happened (see "smimectl help exit-codes"): 0 done, 1 the
// message failed, 2 usage or local setup error, 3 no usable certificate or key, 75 a
// temporary failure worth retrying.
//
// This package is glue only: flags become an options struct, the options become one
// call into pkg/sign, pkg/verify and their peers, and the result becomes output and an
// exit status. It holds no crypto, MIME or certificate logic.
package main

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"golang.org/x/term"
)

func main() { os.Exit(Main()) }

// Main runs smimectl with the process's arguments, streams and environment, reports
// any error on standard error, and returns the exit status.
//
// A run stopped by SIGINT, SIGTERM or SIGHUP, or by a standard output whose
// reader has gone, removes its temporary files and exits with 128 plus the
// signal's number (see cleanup.go).
func Main() int {
	temps := &tempFiles{}
	defer handleSignals(temps)()
	e := &env{
		Stdin:    os.Stdin,
		Stdout:   &stdioWriter{os.Stdout, temps},
		Stderr:   &stdioWriter{os.Stderr, temps},
		Now:      time.Now,
		Getenv:   os.Getenv,
		Hostname: os.Hostname,
		temps:    temps,
		ReadPIN:  ttyPINReader(temps),
		Confirm:  ttyConfirm(),
		Umask:    processUmask(),
		Terminal: terminalWidth,
	}
	code := run(e, os.Args[1:])
	// The last write to standard output may fail only when it is closed
	// (a file on NFS, a full disk reported late): a run that wrote its
	// result must know it was kept.
	if err := os.Stdout.Close(); err != nil && !errors.Is(err, syscall.EBADF) && code == exitOK {
		err = fmt.Errorf("writing standard output: %w", err)
		reportError(e.Stderr, err, e.Getenv("SMIMECTL_DEBUG") == "1")
		code = exitCode(err)
	}
	return code
}

// run executes one command line in e and returns the exit status.
func run(e *env, args []string) int {
	root := newRootCmdFor(e, args)
	root.SetArgs(args)
	err := root.Execute()
	e.releaseAll()
	if err == nil {
		return exitOK
	}
	reportError(e.Stderr, err, e.Getenv("SMIMECTL_DEBUG") == "1")
	return exitCode(err)
}

// terminalWidth is env.Terminal for the process's descriptors: whether fd
// is a terminal, and its width (80 when the terminal does not say).
func terminalWidth(fd int) (int, bool) {
	if !term.IsTerminal(fd) {
		return 0, false
	}
	w, _, err := term.GetSize(fd)
	if err != nil || w <= 0 {
		w = 80
	}
	return w, true
}
