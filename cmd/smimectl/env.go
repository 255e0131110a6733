package main

import (
	"io"
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
	// temps records the named temporary files of the run, for Main to
	// remove when a signal stops it; nil records nothing.
	temps *tempFiles
}
