// Package batch finds the messages of a batch run — files, directories,
// Maildirs and mbox files — and works on them in parallel while giving the
// results back in input order.
//
// [Walk] enumerates the inputs named on a command line as [Input] values:
// a file is one message, or, when it starts with a "From " line, an mbox
// whose messages [SplitMbox] streams out one at a time; a directory is
// walked in lexical order for files matching a pattern, and a Maildir's
// cur/ and new/ give all their files. [Run] hands the inputs to a number of
// workers and calls its emit function in input order, with at most a
// bounded number of inputs in flight, so memory stays flat whatever the
// number of messages.
//
// Nothing here reads a message's content except to split an mbox; what a
// message means is the caller's business.
package batch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Input is one message to work on, or a note about a path that gives none.
type Input struct {
	// Path is the file as named on the command line or found in a
	// directory under a name given on the command line; "-" is standard
	// input.
	Path string
	// MboxIndex is the message's index in the mbox Path, from 0, or -1 if
	// Path is not an mbox.
	MboxIndex int
	// MboxOffset is the byte offset of the message's "From " line in the
	// mbox; 0 if Path is not an mbox.
	MboxOffset int64
	// Data is the message of an mbox; nil for a file, which the caller
	// opens itself.
	Data []byte
	// Size is the bytes of the file this input stands for: the file's
	// size, or for a message of an mbox the bytes from its "From " line to
	// the next one's, so that the sizes of a run's inputs add up to the
	// size of its files (a progress report). 0 for standard input, for
	// skipped paths and for ones that can't be read.
	Size int64
	// Err, if not nil, is why Path could not be read: the input is no
	// message. The caller reports it as a fault of this machine.
	Err error
	// Skipped, if not "", says why Path was passed over (not a regular
	// file, given twice): the input is no message and no fault.
	Skipped string
}

// Options say how [Walk] looks for messages.
type Options struct {
	// Glob is the pattern, as filepath.Match reads it, that a file's name
	// must match to be taken from a directory; "" is "*.eml". Files named
	// on the command line and the files of a Maildir are taken whatever
	// their name.
	Glob string
	// MaxMboxMessage is the largest mbox message held in memory; a larger
	// one is an Input with Err. 0 is DefaultMaxMboxMessage.
	MaxMboxMessage int64
	// SkipDirs are directories that are not walked into (compared with
	// os.SameFile): where the caller writes its output, so that a walk
	// never reads what the run itself wrote.
	SkipDirs []string
	// StatOnly makes Walk open no file: every regular file is one Input
	// with its Size, mbox or not, and no Data. For counting a run's bytes
	// before or while it runs.
	StatOnly bool

	skip []fs.FileInfo // SkipDirs, as found when Walk began
}

// skipped reports whether dir is one of o.SkipDirs.
func (o *Options) skipped(dir string) bool {
	if len(o.skip) == 0 {
		return false
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return false
	}
	for _, s := range o.skip {
		if os.SameFile(fi, s) {
			return true
		}
	}
	return false
}

func (o *Options) glob() string {
	if o.Glob == "" {
		return "*.eml"
	}
	return o.Glob
}

// DefaultMaxMboxMessage is the largest mbox message held in memory when
// Options.MaxMboxMessage is 0: 64 MiB.
const DefaultMaxMboxMessage = 64 << 20

func (o *Options) maxMbox() int64 {
	if o.MaxMboxMessage == 0 {
		return DefaultMaxMboxMessage
	}
	return o.MaxMboxMessage
}

// CheckGlob reports whether pattern is a valid filepath.Match pattern.
func CheckGlob(pattern string) error {
	if _, err := filepath.Match(pattern, ""); err != nil {
		return fmt.Errorf("batch: bad pattern %q: %w", pattern, err)
	}
	return nil
}

