package main

import (
	"context"
	"io"
	"slices"

	"github.com/smimectl/smimectl/internal/batch"
	"github.com/smimectl/smimectl/pkg/verify"
)

// runDecryptBatch opens every message under opts.Paths as decrypt --trust
// opens one (issue #13 item 1): one line of result each, and with
// --out-dir the decrypted message of each one that passed in a file of its
// own. Without --out-dir no plaintext is written anywhere: a batch's
// standard output is its results, and many messages can't share one --out.
func runDecryptBatch(opts *decryptOptions, id *verify.Identity) error {
	paths, err := opts.checkBatch()
	if err != nil {
		return err
	}
	e := opts.env
	vopts, err := opts.verifyFlags.options(e, opts.Verbose, true) // the batch has its progress bar
	// Kept as it was before the shared verifyFlags (issue #17 item 5 is a
	// reorganisation): a decrypt batch has not compared the Date field nor
	// applied --min-digest. Whether it should, as decrypt --trust does for one
	// message, is for the lead to decide (see the cmd-scaffold report).
	vopts.MaxClockSkew, vopts.StrictDate, vopts.MinDigest = -1, false, 0
	if err != nil {
		return err
	}
	vopts.Decrypt = id
	vopts.AllowUnsigned = true // as decrypt --trust for one message
	shareAcrossBatch(&vopts)
	c := &batchCommand{
		name:   "decrypt",
		passed: "passed",
		text:   writeBatchText,
		json:   func(w io.Writer, rec *batchRecord) error { return writeBatchJSON(w, rec, vopts) },
		caps:   opts.capsFlags.open(e),
		work:   verifyWork(vopts),
	}
	if opts.OutDir != "" {
		od, err := openOutDir(e, opts.OutDir)
		if err != nil {
			return err
		}
		c.skipDirs = []string{opts.OutDir}
		c.work = od.work(vopts)
	}
	if opts.keyFlags.URI != "" {
		c.jobs = 1 // a smart card's session is not for concurrent use
	}
	return runBatch(e, &opts.batchFlags, paths, opts.JSON, c)
}

// work opens each message of a batch with vopts and writes each one that
// passed to its file under od.
func (od *outDir) work(vopts verify.Options) func(batch.Input, io.Reader) batchOutcome {
	return func(in batch.Input, r io.Reader) batchOutcome {
		f, err := od.create(in)
		if err != nil {
			return batchOutcome{err: err}
		}
		res, err := verify.Open(context.Background(), f, r, vopts)
		if err == nil {
			err = f.place()
		}
		if err != nil {
			f.discard()
			return batchOutcome{res: res, err: err}
		}
		return batchOutcome{res: res, out: f.path}
	}
}

// checkBatch refuses what decrypt can't do with many messages and returns
// the paths to read.
func (opts *decryptOptions) checkBatch() ([]string, error) {
	switch {
	case len(opts.Trust) == 0:
		return nil, usagef([]string{"give the trusted roots with --trust: a batch says of every message whether it passed, and without --trust its signatures would go unchecked",
			"to decrypt without checking signatures, decrypt one message at a time"}, "decrypt with several messages needs --trust")
	case opts.Out != "":
		return nil, usagef([]string{"write each decrypted message to a file of its own with --out-dir <directory>"}, "--out can't be used with several messages")
	case opts.annotating():
		return nil, usagef([]string{"--annotate filters one message at a time: run it once per message"}, "--annotate can't be used with several messages")
	case opts.Verbose:
		return nil, usagef([]string{"a batch prints one line per message; --json shows every layer"}, "-v can't be used with several messages")
	}
	paths := opts.Paths
	if len(paths) == 0 && opts.In != "" {
		paths = []string{opts.In}
	}
	if opts.OutDir != "" && (len(paths) == 0 || slices.Contains(paths, "-")) {
		return nil, usagef([]string{"--out-dir names each file after its message's path; write standard input's message with --out <file>"},
			"--out-dir can't be used with standard input")
	}
	return opts.batchFlags.check(paths)
}
