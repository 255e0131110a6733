package main

import (
	"context"
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
	trustFlags
	revocationFlags
	SenderCheck verify.SenderCheck // --sender-check: strict, warn or off
	MinDigest   string             // --min-digest: sha1 or sha256, with --trust
	dateFlags                      // --max-clock-skew, --strict-date, with --trust
	Require     []string           // --require: signed, encrypted, signed-inner
	Verbose     bool               // -v: one line per layer on standard error
	informFlags
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
		Use:   "decrypt {--key <file> --cert <file> | --p12 <file> | --pkcs11 <uri>} [flags] [<path>...]",
		Short: "Decrypt an S/MIME encrypted message",
		Long: `Decrypt a message as the guide's Figure 1.19 and Chapter 6 "Viewing an Encrypted
E-Mail Message" describe: find the recipient entry that names your certificate
(by issuer and serial number, or subject key identifier), decrypt the session key
with your private key, and decrypt the message. --try-all tries the key on every
entry when none names the certificate.

It reads application/pkcs7-mime enveloped-data and authEnveloped-data (AES-GCM),
with AES-CBC and AES-GCM, and 3DES, DES and RC2 from older clients (with a warning),
sent with RSA PKCS#1 v1.5, RSA-OAEP or ECDH key management. The output is the
outer header fields followed by the decrypted MIME entity; nothing is written
unless the whole message decrypted and, for AES-GCM, its tag verified. A message
not addressed to you, modified, truncated or malformed exits with status 1.

With --trust, decrypt opens layered messages in one call, as the guide's triple
wrap needs (RFC 2634: signed, encrypted, signed again), up to 8 layers: every
signed layer, clear or opaque, inside or outside the encryption, is checked as
verify checks a message (with the same --at, --crl, --revocation and
--sender-check flags) and every encrypted layer is decrypted with your key. The
content is written only if every layer opened and every signature is valid; the
error names the failing layer, -v prints one line per layer on standard error,
and --json prints verify's JSON object with its "layers" list. --require signed,
encrypted or signed-inner (a signature inside the encryption) fails a message
without that layer. A message that is only encrypted is decrypted with --trust
too, with a warning that it is not signed: nothing vouches for its sender, so
--json says "valid": false with no signers and --annotate smime=none (never
pass); --require signed refuses it. Without --trust, decrypt opens one encrypted
layer and leaves any signature inside it for verify; signed layers over the
encryption (a gateway that signed the encrypted message, a signature that no
longer verifies) are taken off without being checked, with a warning naming
them, so the plaintext can still be had; with --trust a failing outer layer
fails the message. With --trust, the S/MIME
capabilities the signers of a valid message advertised are remembered in
--capabilities-db, as verify does, for encrypt to choose the cipher.

The message is written with the line ends of the message read (--eol input, the
default: LF in, LF out); --eol lf or crlf chooses. --min-digest, --max-clock-skew
and --strict-date apply to the signed layers --trust checks, as in verify.

Header fields protected inside the encryption (RFC 9788, encrypt or triple-wrap
--protect-headers) replace the outer ones in the output, so a Subject hidden as
"[...]" comes back; with --trust they are compared with the outer header as
verify does, and --json lists them under "protected_headers".

--annotate is filter mode, for procmail and Sieve, and needs --trust: the
message is written with an Authentication-Results header field (RFC 8601,
method smime of RFC 7281) added at the top of its header, reporting every
signed layer as verify --annotate does. When every layer opened and every
signature passed, what is written is the decrypted message; otherwise it is
the message as received, unchanged apart from the field. --authserv-id names
this host in the field (default: the host name). The exit status is 0
whenever the message was written, whatever the verdict: the verdict is in
the field, and the reason still goes to standard error. Only when nothing
could be written (a bad flag, an unreadable key or file, an unwritable --out,
a full or missing TMPDIR: 2, or 75 where trying again can help) is it
non-zero, and then nothing is written. --annotate can't be used with --json.

Batches: with <path> arguments and --trust, decrypt opens every message they
hold as it opens one with --trust, and prints one result per message, as
verify <path>... does and with the same inputs (files, directories searched
for --glob, Maildirs, mbox files; "-" for standard input), order, --jobs,
--json lines, --junit, --expect, --skip-unsigned, summary line, progress bar,
--quiet and exit status. --trust is required: a batch says of every message
whether it passed, and without --trust the signatures inside would go
unchecked. No plaintext is written unless --out-dir names a directory:
standard output holds the results, and many messages can't share one --out.
With --out-dir, each message that passed is written to a file of its own,
DIR/<its path as given, without a leading "/" or ".." elements>, with "#N"
after an mbox's name (--out-dir plain ~/Maildir writes
plain/home/you/Maildir/cur/...), mode 0600 in directories of mode 0700,
through a temporary file that gets its name only when it is complete. A name
that is taken already is never written over, nor a symbolic link under DIR
followed out of it: that message is an error (exit status 2), so a second run
into the same directory writes nothing. DIR itself is not read as input, and
--json gives each file as "out". --out, --annotate and -v can't be used with
a batch, nor --out-dir with standard input.

A bare CMS file (DER, PEM or bare base64: a saved smime.p7m, openssl cms
-encrypt -outform DER) is detected and decrypted as such, and its content
written as it is; --inform smime, der or pem forces a form, and with --trust
--signer names the signer of a bare signed layer. Content encrypted
without a MIME header is a body with RFC 2045's defaults: the blank line is
written between the header and it; under a CBC cipher such a body must be
text, as garbage is refused like a wrong key.`,
		Example: `  # Decrypt with a PKCS#12 file.
  smimectl decrypt --p12 bob.p12 --pass-file pass < sealed.eml > plain.eml

  # Decrypt with the key on a smart card; only a card key is accepted.
  smimectl decrypt --smartcard-only --pkcs11 'pkcs11:token=My%20Card;object=Bob?module-path=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so' < sealed.eml

  # Show who the message is for and how it was encrypted.
  smimectl decrypt --key bob.key --cert bob.crt --json --in sealed.eml | jq .recipients

  # Open a triple-wrapped message, checking both signatures.
  smimectl decrypt --p12 bob.p12 --pass-file pass --trust root.crt --require signed-inner -v < triple.eml

  # Decrypt every message of a Maildir into plain/, checking every signature.
  smimectl decrypt --p12 bob.p12 --pass-file pass --trust root.crt --out-dir plain ~/Maildir

  # In a procmail recipe: decrypt what can be, annotate everything.
  :0 fw
  | smimectl decrypt --annotate --p12 bob.p12 --pass-file pass --trust root.crt`,
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
	opts.trustFlags.addFlags(fs)
	opts.revocationFlags.addFlags(fs)
	textFlag(fs, &opts.SenderCheck, "sender-check", senderChecks,
		"with --trust: a From or Sender mailbox missing from every signer's certificate: strict fails, warn warns, off does not compare")
	addMinDigestFlag(fs, &opts.MinDigest)
	opts.dateFlags.addFlags(fs)
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
	var w io.Writer = io.Discard
	commit, abort := func() error { return nil }, func() {}
	if !opts.JSON || !isStdio(opts.Out) {
		w, commit, abort = openOutputMode(e, opts.Out, modePrivate)
		if _, err := w.Write(nil); err != nil {
			return err
		}
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
		res.Warnings = append([]string{verify.UnwrappedWarning(layers)}, res.Warnings...)
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
	for _, warning := range res.Warnings {
		warn(e.Stderr, "%s", warning)
	}
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
	vo := &verifyOptions{trustFlags: opts.trustFlags, revocationFlags: opts.revocationFlags,
		SenderCheck: opts.SenderCheck, Require: opts.Require, MinDigest: opts.MinDigest, dateFlags: opts.dateFlags,
		informFlags: opts.informFlags, Verbose: opts.Verbose, env: e}
	vopts, err := vo.verifyOptions()
	if err != nil {
		return err
	}
	vopts.Decrypt = id
	// decrypt reads encrypted-only mail too; the result then has no signers and
	// is not valid (--require signed refuses it).
	vopts.AllowUnsigned = true
	in, err := openInput(e, opts.In)
	if err != nil {
		return err
	}
	defer in.Close()
	var w io.Writer = io.Discard
	commit, abort := func() error { return nil }, func() {}
	if !opts.JSON || !isStdio(opts.Out) {
		w, commit, abort = openOutputMode(e, opts.Out, modePrivate)
		if _, err := w.Write(nil); err != nil {
			return err
		}
	}
	rd, w, end := opts.eolFlag.apply(in, w)
	res, verr := verify.Open(context.Background(), w, rd, vopts)
	if verr == nil {
		verr = end()
	}
	if res != nil {
		for _, warning := range res.Warnings {
			warn(e.Stderr, "%s", warning)
		}
		if opts.Verbose {
			reportLayers(e.Stderr, res)
		}
	}
	// A fault of this machine is no result on the message: no JSON object
	// with "valid": false for it, only the error (exit 2 or 75).
	if opts.JSON && localFault(verr) == nil {
		if err := printJSON(e.Stdout, opts.In, res, verr, vopts); err != nil {
			abort()
			return err
		}
	}
	if verr != nil {
		abort()
		return verr
	}
	learnCapabilities(e, &opts.capsFlags, res)
	return commit()
}