// Walk calls yield with every input under paths, in order, until yield
// returns false. A path given twice (after filepath.Clean) gives its
// messages once; the second is an Input with Skipped. Only regular files
// are opened: a FIFO, a device or a socket is skipped with a note, since
// reading it could block for ever; a symbolic link to a file is followed,
// one to a directory is not (a link loop can't make the walk endless).
// "-" is passed through as an Input with Path "-" for the caller to read.
func Walk(paths []string, opts Options, yield func(Input) bool) {
	for _, d := range opts.SkipDirs {
		if fi, err := os.Stat(d); err == nil {
			opts.skip = append(opts.skip, fi)
		}
	}
	seen := make(map[string]bool)
	for _, p := range paths {
		if p == "-" {
			if !yield(Input{Path: p, MboxIndex: -1}) {
				return
			}
			continue
		}
		key := filepath.Clean(p)
		if seen[key] {
			if !yield(Input{Path: p, MboxIndex: -1, Skipped: "given more than once"}) {
				return
			}
			continue
		}
		seen[key] = true
		fi, err := os.Stat(p)
		if err != nil {
			if !yield(Input{Path: p, MboxIndex: -1, Err: err}) {
				return
			}
			continue
		}
		var ok bool
		if fi.IsDir() {
			ok = walkDir(p, &opts, yield)
		} else {
			ok = file(p, fi, &opts, yield)
		}
		if !ok {
			return
		}
	}
}

// walkDir walks dir in lexical order. A Maildir (a directory with cur and
// new subdirectories) gives every regular file of cur and new, in that
// order; other directories give the files that match the glob.
func walkDir(dir string, opts *Options, yield func(Input) bool) bool {
	if opts.skipped(dir) {
		return yield(Input{Path: dir, MboxIndex: -1, Skipped: "the output directory, not read"})
	}
	if isMaildir(dir) {
		for _, sub := range []string{"cur", "new"} {
			entries, err := os.ReadDir(filepath.Join(dir, sub))
			if err != nil {
				if !yield(Input{Path: filepath.Join(dir, sub), MboxIndex: -1, Err: err}) {
					return false
				}
				continue
			}
			for _, e := range entries {
				if e.Name()[0] == '.' {
					continue
				}
				p := filepath.Join(dir, sub, e.Name())
				if !entry(p, e, opts, yield) {
					return false
				}
			}
		}
		return true
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return yield(Input{Path: dir, MboxIndex: -1, Err: err})
	}
	// os.ReadDir returns the entries sorted by name: the order is stable.
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if e.IsDir() {
			if !walkDir(p, opts, yield) {
				return false
			}
			continue
		}
		if m, _ := filepath.Match(opts.glob(), e.Name()); !m {
			continue
		}
		if !entry(p, e, opts, yield) {
			return false
		}
	}
	return true
}

// entry gives the inputs of directory entry e at p, following a symbolic
// link only to a file.
func entry(p string, e fs.DirEntry, opts *Options, yield func(Input) bool) bool {
	fi, err := os.Stat(p) // follows a link
	if err != nil {
		return yield(Input{Path: p, MboxIndex: -1, Err: err})
	}
	if fi.IsDir() {
		return yield(Input{Path: p, MboxIndex: -1, Skipped: "a symbolic link to a directory, not followed"})
	}
	return file(p, fi, opts, yield)
}

func isMaildir(dir string) bool {
	for _, sub := range []string{"cur", "new"} {
		fi, err := os.Stat(filepath.Join(dir, sub))
		if err != nil || !fi.IsDir() {
			return false
		}
	}
	return true
}

// file gives the input of a file: itself, or the messages of an mbox.
func file(p string, fi fs.FileInfo, opts *Options, yield func(Input) bool) bool {
	if !fi.Mode().IsRegular() {
		return yield(Input{Path: p, MboxIndex: -1, Skipped: "not a regular file"})
	}
	if opts.StatOnly {
		return yield(Input{Path: p, MboxIndex: -1, Size: fi.Size()})
	}
	f, err := Open(p)
	if err != nil {
		return yield(Input{Path: p, MboxIndex: -1, Err: err})
	}
	defer f.Close()
	head := make([]byte, 5)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.EOF && !errors.Is(err, io.ErrUnexpectedEOF) {
		return yield(Input{Path: p, MboxIndex: -1, Err: err})
	}
	if !IsMbox(head[:n]) {
		return yield(Input{Path: p, MboxIndex: -1, Size: fi.Size()})
	}
	stopped := false
	err = SplitMbox(io.MultiReader(bytes.NewReader(head[:n]), f), opts.maxMbox(), func(m MboxMessage) bool {
		in := Input{Path: p, MboxIndex: m.Index, MboxOffset: m.Offset, Data: m.Data, Err: m.Err, Size: m.Size}
		if !yield(in) {
			stopped = true
			return false
		}
		return true
	})
	if stopped {
		return false
	}
	if err != nil {
		return yield(Input{Path: p, MboxIndex: -1, Err: err})
	}
	return true
}
