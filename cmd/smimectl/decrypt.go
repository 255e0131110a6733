package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/pkg/encrypt"
	"github.com/smimectl/smimectl/pkg/verify"
)

// decryptOptions are the options of decrypt.
type decryptOptions struct {
	ioFlags
	keyFlags
	TryAll bool // --try-all: try the key on every recipient entry
	// SmartCardOnly (--smartcard-only): decrypt only with a key on a smart card
	SmartCardOnly bool
	JSON          bool // --json: print the result as JSON instead of the message
	// With --trust, decrypt opens every layer and checks signed ones as verify does.
	verifyFlags
	Verbose bool // -v: one line per layer on standard error
	annotateFlags
	eolFlag
	batchFlags
	OutDir    string   // --out-dir: with several messages, where each decrypted one goes
	Paths     []string // the arguments: messages, directories, Maildirs, mbox files
	capsFlags          // --capabilities-db: with --trust, what valid signers advertised is remembered

	env *env
}

func newDecryptCmd(e *env, runF func(*decryptOptions) error) *cobra.Command {
	opts := &decryptOptions{env: e}
	cmd := &cobra.Command{
		Use:               "decrypt {--key <file> --cert <file> | --p12 <file> | --pkcs11 <uri>} [flags] [<path>...]",
		Short:             "Decrypt an S/MIME encrypted message",
		Long:              helpText(decryptLong),
		Example:           helpText(decryptExamples),
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeFiles(messageExts...),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			opts.batchFlags.setGiven(cmd.Flags())
			if cmd.Flags().Changed("out-dir") {
				opts.batchFlags.given = true
			}
			if runF != nil {
				return runF(opts)
			}
			return runDecrypt(opts)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	opts.ioFlags.addFlags(fs)
	opts.keyFlags.addFlags(fs)
	fs.BoolVar(&opts.SmartCardOnly, "smartcard-only", false, "decrypt only with a private key on a smart card (--pkcs11), never from a file (the guide's SmartCardOnly)")
	fs.BoolVar(&opts.TryAll, "try-all", false, "try the key on every recipient entry when none names the certificate")
	fs.BoolVar(&opts.JSON, "json", false, "print the result as one JSON object on standard output instead of the message")
	opts.verifyFlags.addFlags(fs, "with --trust: ")
	addRequireFlag(fs, &opts.Require)
	fs.BoolVarP(&opts.Verbose, "verbose", "v", false, "with --trust: print one line per layer and per network request on standard error")
	opts.informFlags.addFlags(fs, true)
	opts.annotateFlags.addFlags(fs, "the decrypted message (or, if anything failed, the message as received)")
	opts.batchFlags.addFlags(fs, true)
	fs.StringVar(&opts.OutDir, "out-dir", "", "with several messages: write each decrypted message into `directory`, named after its input")
	fs.SetAnnotation("out-dir", cobra.BashCompSubdirsInDir, []string{})
	opts.capsFlags.addFlags(fs)
	opts.eolFlag.addFlags(fs)
	return cmd
}

// runDecrypt loads the key, decrypts the message once, and writes the message
// (or the JSON result) and any warnings.
func runDecrypt(opts *decryptOptions) error {
	e := opts.env
	if !opts.keyFlags.given() {
		return withHint(&noCertError{err: errors.New("no private key to decrypt with")},
			"give your key with --key and --cert, --p12, or --pkcs11 for a smart card")
	}
	if opts.SmartCardOnly && opts.URI == "" {
		return smartCardRequired(map[bool]string{true: "--key", false: "--p12"}[opts.Key != ""])
	}
	if len(opts.Trust) == 0 && len(opts.Require) > 0 {
		return usagef([]string{"give the trusted roots with --trust to check signed layers"}, "--require needs --trust")
	}
	if err := checkInArgs("decrypt", opts.In, opts.Paths); err != nil {
		return err
	}
	if len(opts.Trust) == 0 && len(opts.Paths) == 1 && !opts.batchFlags.given {
		// One message file without --trust is decrypted as --in names it,
		// the message on standard output (issue #16 item 8); a directory is
		// a batch, which needs --trust.
		if fi, err := os.Stat(opts.Paths[0]); err != nil || !fi.IsDir() {
			opts.In, opts.Paths = opts.Paths[0], nil
		}
	}
	if opts.batchFlags.isBatch(opts.Paths) {
		if _, err := opts.checkBatch(); err != nil {
			return err // before the key is opened
		}
		id, err := opts.keyFlags.loadIdentity(e, "")
		if err != nil {
			return err
		}
		return runDecryptBatch(opts, &verify.Identity{Certificate: id.Certificate, Key: id.Signer, TryAll: opts.TryAll})
	}
	if opts.annotating() {
		return runDecryptAnnotate(opts)
	}
	form, err := opts.informFlags.form()
	if err != nil {
		return err
	}
	if opts.Signer != "" && len(opts.Trust) == 0 {
		return usagef([]string{"give the trusted roots with --trust to check signed layers"}, "--signer needs --trust")
	}
	id, err := opts.keyFlags.loadIdentity(e, "")
	if err != nil {
		return err
	}
	if len(opts.Trust) > 0 {
		return runDecryptLayers(opts, &verify.Identity{Certificate: id.Certificate, Key: id.Signer, TryAll: opts.TryAll})
	}
	in, err := openInput(e, opts.In)
	if err != nil {
		return err
	}
	defer in.Close()
	w, commit, abort, err := contentOutput(e, opts.Out, opts.JSON, modePrivate)
	if err != nil {
		return err
	}
	// Issue #15 item 6: signed layers over the encryption are taken off unchecked
	// (with a warning); --trust checks them.
	unwrapped := &mime.Spool{}
	defer unwrapped.Close()
	rd, w, end := opts.eolFlag.apply(in, w)
	layers, err := verify.UnwrapSigned(unwrapped, rd, verify.UnwrapOptions{Form: form})
	var res *encrypt.Result
	if err == nil {
		var ur io.Reader
		if ur, err = unwrapped.Open(); err == nil {
			res, err = encrypt.Decrypt(w, ur, encrypt.DecryptOptions{
				Certificate: id.Certificate, Key: id.Signer, TryAll: opts.TryAll, Form: form,
			})
		}
	}
	if err == nil {
		err = end()
	}
	if err == nil && len(layers) > 0 {
		res.Warnings = append([]string{verify.UnwrappedWarning(layers, otherCommandName)}, res.Warnings...)
	}
	if err != nil {
		abort()
		// A verdict on the message (not for us, does not decrypt, not
		// encrypted, malformed) is an object too, with its reason; a
		// fault of this machine is not (exit 2 or 75).
		if opts.JSON && exitCode(err) == exitFailed && localFault(err) == nil {
			if jerr := encodeJSON(e.Stdout, decryptJSON{jsonHead: newJSONHead(opts.In), Reason: reasonCode(err), Error: errorText(err)}); jerr != nil {
				return fmt.Errorf("writing the result: %w", jerr)
			}
		}
		return err
	}
	printWarnings(e.Stderr, res.Warnings)
	if opts.JSON {
		if err := encodeJSON(e.Stdout, decryptJSON{jsonHead: newJSONHead(opts.In), Result: res}); err != nil {
			abort()
			return fmt.Errorf("writing the result: %w", err)
		}
	}
	return commit()
}

// runDecryptLayers opens every layer of the message with verify.Open: signed
// layers are checked against --trust, encrypted ones decrypted with id.
func runDecryptLayers(opts *decryptOptions, id *verify.Identity) error {
	e := opts.env
	vopts, err := opts.verifyFlags.options(e, opts.Verbose, false)
	if err != nil {
		return err
	}
	vopts.Decrypt = id
	// decrypt reads encrypted-only mail too; the result then has no signers and
	// is not valid (--require signed refuses it).
	vopts.AllowUnsigned = true
	job := openJob{e: e, io: opts.ioFlags, json: opts.JSON, eol: opts.eolFlag, perm: modePrivate, vopts: vopts, caps: &opts.capsFlags,
		report: func(res *verify.Result) {
			if opts.Verbose {
				reportLayers(e.Stderr, res)
			}
		}}
	_, err = job.run()
	return err
}
